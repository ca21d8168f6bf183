"""Public pages: the impact page and its open data, and who does what (from the directory)."""
from __future__ import annotations

import csv
import hashlib
import io
import json

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from router import formats, sanitize
from router.casework import directory
from router.impact import charts
from router.impact import rollups as impact
from router.plan import leads, report, target
from router.storage.models import Specialist
from router.texts import word
from router.web import clock, db, i18n, settings

bp = Blueprint("impact", __name__)
def channel_label(key: str) -> str:
    return word(key, i18n.lang(), "impact.channel.")


def outcome_label(key: str) -> str:
    return word(key, i18n.lang(), "impact.outcome.")


def _range() -> tuple[str, str] | None:
    now = clock()
    tz = settings().timezone
    # Absent means the default; present but empty is a malformed month, said as such.
    last = request.args.get("to", impact.month_key(now, tz))
    first = request.args.get("from", impact.shift_month(last, -11) if impact.valid_month(last) else last)
    if not (impact.valid_month(first) and impact.valid_month(last)):
        return None
    return first, last


# The page writes figures as the board's report does: router/formats.py.
month_label = formats.month
percent = formats.share


def whole(value, lang: str) -> str:
    """A whole number with the language's grouping ("12 500" in Finnish and Swedish, "12,500" in English)."""
    return formats.number(value, lang)


def decimal(value, lang: str) -> str:
    """An average or a median as the page's language writes it: "4,2" in Finnish and Swedish, "4.2" in English."""
    return formats.number(value, lang, 1)


def measure_label(t: dict, lang: str) -> str:
    name = report.word(report.MEASURE_WORD.get(t["measure"], t["measure"]), lang)
    if t["month"]:
        return f"{name}, {month_label('%04d-%02d' % (t['year'], t['month']), lang)}"
    return f"{name} {t['year']}"


def measure_value(measure: str, value, lang: str) -> str:
    if measure == "promise_kept_share":
        return percent(value, lang)
    return decimal(value, lang) if measure == "satisfaction" else whole(value, lang)


@bp.get("/impact")
def impact_page():
    lang = i18n.lang()
    span = _range()
    if span is None:
        return render_template("impact_error.html", lang=lang), 400
    first, last = span
    threshold = settings().impact_min_count
    session = db()
    data, by_topic, by_campaign = figures_with_plan(first, last, ("month", "topic", "campaign"))
    # The page's topic tables are about matters handed on: contacts never handed to anyone are in the totals.
    by_topic = {**by_topic, "groups": [g for g in by_topic["groups"] if g["key"] != impact.NO_TOPIC]}
    campaigns = by_campaign["groups"]
    labels = {t.key: t.labels.get(lang, t.key) for t in directory.topic_labels(session)}
    months = sorted(data["contacts_by_month_and_channel"])
    channel_series = [(channel_label(c), [data["contacts_by_month_and_channel"][m].get(c, "0")
                                                       for m in months]) for c in impact.CHANNELS]
    total_cases = {g["key"]: g["cases"] for g in by_topic["groups"]}
    figures_chart = {
        "contacts": charts.stacked_columns("chart-contacts", _("impact.contacts"), _("impact.contacts"), months,
                                           channel_series),
        "topics": charts.bars("chart-topics", _("impact.cases_topic"), _("impact.cases_topic"),
                              [(labels.get(k, k), v) for k, v in total_cases.items()]),
        "promise": charts.bars("chart-promise", _("impact.promise"), _("impact.in_time"),
                               [(m["key"], None if m["in_time_share"] is None else str(round(100 * m["in_time_share"])))
                                for m in data["groups"]], unit=" %", max_value=100),
        "scores": charts.bars("chart-scores", _("impact.distribution"), _("impact.distribution"),
                              [(f"{s} / 5", (data["total"]["scores"] or {}).get(s)) for s in "54321"]),
        "outcomes": charts.bars("chart-outcomes", _("impact.outcomes"), _("impact.outcomes"),
                                [(outcome_label(k), v) for k, v in data["outcomes"].items()]),
        "activities": charts.bars("chart-activities", _("impact.activities"), _("impact.activities"),
                                  [(report.word(k, lang), str(n)) for k, n in data["activities"].items()]),
        "targets": charts.bars("chart-targets", _("impact.targets"), _("impact.targets_chart"),
                               [(measure_label(t, lang), None if not t["actual"] or not t["target"]
                                 else str(round(100 * t["actual"] / t["target"]))) for t in data["targets"]],
                               unit=" %", max_value=max([100] + [100 * (t["actual"] or 0) / t["target"]
                                                                 for t in data["targets"] if t["target"]])),
    }
    year = int(last[:4])
    body = render_template(
        "impact.html", lang=lang, data=data, by_topic=by_topic, labels=labels, months=months,
        charts=figures_chart, channels=impact.CHANNELS, channel_label=channel_label,
        outcome_label=outcome_label, first=first, last=last, threshold=threshold,
        decimal=lambda v: decimal(v, lang), whole=lambda v: whole(v, lang), percent=lambda v: percent(v, lang),
        month_label=lambda m: month_label(m, lang), measure_label=lambda t: measure_label(t, lang),
        measure_value=lambda m, v: measure_value(m, v, lang), campaigns=campaigns,
        report_word=lambda k: report.word(k, lang), pace_words=lambda t: report.pace_words(t, lang),
        budget=impact.budget(session, year, data["customers"]), stories=impact.published_stories(session, lang),
        comments=impact.published_comments(session), settings=settings(),
        topics_in_table=sorted({t for v in data["cases_by_month_and_topic"].values() for t in v}))
    resp = Response(body, mimetype="text/html")
    resp.headers["Cache-Control"] = "public, max-age=300"
    resp.vary.add("Accept-Language")  # without ?lang= the page speaks the browser's language
    return resp


