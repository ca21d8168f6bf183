"""The board's targets against actuals: yearly (or monthly) targets per measure, the actual to date, the pace
still needed and the same period of the previous year."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Optional

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from router.casework.promise import local_date
from router.impact import rollups
from router.plan import FieldError
from router.storage.models import ImpactRollup, Lead, Target, utcnow

# Counted measures add up over time; level measures (a share, an average) are held over the period.
COUNTS = ("encounters", "companies_located", "jobs", "contacts")
LEVELS = {"promise_kept_share": (0.0, 1.0), "satisfaction": (1.0, 5.0)}
MEASURES = COUNTS + tuple(LEVELS)
# Measures read from the monthly rollups (whole months); the others are counted by the day.
ROLLED = ("encounters", "contacts", "promise_kept_share", "satisfaction")


class TargetError(FieldError):
    """A target that cannot be set as given."""


def set_target(session: Session, measure: str, year: int, value: float, month: int = 0,
               now: Optional[datetime] = None) -> Target:
    """Add or change one target in the caller's transaction."""
    if measure not in MEASURES:
        raise TargetError(f"measure is one of {', '.join(MEASURES)}", "measure", "choose")
    if not 2000 <= year <= 2100 or not 0 <= month <= 12:
        raise TargetError("year is 2000–2100 and month 1–12 (or 0 for the whole year)", "year", "period")
    low, high = LEVELS.get(measure, (0.0, 1e9))
    if not low <= value <= high:
        raise TargetError(f"{measure} is from {low:g} to {high:g}"
                          + (" (a share: 0.9 is 90 %)" if measure == "promise_kept_share" else ""), "value",
                          "share" if measure == "promise_kept_share" else "level", low=low, high=high)
    row = session.scalar(select(Target).where(Target.measure == measure, Target.year == year, Target.month == month))
    if row is None:
        row = Target(measure=measure, year=year, month=month, value=value)
        session.add(row)
    row.value, row.updated_at = float(value), now or utcnow()
    session.flush()
    return row


