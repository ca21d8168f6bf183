"""The board's monthly report: contacts, the promise, feedback, activities, the pipeline, campaigns and targets.

One set of figures (`build`) rendered as Markdown for the agenda (`markdown`) and as the leads' printable page.
Contacts, the promise and feedback are the impact page's own figures for the month (the same rollups, the same
small-count rule), so the report and `/api/impact` never disagree.
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Optional

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from router import formats, texts
from router.casework import directory
from router.casework.corrections import deidentify, known_names
from router.casework.handoff import ACCESSIBILITY
from router.impact import charts, rollups
from router.plan import leads, target
from router.sanitize import quoted
from router.storage.models import Case, CaseEvent, Survey
from router.texts import LOCALES

LOW_SCORE = 2
# The report's words are the catalogue's `report.<key>`.
EXACT = 1  # the rollups' threshold that hides and rounds nothing
MEASURE_WORD = {"contacts": "contacts_m", "satisfaction": "satisfaction_m", "jobs": "jobs"}


def word(key: str, lang: str) -> str:
    """The report's word for `key` (a heading, a channel, an activity kind, a stage) in `lang`."""
    return texts.word(key, lang, "report.")


def build(session: Session, settings, month: str, now: datetime) -> dict[str, Any]:
    """Every figure of the month's report as data, exact: hiding small counts is for what the public sees."""
    year, mon = (int(x) for x in month.split("-"))
    start, end = target.period_of(year, mon)
    first_utc, end_utc = rollups.month_bounds(month, settings.timezone)
    by_channel = rollups.figures(session, month, month, EXACT, group="channel")
    by_campaign = rollups.figures(session, month, month, EXACT, group="campaign")
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
    earlier = rollups.shift_month(month, -12)
    totals = rollups.month_totals(session, rollups.shift_month(month, -23), month)
    this_year = rollups.months_between(f"{year:04d}-01", month)
    contacts_this_year = sum(totals[m].get("contacts", 0) for m in this_year)
    return {
        "month": month,
        "promise": month_figures(month, totals[month]), "a_year_earlier": month_figures(earlier, totals[earlier]),
        "trend": [month_figures(m, totals[m]) for m in rollups.months_between(rollups.shift_month(month, -11), month)],
        "budget": spending(rollups.budget(session, year, 0), contacts_this_year),
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
        "targets": target.progress(session, month, month, now, settings, threshold=EXACT),
        "accessibility": accessibility_feedback(session, first_utc, end_utc),
        "referrals": by_channel["referrals"],
    }


