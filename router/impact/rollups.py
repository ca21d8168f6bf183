"""The agency's figures: monthly rollups kept by the worker, summed for any range; small counts suppressed."""
from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timezone
from typing import Any, Iterable, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from router.storage.models import (
    Activity,
    Call,
    Case,
    Conversation,
    ImpactFigure,
    ImpactRollup,
    Partner,
    Referral,
    Story,
    Survey,
    utcnow,
)

CHANNELS = ("web", "sms", "whatsapp", "voice", "email")
OVERFLOW_HOURS = 24 * 30  # take-up times beyond a month share one bucket
NO_CAMPAIGN = "none"  # the campaign group of contacts no campaign brought
NO_TOPIC = "none"  # the topic group of contacts never handed to a specialist
# Proactive encounters (the board's first target): visits, meetings, letters and calls; events are counted as
# "activities organised" on their own. Kept here, below router/plan/activity.py's KINDS, so the rollups need no more.
ACTIVITY_KINDS = ("company_visit", "entrepreneur_meeting", "letter", "phone_call", "event")
ENCOUNTER_KINDS = ACTIVITY_KINDS[:4]


# --- months -------------------------------------------------------------------------------------
def month_key(moment: datetime, tz: str) -> str:
    return moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz)).strftime("%Y-%m")


def month_bounds(month: str, tz: str) -> tuple[datetime, datetime]:
    """The month's first and next month's first moment, as naive UTC, in the agency's time zone."""
    year, mon = (int(x) for x in month.split("-"))
    zone = ZoneInfo(tz)
    start = datetime(year, mon, 1, tzinfo=zone)
    end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=zone)
    return (start.astimezone(timezone.utc).replace(tzinfo=None), end.astimezone(timezone.utc).replace(tzinfo=None))


def months_between(first: str, last: str) -> list[str]:
    year, mon = (int(x) for x in first.split("-"))
    out = []
    while f"{year:04d}-{mon:02d}" <= last:
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return out


def shift_month(month: str, by: int) -> str:
    """The month `by` months later (earlier when negative), never before 2000-01."""
    year, mon = (int(x) for x in month.split("-"))
    index = max(2000 * 12, year * 12 + (mon - 1) + by)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def valid_month(value: str) -> bool:
    try:
        year, mon = (int(x) for x in value.split("-"))
        return len(value) == 7 and value[4] == "-" and 2000 <= year <= 2100 and 1 <= mon <= 12
    except ValueError:
        return False


# --- pure figures -------------------------------------------------------------------------------
def median_hours(histogram: dict[str, int]) -> Optional[float]:
    """The median from an hour histogram ({"0": n, "1": n, …}); the bucket's middle, so ±0.5 h."""
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for hour in sorted(histogram, key=int):
        seen += histogram[hour]
        if seen * 2 >= total:
            return int(hour) + 0.5
    return None


def shown(n: Optional[int], threshold: int) -> Optional[str]:
    """A count as the public may see it: small numbers become "< threshold", the others are rounded to the nearest
    multiple of the threshold (0 stays 0), so a hidden count cannot be worked out by subtracting from a total.

    Hiding alone was not enough: a month's 28 contacts minus 6 + 7 + 12 shown for three channels gave the fourth
    (3). Rounded, each shown count is off by up to half the threshold, so any total minus any shown counts leaves
    every value from 1 to threshold − 1 possible for what is hidden. The rounding is the same for every range and
    grouping (a function of the count alone), so comparing two requests does not undo it either.
    """
    if n is None:
        return None
    if 0 < n < threshold:
        return f"< {threshold}"
    return str(rounded(n, threshold))