# --- pure arithmetic ----------------------------------------------------------------------------
def period_of(year: int, month: int = 0) -> tuple[date, date]:
    """A target's period as [first day, first day after)."""
    if month:
        return date(year, month, 1), date(year + month // 12, month % 12 + 1, 1)
    return date(year, 1, 1), date(year + 1, 1, 1)


def elapsed(start: date, end: date, through: date) -> float:
    """The share of [start, end) gone by `through` (exclusive), 0–1."""
    return min(1.0, max(0.0, (through - start).days / (end - start).days))


def a_year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def pace(measure: str, target: float, actual: Optional[float], gone: float, months: int) -> Optional[float]:
    """What the rest of the period needs to reach the target; None once the period is over.

    A count: how many per month for the months left (the target less the actual, spread evenly). A level: the
    share or average the rest of the period must hold, with as much volume as so far, so that the whole period
    ends on the target ((target − gone × actual) / (1 − gone)); above the scale's top it can no longer be reached.
    """
    if gone >= 1.0:
        return None
    if measure in LEVELS:
        if actual is None or gone == 0:
            return round(target, 3)
        return round(max(0.0, (target - gone * actual) / (1 - gone)), 3)
    remaining = max(0.0, target - (actual or 0))
    return round(remaining / (months * (1 - gone)), 1)


def expected(measure: str, target: float, gone: float) -> float:
    """Where the actual should be by now to be on course: a straight line for counts, the level for levels."""
    return round(target if measure in LEVELS else target * gone, 3)


# --- actuals ------------------------------------------------------------------------------------
Window = tuple[str, date, date]  # a measure over [start, end), days in the agency's time zone


def actuals(session: Session, windows: list[Window], threshold: int) -> list[Optional[float]]:
    """Each window's measure, in at most two statements whatever the number of windows: the rollups of every
    month the windows touch (whole months), and one conditional count of located leads (by the day)."""
    out: list[Optional[float]] = [0 if m in COUNTS else None for m, s, e in windows]
    live = [(i, m, s, e) for i, (m, s, e) in enumerate(windows) if e > s]
    located = [(i, m, s, e) for i, m, s, e in live if m in ("companies_located", "jobs")]
    if located:
        sums = [func.coalesce(func.sum(case((and_(Lead.located_on >= s, Lead.located_on < e),
                                            1 if m == "companies_located" else func.coalesce(Lead.jobs, 0)),
                                           else_=0)), 0) for _, m, s, e in located]
        found = session.execute(select(*sums).where(
            Lead.stage == "located", Lead.located_on >= min(s for _, _, s, _ in located),
            Lead.located_on < max(e for _, _, _, e in located))).one()
        for (i, _, _, _), n in zip(located, found):
            out[i] = int(n)
    rolled = [(i, m, _months(s, e)) for i, m, s, e in live if m in ROLLED]
    if rolled:
        wanted = sorted({month for _, _, months in rolled for month in months})
        by_month: dict[str, list] = {}
        # Only the five numbers, not the rows' take-up histograms: reading those was most of the cost.
        names = ("contacts", "taken_up", "in_time", "answers", "score_sum", "encounters")
        for month, *values in session.execute(select(
                ImpactRollup.month, *(ImpactRollup.metrics[n].as_integer() for n in names)).where(
                ImpactRollup.dimension == "total", ImpactRollup.month.in_(wanted))):
            by_month.setdefault(month, []).append({n: v or 0 for n, v in zip(names, values)})
        for i, measure, months in rolled:
            total: dict[str, Any] = {}
            for month in months:
                for metrics in by_month.get(month, []):
                    rollups.add_metrics(total, metrics)
            out[i] = _from_rollup(measure, total, threshold)
    return out


def _months(start: date, end: date) -> list[str]:
    """Every month the window touches: the rollups are monthly."""
    return rollups.months_between(start.strftime("%Y-%m"), (end - timedelta(days=1)).strftime("%Y-%m"))


def _from_rollup(measure: str, total: dict[str, Any], threshold: int) -> Optional[float]:
    if measure == "encounters":
        return total.get("encounters", 0)  # the agency's own work, not people: exact
    if measure == "contacts":
        n = total.get("contacts", 0)
        return None if 0 < n < threshold else rollups.rounded(n, threshold)
    if measure == "promise_kept_share":
        taken = total.get("taken_up", 0)
        return round(total.get("in_time", 0) / taken, 3) if taken >= threshold and taken else None
    answers = total.get("answers", 0)
    return round(total.get("score_sum", 0) / answers, 2) if answers >= threshold and answers else None


def progress(session: Session, first: str, last: str, now: datetime, settings,
             threshold: Optional[int] = None) -> list[dict[str, Any]]:
    """Each target of the years (or months) in [first, last] with its actual through the end of `last` (or
    today, if sooner), the pace needed from there and the same stretch of the previous year.

    `threshold`: the public small-count rule (IMPACT_MIN_COUNT) unless given; staff pages pass 1 (exact)."""
    # `through` is exclusive: the day after the last one counted.
    y1, m1 = (int(x) for x in last.split("-"))
    through = min(period_of(y1, m1)[1], local_date(now, settings.timezone) + timedelta(days=1))
    rows = [t for t in session.scalars(select(Target).where(Target.year >= int(first[:4]), Target.year <= int(last[:4]))
                                       .order_by(Target.year, Target.month, Target.measure))
            if not t.month or first <= f"{t.year:04d}-{t.month:02d}" <= last]
    spans = []
    windows: list[Window] = []
    for t in rows:
        start, end = period_of(t.year, t.month)
        until = min(end, max(start, through))
        spans.append((start, until, elapsed(start, end, until)))
        windows += [(t.measure, start, until), (t.measure, a_year_earlier(start), a_year_earlier(until))]
    values = actuals(session, windows, settings.impact_min_count if threshold is None else threshold)
    out = []
    for n, (t, (start, until, gone)) in enumerate(zip(rows, spans)):
        end = period_of(t.year, t.month)[1]
        value, before = values[2 * n], values[2 * n + 1]
        out.append({"measure": t.measure, "year": t.year, "month": t.month or None, "target": t.value,
                    "actual": value, "pace": pace(t.measure, t.value, value, gone, 1 if t.month else 12),
                    "expected": expected(t.measure, t.value, gone), "previous": before,
                    "through": (until - timedelta(days=1)).isoformat() if until > start else None,
                    "ends": (end - timedelta(days=1)).isoformat()})
    return out