def accessibility_feedback(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """Accessibility feedback received in [start, end) and how much of it was answered within its 14 days."""
    received = session.scalars(select(Case).where(Case.topic == ACCESSIBILITY, Case.created_at >= start,
                                                  Case.created_at < end)).all()
    answered = set(session.scalars(
        select(CaseEvent.case_id).join(Case, Case.id == CaseEvent.case_id).distinct()
        .where(CaseEvent.case_id.in_([c.id for c in received]), CaseEvent.kind == "message",
               CaseEvent.created_at <= Case.due_at)))
    return {"received": len(received), "answered_in_time": len(answered)}


def month_figures(month: str, totals: dict[str, Any]) -> dict[str, Any]:
    """A month's exact figures from its rollup totals: promise kept is the take-ups in time over all take-ups."""
    taken, answers = totals.get("taken_up", 0), totals.get("answers", 0)
    return {"month": month, "contacts": totals.get("contacts", 0), "cases": totals.get("cases", 0),
            "taken_up": taken, "in_time": totals.get("in_time", 0),
            "in_time_share": round(totals.get("in_time", 0) / taken, 3) if taken else None, "answers": answers,
            "satisfaction": round(totals.get("score_sum", 0) / answers, 2) if answers else None}


def spending(figure: Optional[dict[str, Any]], contacts: int) -> Optional[dict[str, Any]]:
    """The year's budget and spend so far (entered at /staff/admin/impact), and what one contact has cost."""
    if figure is None:
        return None
    spend = figure["spend_eur"]
    return {"year": figure["year"], "budget_eur": figure["budget_eur"], "spend_eur": spend, "contacts": contacts,
            "spent_share": round(spend / figure["budget_eur"], 3) if spend is not None and figure["budget_eur"]
            else None,
            "cost_per_contact_eur": round(spend / contacts, 2) if spend and contacts else None}


def _n(value: Any, lang: str, digits: int = 0) -> str:
    """A figure as the language writes it; nothing as "–"."""
    return formats.number(value, lang, digits)


share = formats.share
month_title = formats.month


def measure_value(measure: str, value: Any, lang: str) -> str:
    """A target's figure as its measure reads: a share as a percentage, satisfaction with two decimals."""
    if measure == "promise_kept_share":
        return share(value, lang)
    return _n(value, lang, 2 if measure == "satisfaction" else 0)


def pace_words(t: dict[str, Any], lang: str) -> str:
    """A target's pace as a sentence: "400 by 31 Dec 2026 needs 31 a month from now on"."""
    if t["pace"] is None:
        return word("pace_over", lang)
    if t["measure"] in target.COUNTS:
        if t["pace"] <= 0:
            return word("pace_reached", lang)
        return texts.say("report.pace_count", lang, target=measure_value(t["measure"], t["target"], lang),
                         end=formats.date_text(date.fromisoformat(t["ends"]), lang),
                         pace=_n(t["pace"], lang, 0 if t["pace"] >= 10 else 1))
    return texts.say("report.pace_level", lang, pace=measure_value(t["measure"], t["pace"], lang))


def rows(data: dict[str, Any], lang: str) -> dict[str, list[list[str]]]:
    """Every table of the report as rows of text (headers first): the page, the email and Markdown print the same."""
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
        targets.append([name, *(measure_value(t["measure"], t[k], lang) for k in ("target", "actual")),
                        pace_words(t, lang), measure_value(t["measure"], t["previous"], lang)])
    p, now, then = data["pipeline"], data["promise"], data["a_year_earlier"]
    kept = share(now["in_time_share"], lang) + (
        f" ({texts.say('report.taken_of', lang, in_time=_n(now['in_time'], lang), taken=_n(now['taken_up'], lang))})"
        if now["taken_up"] else "")
    money = data["budget"]
    return {
        "contacts": [[w("channel"), w("contacts")]]
        + [[w(k), _n(v, lang)] for k, v in data["by_channel"].items()] + [[w("total"), _n(data["contacts"], lang)]],
        "promise": [[w("cases"), _n(data["cases"], lang)], [w("in_time"), kept],
                    [w("median"), _n(data["median_hours_to_take_up"], lang, 1)],
                    [w("referrals"), texts.say("report.referral_counts", lang,
                                               sent=_n(data["referrals"]["sent"], lang),
                                               confirmed=_n(data["referrals"]["confirmed"], lang),
                                               in_time=_n(data["referrals"]["confirmed_in_time"], lang))]],
        "feedback": [[w("satisfaction"), _n(data["satisfaction"], lang, 2)], [w("answers"), _n(data["answers"], lang)],
                     [w("rate"), share(data["response_rate"], lang)],
                     [w("accessibility"), texts.say("report.accessibility_counts", lang,
                                                    received=_n(data["accessibility"]["received"], lang),
                                                    answered=_n(data["accessibility"]["answered_in_time"], lang))]],
        "year": [[w("measure"), month_title(now["month"], lang), month_title(then["month"], lang)]]
        + [[w("contacts"), _n(now["contacts"], lang), _n(then["contacts"], lang)],
           [w("cases"), _n(now["cases"], lang), _n(then["cases"], lang)],
           [w("in_time"), share(now["in_time_share"], lang), share(then["in_time_share"], lang)],
           [w("satisfaction"), _n(now["satisfaction"], lang, 2), _n(then["satisfaction"], lang, 2)]],
        "trend": [[w("period"), w("contacts"), w("cases"), w("in_time"), w("satisfaction")]]
        + [[formats.short_month(m["month"], lang), _n(m["contacts"], lang), _n(m["cases"], lang),
            share(m["in_time_share"], lang), _n(m["satisfaction"], lang, 2)] for m in data["trend"]],
        "budget": [] if money is None else [
            [texts.say("report.budget_eur", lang, year=money["year"]), formats.money(money["budget_eur"], lang)],
            [w("spend_eur"), formats.money(money["spend_eur"], lang)
             + (f" ({share(money['spent_share'], lang)})" if money["spent_share"] is not None else "")],
            [w("contacts_year"), _n(money["contacts"], lang)],
            [w("cost_per_contact"), formats.money(money["cost_per_contact_eur"], lang, 2)]],
        "activities": [[w(k), _n(n, lang) + (f" ({_n(data['event_participants'], lang)} {w('participants')})"
                                             if k == "event" and n else "")] for k, n in data["activities"].items()],
        "pipeline": [[w("located_stage" if s == "located" else s), _n(n, lang)] for s, n in p["stages"].items()]
        + [[w("located"), _n(p["located"], lang)], [w("jobs"), _n(p["jobs"], lang)],
           [w("investment"), formats.money(p["investment_eur"], lang)]],
        "campaigns": campaigns, "targets": targets,
    }


SECTIONS = (("contacts", "contacts", True), ("promise", "promise", False), ("feedback", "feedback", False),
            ("year_earlier", "year", True), ("trend", "trend", True), ("budget", "budget", False),
            ("activities", "activities", False), ("pipeline", "pipeline", False), ("campaigns", "campaigns", True),
            ("targets", "targets", True))


def text(data: dict[str, Any], lang: str = "fi") -> str:
    """The report as plain text with aligned tables: the monthly email's text part."""
    w = lambda k: word(k, lang)  # noqa: E731
    tables = rows(data, lang)
    title = f"{w('title')}: {month_title(data['month'], lang)}"
    out = [title, "=" * len(title), ""]

    def table(heading: str, body: list[list[str]], header: bool) -> None:
        out.extend([heading, "-" * len(heading)])
        widths = [max(len(r[i]) for r in body) for i in range(len(body[0]))]
        for n, r in enumerate(body):
            out.append("  ".join([r[0].ljust(widths[0])] + [c.rjust(widths[i + 1]) for i, c in enumerate(r[1:])])
                       .rstrip())
            if header and n == 0:
                out.append("  ".join("-" * x for x in widths))
        out.append("")

    for heading, key, header in SECTIONS:
        if tables[key]:
            table(w(heading), tables[key], header)
        elif key == "budget":
            out.extend([w("budget"), "-" * len(w("budget")), w("no_budget"), ""])
        elif key == "targets":
            out.extend([w("targets"), "-" * len(w("targets")), w("no_targets"), ""])
        if key == "feedback":
            topic = lambda k: data["topics"].get(k, {}).get(lang, k)  # noqa: E731
            out.extend([w("comments") + ":"] + [f"  {c['score'] or '–'}/5 ({topic(c['topic'])}): "
                                                 f"{quoted(c['comment'])}" for c in data["comments"]]
                       + ([] if data["comments"] else ["  " + w("no_comments")]) + ["", w("low") + ":"]
                       + [f"  {c['ref']} {c['score']}/5: {quoted(c['comment']) if c['comment'] else '–'} → "
                          f"{'; '.join(quoted(d) for d in c['done']) or w('nothing_done')}" for c in data["low_scores"]]
                       + ([] if data["low_scores"] else ["  " + w("no_low")]) + [""])
    return "\n".join(out)


def markdown(data: dict[str, Any], lang: str = "fi") -> str:
    """The report as Markdown, for an agenda kept in Markdown (`report board --format md`, the page's link)."""
    w = lambda k: word(k, lang)  # noqa: E731
    tables = rows(data, lang)
    out = [f"# {w('title')}: {month_title(data['month'], lang)}", ""]

    def cell(value: str) -> str:
        return value.replace("|", "\\|")

    for heading, key, header in SECTIONS:
        out.extend([f"## {w(heading)}", ""])
        body = tables[key]
        if not body:
            out.extend([w("no_budget" if key == "budget" else "no_targets"), ""])
            continue
        head = body[0] if header else ["", ""] + [""] * (len(body[0]) - 2)
        out.append("| " + " | ".join(cell(c) for c in head) + " |")
        out.append("|" + "|".join("---" for _ in head) + "|")
        out.extend("| " + " | ".join(cell(c) for c in r) + " |" for r in (body[1:] if header else body))
        out.append("")
        if key == "feedback":
            topic = lambda k: data["topics"].get(k, {}).get(lang, k)  # noqa: E731
            # Customer text is quoted and escaped: a comment cannot add a heading, a link or markup to the report.
            out.extend([f"### {w('comments')}", ""])
            out.extend([f"- {c['score'] or '–'}/5 ({topic(c['topic'])}): {quoted(c['comment'])}"
                        for c in data["comments"]] or [w("no_comments")])
            out.extend(["", f"### {w('low')}", ""])
            out.extend([f"- {c['ref']} {c['score']}/5: {quoted(c['comment']) if c['comment'] else '–'} → "
                        f"{'; '.join(quoted(d) for d in c['done']) or w('nothing_done')}"
                        for c in data["low_scores"]] or [w("no_low")])
            out.append("")
    return "\n".join(out)


_EMAIL = Environment(loader=FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
                     autoescape=select_autoescape(default=True))


def html(data: dict[str, Any], lang: str = "fi", link: str = "") -> str:
    """The report as a whole HTML document (the monthly email's HTML part): tables, the trend's chart, A4 print."""
    return _EMAIL.get_template("email/board_report.html").render(**page(data, lang), link=link)


def page(data: dict[str, Any], lang: str) -> dict[str, Any]:
    """What the report's HTML (the staff page and the email) renders: tables, words, the trend's chart."""
    w = lambda k: word(k, lang)  # noqa: E731
    chart = charts.bars("r-trend-chart", w("trend_chart"), w("trend_chart"),
                        [(formats.short_month(m["month"], lang), str(m["contacts"])) for m in data["trend"]])
    return {"data": data, "tables": rows(data, lang), "language": lang, "w": w, "chart": chart,
            "title": f"{w('title')}: {month_title(data['month'], lang)}", "sections": SECTIONS,
            "topic": lambda k: data["topics"].get(k, {}).get(lang, k)}


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
                          body=f"{text(data, lang)}\n{link}\n", html=html(data, lang, link), now=now) is not None
    return queued
