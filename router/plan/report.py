"""The board's monthly report: contacts, the promise, feedback, activities, the pipeline, campaigns and targets.

One set of figures (`build`) rendered as Markdown for the agenda (`markdown`) and as the leads' printable page.
Contacts, the promise and feedback are the impact page's own figures for the month (the same rollups, the same
small-count rule), so the report and `/api/impact` never disagree.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from sqlalchemy import select
from sqlalchemy.orm import Session

from router import texts
from router.casework import directory
from router.casework.corrections import deidentify, known_names
from router.impact import rollups
from router.plan import leads, target
from router.sanitize import quoted
from router.storage.models import Case, CaseEvent, Survey
from router.texts import LOCALES

LOW_SCORE = 2
# The report's words are the catalogue's `report.<key>`.
MEASURE_WORD = {"contacts": "contacts_m", "satisfaction": "satisfaction_m", "jobs": "jobs"}


def word(key: str, lang: str) -> str:
    """The report's word for `key` (a heading, a channel, an activity kind, a stage) in `lang`."""
    return texts.word(key, lang, "report.")


def build(session: Session, settings, month: str, now: datetime) -> dict[str, Any]:
    """Every figure of the month's report as data."""
    threshold = settings.impact_min_count
    year, mon = (int(x) for x in month.split("-"))
    start, end = target.period_of(year, mon)
    first_utc, end_utc = rollups.month_bounds(month, settings.timezone)
    by_channel = rollups.figures(session, month, month, threshold, group="channel")
    by_campaign = rollups.figures(session, month, month, threshold, group="campaign")
    answered = list(session.scalars(select(Survey).where(Survey.answered_at >= first_utc, Survey.answered_at < end_utc)
                                    .order_by(Survey.answered_at)))
    # An agenda's attachment may become a public document: the customer's own name, company, email, phone number
    # or ID in a comment is replaced, as in the NLU corrections.
    said = {s.id: deidentify(s.comment, **known_names(s.case)) if s.comment else None for s in answered}
    low = []
    for s in answered:
        if s.score is not None and s.score <= LOW_SCORE:
            done = session.scalars(select(CaseEvent).where(CaseEvent.case_id == s.case_id,
                                                           CaseEvent.kind.in_(("note", "message")),
                                                           CaseEvent.created_at >= s.answered_at)
                                   .order_by(CaseEvent.id)).all()
            case = session.get_one(Case, s.case_id)
            low.append({"ref": case.ref, "topic": s.topic, "score": s.score, "comment": said[s.id],
                        "done": [deidentify(e.text, **known_names(case)) for e in done]})
    return {
        "month": month, "threshold": threshold,
        "contacts": by_channel["total"]["contacts"],
        "by_channel": {g["key"]: g["contacts"] for g in by_channel["groups"]},
        "cases": by_channel["total"]["cases"], "in_time_share": by_channel["total"]["in_time_share"],
        "median_hours_to_take_up": by_channel["total"]["median_hours_to_take_up"],
        "satisfaction": by_channel["total"]["satisfaction"], "answers": by_channel["total"]["answers"],
        "response_rate": by_channel["total"]["response_rate"],
        "comments": [{"score": s.score, "topic": s.topic, "comment": said[s.id]} for s in answered if s.comment],
        "topics": {t.key: t.labels for t in directory.topic_labels(session)},
        "low_scores": low,
        "activities": by_channel["activities"], "event_participants": by_channel["event_participants"],
        "pipeline": leads.summary(session, start, end),
        "campaigns": by_campaign["groups"],
        "targets": target.progress(session, month, month, now, settings),
    }


def _n(value: Any, lang: str, digits: int = 0) -> str:
    """A figure as the language writes it; a hidden small count as "alle 5"; nothing as "–"."""
    if value is None:
        return "–"
    if isinstance(value, str):
        if value.startswith("<"):
            return word("hidden", lang).format(n=value[1:].strip())
        value = int(value)
    fmt = "#,##0" if digits == 0 else "#,##0." + "0" * digits
    return format_decimal(value, format=fmt, locale=LOCALES[lang])


def share(value: Optional[float], lang: str) -> str:
    """A share as the language writes it: "71 %" (fi, sv), "71%" (en); "–" for none."""
    return "–" if value is None else format_percent(value, locale=LOCALES[lang])


def _measure(measure: str, value: Any, lang: str) -> str:
    if measure == "promise_kept_share":
        return share(value, lang)
    return _n(value, lang, 2 if measure == "satisfaction" else 0)