GROUPS = ("month", "channel", "topic", "campaign")
TABLES = ("groups", "targets")
CAMPAIGN_FIELDS = ["name", "outcomes", "cost", "cost_per_contact"]
TARGET_FIELDS = ["measure", "year", "month", "target", "actual", "pace", "previous", "through"]
CSV_FIELDS = ["key", "contacts", "cases", "in_time_share", "median_hours_to_take_up", "answers", "response_rate",
              "satisfaction"]


def figures_with_plan(first: str, last: str, groups: tuple[str, ...]) -> list[dict]:
    """The rollups' figures for each grouping; the first also gets the board's: activities organised, companies
    located and the targets."""
    session = db()
    found = impact.figures_by(session, first, last, settings().impact_min_count, groups)
    data = found[groups[0]]
    start = target.period_of(*(int(x) for x in first.split("-")))[0]
    end = target.period_of(*(int(x) for x in last.split("-")))[1]
    data["located"] = leads.located(session, start, end)
    data["targets"] = target.progress(session, first, last, clock(), settings())
    return [found[g] for g in groups]


@bp.get("/api/impact")
def impact_api():
    span = _range()
    group = request.args.get("group", "month")
    fmt = request.args.get("format", "json")
    if span is None:
        return jsonify(error="from and to are months (YYYY-MM)"), 400
    if group not in GROUPS or fmt not in ("json", "csv") or request.args.get("table", "groups") not in TABLES:
        return jsonify(error="group is month, channel, topic or campaign; format is json or csv; table is groups "
                             "or targets"), 400
    [data] = figures_with_plan(span[0], span[1], (group,))
    if fmt == "csv":
        out = io.StringIO()
        fields = CSV_FIELDS + (CAMPAIGN_FIELDS if group == "campaign" else [])
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        # One table per file, so that any CSV reader takes it: the targets are `table=targets`.
        if request.args.get("table") == "targets":
            writer = csv.DictWriter(out, fieldnames=TARGET_FIELDS, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerows(sanitize.csv_row(r) for r in data["targets"])
        else:
            writer.writeheader()
            writer.writerows(sanitize.csv_row(r) for r in data["groups"])
        body, mimetype = out.getvalue(), "text/csv"
    else:
        body, mimetype = json.dumps(data, ensure_ascii=False), "application/json"
    etag = hashlib.sha256(body.encode()).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        resp = Response(status=304)
    else:
        resp = Response(body, mimetype=mimetype)
        if fmt == "csv":
            table = "targets" if request.args.get("table") == "targets" else group
            resp.headers["Content-Disposition"] = f"inline; filename=impact-{span[0]}-{span[1]}-{table}.csv"
    resp.set_etag(etag)
    resp.headers["Cache-Control"] = "public, max-age=300"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.get("/contacts")
def contacts():
    lang = i18n.lang()
    session = db()
    people = session.scalars(select(Specialist).where(Specialist.active.is_(True)).order_by(Specialist.name)).all()
    labels = {t.key: t.labels.get(lang, t.key) for t in directory.topic_labels(session)}
    return render_template("contacts.html", lang=lang, people=people,
                           labels=labels, settings=settings())