def rounded(n: int, base: int) -> int:
    """`n` to the nearest multiple of `base` (halves up); a base of 1 or less leaves it as it is."""
    return base * ((n + base // 2) // base) if base > 1 else n


def add_metrics(into: dict[str, Any], metrics: dict[str, Any]) -> None:
    for name, value in metrics.items():
        if isinstance(value, dict):
            bucket = into.setdefault(name, {})
            for k, v in value.items():
                bucket[k] = bucket.get(k, 0) + v
        else:
            into[name] = into.get(name, 0) + value


# --- rollups ------------------------------------------------------------------------------------
def compute_month(session: Session, month: str, tz: str) -> dict[tuple[str, str], dict[str, Any]]:
    """All of one month's rollup rows: (dimension, key) → metrics."""
    start, end = month_bounds(month, tz)
    rows: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)

    def bump(dim: str, key: str, name: str, n: int = 1) -> None:
        rows[(dim, key)][name] = rows[(dim, key)].get(name, 0) + n

    # A contact counts under the topic it was routed to: its conversation's first case's, or a call's own.
    routed = (select(Case.topic).where(Case.conversation_id == Conversation.id).order_by(Case.id).limit(1)
              .scalar_subquery())
    conversations = select(Conversation.channel, Conversation.campaign, routed.label("topic")).where(
        Conversation.created_at >= start, Conversation.created_at < end, Conversation.channel != "voice").subquery()
    for channel, source, topic, n in session.execute(
            select(conversations.c.channel, conversations.c.campaign, conversations.c.topic, func.count())
            .group_by(conversations.c.channel, conversations.c.campaign, conversations.c.topic)):
        bump("channel", channel, "contacts", n)
        bump("campaign", source or NO_CAMPAIGN, "contacts", n)
        bump("topic", topic or NO_TOPIC, "contacts", n)
        bump("total", "all", "contacts", n)
    for source, topic, n in session.execute(select(Call.campaign, Call.topic, func.count()).where(
            Call.created_at >= start, Call.created_at < end).group_by(Call.campaign, Call.topic)):
        bump("channel", "voice", "contacts", n)
        bump("campaign", source or NO_CAMPAIGN, "contacts", n)
        bump("topic", topic or NO_TOPIC, "contacts", n)
        bump("total", "all", "contacts", n)
    histograms: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for topic, channel, source, created, taken, in_time in session.execute(select(
            Case.topic, Case.channel, Case.campaign, Case.created_at, Case.taken_up_at, Case.taken_up_in_time)
            .where(Case.created_at >= start, Case.created_at < end)):
        for dim, key in (("topic", topic), ("channel", channel), ("campaign", source or NO_CAMPAIGN),
                         ("total", "all")):
            bump(dim, key, "cases")
            if taken is not None:
                bump(dim, key, "taken_up")
                bump(dim, key, "in_time", 1 if in_time else 0)
                if dim != "campaign":  # no median per campaign: its rows stay small (the page reads them all)
                    hours = min(OVERFLOW_HOURS, max(0, int((taken - created).total_seconds() // 3600)))
                    histograms[(dim, key)][str(hours)] += 1
    for key, histogram in histograms.items():
        rows[key]["hours"] = dict(histogram)
    for topic, n in session.execute(select(Survey.topic, func.count()).where(
            Survey.sent_at >= start, Survey.sent_at < end).group_by(Survey.topic)):
        for dim, key in (("topic", topic), ("total", "all")):
            bump(dim, key, "surveys", n)
    for topic, score in session.execute(select(Survey.topic, Survey.score).where(
            Survey.answered_at >= start, Survey.answered_at < end, Survey.score.is_not(None))):
        for dim, key in (("topic", topic), ("total", "all")):
            bump(dim, key, "answers")
            bump(dim, key, "score_sum", score)
            rows[(dim, key)].setdefault("scores", {})
            rows[(dim, key)]["scores"][str(score)] = rows[(dim, key)]["scores"].get(str(score), 0) + 1
    for outcome, source, n in session.execute(select(Case.outcome, Case.campaign, func.count()).where(
            Case.resolved_at >= start, Case.resolved_at < end, Case.outcome.is_not(None))
            .group_by(Case.outcome, Case.campaign)):
        bump("outcome", outcome, "count", n)
        bump("campaign", source or NO_CAMPAIGN, "outcomes", n)
    # Warm referrals by the partner's kind: sent in the month, and confirmed in it (in time or not).
    for kind, n in session.execute(select(Partner.kind, func.count()).join(Referral, Referral.partner_id == Partner.id)
                                   .where(Referral.sent_at >= start, Referral.sent_at < end).group_by(Partner.kind)):
        bump("referral", kind, "sent", n)
    for kind, in_time, n in session.execute(
            select(Partner.kind, Referral.confirmed_in_time, func.count())
            .join(Referral, Referral.partner_id == Partner.id)
            .where(Referral.confirmed_at >= start, Referral.confirmed_at < end)
            .group_by(Partner.kind, Referral.confirmed_in_time)):
        bump("referral", kind, "confirmed", n)
        bump("referral", kind, "in_time", n if in_time else 0)
    # Activities carry a local day already: the month's own days, whatever the time zone.
    first_day = date(int(month[:4]), int(month[5:]), 1)
    next_day = date(first_day.year + first_day.month // 12, first_day.month % 12 + 1, 1)
    for kind, n, people in session.execute(select(Activity.kind, func.count(),
                                                  func.coalesce(func.sum(Activity.participants), 0))
                                           .where(Activity.day >= first_day, Activity.day < next_day)
                                           .group_by(Activity.kind)):
        bump("activity", kind, "count", n)
        if people:
            bump("activity", kind, "participants", int(people))
        if kind in ENCOUNTER_KINDS:
            bump("total", "all", "encounters", n)
    served = session.scalar(select(func.count(func.distinct(func.coalesce(
        func.lower(Case.company), Case.customer_email, Case.customer_phone, Case.ref)))).where(
        Case.created_at >= start, Case.created_at < end)) or 0
    if served:
        bump("total", "all", "customers", served)
    return dict(rows)


def refresh(session: Session, months: Iterable[str], tz: str, now: Optional[datetime] = None) -> int:
    """Recompute the given months' rollups (delete and insert in one transaction); rows written."""
    written = 0
    for month in months:
        rows = compute_month(session, month, tz)
        session.execute(delete(ImpactRollup).where(ImpactRollup.month == month))
        session.add_all(ImpactRollup(month=month, dimension=d, key=k, metrics=m, refreshed_at=now or utcnow())
                        for (d, k), m in rows.items())
        written += len(rows)
    return written


def rebuild(session: Session, tz: str, now: Optional[datetime] = None) -> int:
    """Every month from the first contact to now."""
    first = session.scalar(select(func.min(Conversation.created_at)))
    first_case = session.scalar(select(func.min(Case.created_at)))
    first_activity = session.scalar(select(func.min(Activity.day)))  # the CRM's history may be older
    starts = [d for d in (first, first_case) if d] + ([datetime(first_activity.year, first_activity.month, 15)]
                                                       if first_activity else [])
    if not starts:
        return 0
    now = now or utcnow()
    return refresh(session, months_between(month_key(min(starts), tz), month_key(now, tz)), tz, now)


def refresh_if_old(session: Session, months: Iterable[str], now: datetime, tz: str) -> None:
    """Recompute the given months now unless the worker keeps them fresh anyway (a back-dated activity)."""
    old = sorted(set(months) - set(recent_months(now, tz)))
    if old:
        refresh(session, old, tz, now)


def recent_months(now: datetime, tz: str) -> list[str]:
    """This month and the last: what new activity (and late survey answers) can still change."""
    this = month_key(now, tz)
    return [shift_month(this, -1), this]


# --- reading ------------------------------------------------------------------------------------
def month_totals(session: Session, first: str, last: str) -> dict[str, dict[str, Any]]:
    """Each month's exact totals (contacts, cases, take-ups, answers…) in [first, last]: for internal reports only;
    what the public sees goes through `figures` and its small-count rule."""
    out: dict[str, dict[str, Any]] = {m: {} for m in months_between(first, last)}
    for month, metrics in session.execute(select(ImpactRollup.month, ImpactRollup.metrics).where(
            ImpactRollup.dimension == "total", ImpactRollup.month >= first, ImpactRollup.month <= last)):
        add_metrics(out[month], {k: v for k, v in metrics.items() if not isinstance(v, dict)})
    return out


def _derived(metrics: dict[str, Any], threshold: int) -> dict[str, Any]:
    cases, taken, answers = metrics.get("cases", 0), metrics.get("taken_up", 0), metrics.get("answers", 0)
    surveys = metrics.get("surveys", 0)
    enough_taken, enough_answers = taken >= threshold, answers >= threshold
    return {
        "contacts": shown(metrics.get("contacts", 0), threshold),
        "cases": shown(cases, threshold),
        "in_time_share": round(metrics.get("in_time", 0) / taken, 3) if enough_taken else None,
        "median_hours_to_take_up": median_hours(metrics.get("hours", {})) if enough_taken else None,
        "answers": shown(answers, threshold),
        "response_rate": round(answers / surveys, 3) if enough_answers and surveys else None,
        "satisfaction": round(metrics.get("score_sum", 0) / answers, 2) if enough_answers else None,
        "scores": {s: shown(metrics.get("scores", {}).get(s, 0), threshold) for s in "12345"} if enough_answers
        else None,
    }


def figures(session: Session, first: str, last: str, threshold: int, group: str = "month") -> dict[str, Any]:
    """The public figures for a month range, grouped by month, channel, topic or campaign."""
    return figures_by(session, first, last, threshold, (group,))[group]


def figures_by(session: Session, first: str, last: str, threshold: int, groups: Iterable[str]) -> dict[str, Any]:
    """`figures` for several groupings from one read of the range's rollups (the impact page shows three)."""
    groups = tuple(groups)
    # Only the dimensions these groupings use: decoding the rows' JSON is most of a request's time, and the
    # campaign rows are as many as all the others when nobody asked for them.
    wanted = {"total", "channel", "topic", "outcome", "activity", "referral", *groups}
    rows = session.execute(select(ImpactRollup.month, ImpactRollup.dimension, ImpactRollup.key, ImpactRollup.metrics)
                           .where(ImpactRollup.month >= first, ImpactRollup.month <= last,
                                  ImpactRollup.dimension.in_(sorted(wanted)))).all()
    # One pass: what every grouping shares (the total, the month × channel and month × topic tables, outcomes,
    # activities) is summed once, and each grouping's own rows beside it.
    total: dict[str, Any] = {}
    by: dict[str, dict[str, dict[str, Any]]] = {group: defaultdict(dict) for group in groups}
    month_channel: dict[str, dict[str, int]] = defaultdict(dict)
    month_topic: dict[str, dict[str, int]] = defaultdict(dict)
    outcomes: dict[str, int] = defaultdict(int)
    activities: dict[str, int] = defaultdict(int)
    referrals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    participants = 0
    for month, dimension, key, metrics in rows:
        if dimension == "total":
            add_metrics(total, metrics)
            if "month" in by:
                add_metrics(by["month"][month], metrics)
        elif dimension in by:
            add_metrics(by[dimension][key], metrics)
        if dimension == "channel":
            month_channel[month][key] = month_channel[month].get(key, 0) + metrics.get("contacts", 0)
        elif dimension == "topic" and key != NO_TOPIC:  # cases by topic: what was not handed on has none
            month_topic[month][key] = month_topic[month].get(key, 0) + metrics.get("cases", 0)
        elif dimension == "outcome":
            outcomes[key] += metrics.get("count", 0)
        elif dimension == "activity":
            activities[key] += metrics.get("count", 0)
            participants += metrics.get("participants", 0)
        elif dimension == "referral":
            for name in ("sent", "confirmed", "in_time"):
                referrals[key][name] += metrics.get(name, 0)
                referrals[""][name] += metrics.get(name, 0)
    shared = {
        "total": _derived(total, threshold),
        "contacts_by_month_and_channel": {m: {c: shown(n, threshold) for c, n in sorted(v.items())}
                                          for m, v in sorted(month_channel.items())},
        "cases_by_month_and_topic": {m: {t: shown(n, threshold) for t, n in sorted(v.items())}
                                     for m, v in sorted(month_topic.items())},
        "outcomes": {k: shown(n, threshold) for k, n in sorted(outcomes.items())},
        "customers": total.get("customers", 0),
        "customers_shown": shown(total.get("customers", 0), threshold),
        # Activities are the agency's own work, not people: exact.
        "activities": {k: activities.get(k, 0) for k in ACTIVITY_KINDS}, "event_participants": participants,
        "referrals": referral_figures(referrals, threshold),
    }
    return {group: {"from": first, "to": last, "group": group, "threshold": threshold, **_copy(shared),
                    "groups": _groups(session, by[group], threshold, group)} for group in groups}


def referral_figures(counts: dict[str, dict[str, int]], threshold: int) -> dict[str, Any]:
    """Referrals sent to partners, confirmed by them and confirmed in time: in all and by the partner's kind."""
    def three(c: dict[str, int]) -> dict[str, Optional[str]]:
        return {"sent": shown(c.get("sent", 0), threshold), "confirmed": shown(c.get("confirmed", 0), threshold),
                "confirmed_in_time": shown(c.get("in_time", 0), threshold)}

    every = counts.get("", {})
    return {**three(every), "by_partner_kind": {k: three(v) for k, v in sorted(counts.items()) if k}}


def _copy(shared: dict[str, Any]) -> dict[str, Any]:
    """Each grouping's own copy of the shared figures: a caller may add to one (the API adds the targets)."""
    return {k: dict(v) if isinstance(v, dict) else v for k, v in shared.items()}


def _groups(session: Session, by: dict[str, dict[str, Any]], threshold: int, group: str) -> list[dict[str, Any]]:
    if group == "campaign":
        return _campaign_groups(session, by, threshold)
    return [{"key": key, **_derived(metrics, threshold)} for key, metrics in sorted(by.items())]


def _campaign_groups(session: Session, by: dict[str, dict[str, Any]], threshold: int) -> list[dict[str, Any]]:
    """Per campaign: the usual figures, its outcomes, its cost and the cost per (shown) contact.

    The cost per contact divides by the contacts as shown (rounded), so the exact count cannot be worked out from
    the cost; "none" is everything no campaign brought.
    """
    from router.storage.models import Campaign

    known = {c.code: c for c in session.scalars(select(Campaign))}
    out = []
    for key in sorted(set(by) | set(known), key=lambda k: (k == NO_CAMPAIGN, k)):
        metrics = by.get(key, {})
        row = {"key": key, **_derived(metrics, threshold), "outcomes": shown(metrics.get("outcomes", 0), threshold)}
        c = known.get(key)
        contacts = metrics.get("contacts", 0)
        shown_contacts = rounded(contacts, threshold) if contacts >= threshold else 0
        row.update({"name": c.name if c else None, "starts": c.starts.isoformat() if c else None,
                    "ends": c.ends.isoformat() if c else None,
                    "cost": None if c is None or c.cost_cents is None else c.cost_cents / 100,
                    "cost_per_contact": round(c.cost_cents / 100 / shown_contacts, 2)
                    if c is not None and c.cost_cents is not None and shown_contacts else None})
        out.append(row)
    return out


def budget(session: Session, year: int, customers: int) -> Optional[dict[str, Any]]:
    figure = session.get(ImpactFigure, year)
    if figure is None:
        return None
    # Per customer only when the count is not one the page would hide anyway.
    per = round(figure.spend_eur / customers) if figure.spend_eur and customers >= 5 else None
    return {"year": year, "budget_eur": figure.budget_eur, "spend_eur": figure.spend_eur, "note": figure.note,
            "notes": {"fi": figure.note, **(figure.notes or {})}, "cost_per_customer_eur": per}


def published_stories(session: Session, language: str) -> list[Story]:
    return list(session.scalars(select(Story).where(Story.published.is_(True))
                                .order_by((Story.language == language).desc(), Story.created_at.desc()).limit(10)))


def published_comments(session: Session, limit: int = 10) -> list[Survey]:
    return list(session.scalars(select(Survey).where(Survey.published.is_(True), Survey.comment.is_not(None))
                                .order_by(Survey.answered_at.desc()).limit(limit)))