def rows(data: dict[str, Any], lang: str) -> dict[str, list[list[str]]]:
    """Every table of the report as rows of text (headers first): Markdown and the page print the same."""
    w = lambda k: word(k, lang)  # noqa: E731
    campaigns = [[w("campaigns"), w("contacts"), w("cases"), w("outcomes"), w("cost"), w("per_contact")]]
    for c in data["campaigns"]:
        campaigns.append([c["name"] or (w("none_campaign") if c["key"] == rollups.NO_CAMPAIGN else c["key"]),
                          _n(c["contacts"], lang), _n(c["cases"], lang), _n(c["outcomes"], lang),
                          _n(c["cost"], lang), _n(c["cost_per_contact"], lang, 2)])
    targets = [[w("measure"), w("target"), w("actual"), w("pace"), w("previous")]]
    for t in data["targets"]:
        name = w(MEASURE_WORD.get(t["measure"], t["measure"])) + (f" ({t['month']}/{t['year']})" if t["month"]
                                                                  else f" {t['year']}")
        pace = _measure(t["measure"], t["pace"], lang) + (f" {w('per_month')}" if t["measure"] in target.COUNTS
                                                          and t["pace"] is not None else "")
        targets.append([name, _measure(t["measure"], t["target"], lang), _measure(t["measure"], t["actual"], lang),
                        pace, _measure(t["measure"], t["previous"], lang)])
    p = data["pipeline"]
    return {
        "contacts": [[w("channel"), w("contacts")]]
        + [[w(k), _n(v, lang)] for k, v in data["by_channel"].items()] + [[w("total"), _n(data["contacts"], lang)]],
        "promise": [[w("cases"), _n(data["cases"], lang)], [w("in_time"), share(data["in_time_share"], lang)],
                    [w("median"), _n(data["median_hours_to_take_up"], lang, 1)]],
        "feedback": [[w("satisfaction"), _n(data["satisfaction"], lang, 2)], [w("answers"), _n(data["answers"], lang)],
                     [w("rate"), share(data["response_rate"], lang)]],
        "activities": [[w(k), _n(n, lang) + (f" ({_n(data['event_participants'], lang)} {w('participants')})"
                                             if k == "event" and n else "")] for k, n in data["activities"].items()],
        "pipeline": [[w("located_stage" if s == "located" else s), _n(n, lang)] for s, n in p["stages"].items()]
        + [[w("located"), _n(p["located"], lang)], [w("jobs"), _n(p["jobs"], lang)],
           [w("investment"), _n(p["investment_eur"], lang)]],
        "campaigns": campaigns, "targets": targets,
    }


def month_title(month: str, lang: str) -> str:
    """"lokakuu 2026", "oktober 2026", "October 2026": a month (YYYY-MM) in words."""
    year, mon = (int(x) for x in month.split("-"))
    return format_date(date(year, mon, 1), "LLLL yyyy", locale=LOCALES[lang])


def markdown(data: dict[str, Any], lang: str = "fi") -> str:
    """The report as Markdown, to attach to the board meeting's agenda."""
    w = lambda k: word(k, lang)  # noqa: E731
    tables = rows(data, lang)
    out = [f"# {w('title')}: {month_title(data['month'], lang)}", ""]

    def table(title: str, body: list[list[str]], header: bool = True) -> None:
        out.extend([f"## {title}", ""])
        head = body[0] if header else ["", ""]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "|".join("---" for _ in head) + "|")
        for r in (body[1:] if header else body):
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
        out.append("")

    table(w("contacts"), tables["contacts"])
    table(w("promise"), tables["promise"], header=False)
    table(w("feedback"), tables["feedback"], header=False)
    out.extend([f"### {w('comments')}", ""])
    topic = lambda key: data["topics"].get(key, {}).get(lang, key)  # noqa: E731
    # Customer text is quoted and escaped: a comment cannot add a heading, a link or markup to the report.
    out.extend([f"- {c['score'] or '–'}/5 ({topic(c['topic'])}): {quoted(c['comment'])}" for c in data["comments"]]
               or [w("no_comments")])
    out.extend(["", f"### {w('low')}", ""])
    out.extend([f"- {c['ref']} {c['score']}/5: {quoted(c['comment']) if c['comment'] else '–'} → "
                f"{'; '.join(quoted(d) for d in c['done']) or w('nothing_done')}"
                for c in data["low_scores"]] or [w("no_low")])
    out.append("")
    table(w("activities"), tables["activities"], header=False)
    table(w("pipeline"), tables["pipeline"], header=False)
    table(w("campaigns"), tables["campaigns"])
    if data["targets"]:
        table(w("targets"), tables["targets"])
    else:
        out.extend([f"## {w('targets')}", "", w("no_targets"), ""])
    return "\n".join(out)


def mail_to_leads(session: Session, settings, now: datetime) -> int:
    """Last month's report to every active lead and admin, in their language, through the outbox.

    The outbox key (month and person) makes it once per month and person, however many workers try.
    """
    from router.casework.promise import local_date
    from router.delivery.outbox import enqueue
    from router.storage.models import User

    month = rollups.shift_month(local_date(now, settings.timezone).strftime("%Y-%m"), -1)
    people = list(session.scalars(select(User).where(User.active.is_(True), User.role.in_(("lead", "admin")))))
    if not people:
        return 0
    rollups.refresh(session, [month], settings.timezone, now)
    data = build(session, settings, month, now)
    queued = 0
    for user in people:
        lang = user.language if user.language in LOCALES else "fi"
        link = f"{settings.public_base_url.rstrip('/')}/staff/report/board?month={month}&lang={lang}"
        queued += enqueue(session, key=f"board-report:{month}:{user.id}", kind="email", recipient=user.email,
                          subject=f"{settings.service_name}: {word('title', lang)} {month_title(month, lang)}",
                          body=f"{markdown(data, lang)}\n\n{link}\n", now=now) is not None
    return queued
