"""Public pages: the impact page and its open data, and who does what (from the directory)."""
from __future__ import annotations

import csv
import hashlib
import io
import json

from babel.numbers import format_decimal
from flask import Blueprint, Response, jsonify, render_template, request
from sqlalchemy import select

from router import sanitize
from router.casework import directory
from router.impact import charts
from router.impact import rollups as impact
from router.plan import leads, report, target
from router.storage.models import Specialist
from router.web import clock, db, settings

bp = Blueprint("impact", __name__)
LANGS = ("fi", "sv", "en")
WORDS = {
    "title": ("Vaikuttavuus", "Genomslag", "Impact"),
    "intro": ("Yrityspalvelujen luvut: yhteydenotot, asiantuntijoille ohjatut asiat, palvelulupauksen pitäminen, "
              "asiakaspalaute ja tulokset. Luvut päivittyvät jatkuvasti; alle {n} kappaleen määrät näytetään muodossa "
              "”< {n}” ja muut pyöristetään lähimpään {n}:n monikertaan, jottei piilotettua lukua voi laskea "
              "summista.",
              "Företagstjänsternas siffror: kontakter, ärenden till experter, hur servicelöftet hålls, kundrespons och "
              "resultat. Siffrorna uppdateras löpande; antal under {n} visas som ”< {n}” och övriga avrundas till "
              "närmaste multipel av {n}, så att ett dolt antal inte kan räknas ut ur summorna.",
              "The business services' figures: contacts, matters handed to specialists, how the service promise is "
              "kept, customer feedback and results. Figures update continuously; counts under {n} are shown as "
              "“< {n}” and the others are rounded to the nearest multiple of {n}, so that a hidden count cannot be "
              "worked out from the totals."),
    "period": ("Ajanjakso", "Period", "Period"),
    "kpi_contacts": ("Yhteydenottoa", "Kontakter", "Contacts"),
    "kpi_cases": ("Asiaa ohjattu asiantuntijoille", "Ärenden till experter", "Matters handed to specialists"),
    "contacts": ("Yhteydenotot kuukausittain kanavan mukaan", "Kontakter per månad och kanal",
                 "Contacts per month by channel"),
    "cases_topic": ("Asiantuntijoille ohjatut asiat aiheittain", "Ärenden till experter per ämne",
                    "Matters handed to specialists by topic"),
    "cases_month_topic": ("Ohjatut asiat kuukausittain aiheen mukaan", "Ärenden per månad och ämne",
                          "Matters per month by topic"),
    "promise": ("Palvelulupaus: työn alle kahdessa arkipäivässä", "Servicelöftet: påbörjat inom två vardagar",
                "The promise: taken up within two working days"),
    "in_time": ("Ajoissa työn alle", "Påbörjade i tid", "Taken up in time"),
    "median": ("Mediaaniaika työn alle (tuntia)", "Mediantid till påbörjan (timmar)", "Median time to take up (hours)"),
    "satisfaction": ("Asiakastyytyväisyys", "Kundnöjdhet", "Customer satisfaction"),
    "average": ("Keskiarvo (1–5)", "Medelvärde (1–5)", "Average (1–5)"),
    "answers": ("Vastauksia", "Svar", "Answers"), "rate": ("Vastausprosentti", "Svarsprocent", "Response rate"),
    "distribution": ("Arvosanojen jakauma", "Fördelning av betyg", "Distribution of scores"),
    "by_topic": ("Aiheittain", "Per ämne", "By topic"), "month": ("Kuukausi", "Månad", "Month"),
    "topic": ("Aihe", "Ämne", "Topic"), "channel": ("Kanava", "Kanal", "Channel"),
    "total": ("Yhteensä", "Totalt", "Total"),
    "outcomes": ("Tulokset", "Resultat", "Outcomes"), "budget": ("Talous", "Ekonomi", "Budget"),
    "budget_eur": ("Budjetti", "Budget", "Budget"), "spend_eur": ("Käytetty", "Använt", "Spent"),
    "per_customer": ("Kustannus palveltua asiakasta kohden", "Kostnad per betjänad kund", "Cost per customer served"),
    "customers": ("Palveltuja asiakkaita", "Betjänade kunder", "Customers served"),
    "stories": ("Onnistumisia", "Framgångar", "Success stories"), "comments": ("Asiakkaiden sanoin", "Kundernas ord",
                                                                             "In customers' words"),
    "open_data": ("Avoin data", "Öppna data", "Open data"), "who": ("Kuka auttaa", "Vem hjälper", "Who helps"),
    "none": ("Ei vielä tietoja tältä ajalta.", "Inga uppgifter för perioden ännu.", "No figures for this period yet."),
    "show": ("Näytä", "Visa", "Show"), "from": ("Alkaen", "Från", "From"), "to": ("Päättyen", "Till", "To"),
    "contacts_title": ("Yhteystiedot", "Kontaktuppgifter", "Contacts"),
    "one_door": ("Yksi numero ja yksi osoite kaikkiin yritysasioihin",
                 "Ett nummer och en adress för alla företagsärenden",
                 "One number and one address for every business matter"),
    "phone": ("Puhelin ja tekstiviesti", "Telefon och sms", "Phone and text"),
    "email": ("Sähköposti", "E-post", "Email"),
    "languages": ("Kielet", "Språk", "Languages"), "topics": ("Aiheet", "Ämnen", "Topics"),
    "staff": ("Asiantuntijamme", "Våra experter", "Our specialists"),
    "activities": ("Järjestetyt toiminnat ja ennakoivat kohtaamiset", "Anordnade aktiviteter och proaktiva möten",
                   "Activities organised and proactive encounters"),
    "kpi_activities": ("Kohtaamista ja tapahtumaa", "Möten och evenemang", "Encounters and events"),
    "kpi_located": ("Yritystä sijoittui kaupunkiin", "Företag etablerade sig i staden", "Companies located here"),
    "kpi_jobs": ("Uutta työpaikkaa sijoittuneissa yrityksissä", "Nya arbetsplatser i etablerade företag",
                 "New jobs in the companies located here"),
    "count": ("Määrä", "Antal", "Number"),
    "targets": ("Tavoitteet ja toteuma", "Mål och utfall", "Targets and actuals"),
    "targets_chart": ("Toteuma prosentteina tavoitteesta", "Utfall i procent av målet",
                      "Actual as a share of the target"),
    "campaigns": ("Markkinointikampanjat", "Marknadsföringskampanjer", "Marketing campaigns"),
    "campaign": ("Kampanja", "Kampanj", "Campaign"), "cost": ("Kustannus", "Kostnad", "Cost"),
    "per_contact": ("Kustannus yhteydenottoa kohden", "Kostnad per kontakt", "Cost per contact"),
    "no_campaign": ("Ilman kampanjaa", "Utan kampanj", "Without a campaign"),
}
OUTCOME_LABELS = {
    "company_founded": ("Yritys perustettu", "Företag grundat", "Company founded"),
    "funding_granted": ("Rahoitus myönnetty", "Finansiering beviljad", "Funding granted"),
    "person_hired": ("Henkilö palkattu", "Person anställd", "Person hired"),
    "premises_found": ("Tontti tai toimitila löytyi", "Tomt eller lokal hittad", "Plot or premises found"),
    "company_located": ("Yritys sijoittui kaupunkiin", "Företag etablerat i staden", "Company located to the city"),
    "advice_given": ("Neuvonta annettu", "Rådgivning given", "Advice given"),
    "referred_elsewhere": ("Ohjattu muualle", "Hänvisat vidare", "Referred elsewhere"),
}
CHANNEL_LABELS = {"web": ("Chat", "Chatt", "Chat"), "sms": ("Tekstiviesti", "Sms", "Text"),
                  "whatsapp": ("WhatsApp", "WhatsApp", "WhatsApp"), "voice": ("Puhelu", "Samtal", "Call"),
                  "email": ("Sähköposti", "E-post", "Email")}


def language() -> str:
    chosen = request.args.get("lang", "fi")
    return chosen if chosen in LANGS else "fi"


def word(table: dict, key: str, lang: str) -> str:
    return table[key][LANGS.index(lang)] if key in table else key


def _range() -> tuple[str, str] | None:
    now = clock()
    tz = settings().timezone
    # Absent means the default; present but empty is a malformed month, said as such.
    last = request.args.get("to", impact.month_key(now, tz))
    first = request.args.get("from", impact.shift_month(last, -11) if impact.valid_month(last) else last)
    if not (impact.valid_month(first) and impact.valid_month(last)):
        return None
    return first, last


# The report's locales and its month and share formats: the page and the board's report write them alike.
LOCALES = report.LOCALES
month_label = report.month_title
percent = report.share


def whole(value, lang: str) -> str:
    """A whole number with the language's grouping ("12 500" in Finnish and Swedish, "12,500" in English)."""
    return "–" if value is None else format_decimal(value, format="#,##0", locale=LOCALES.get(lang, "fi_FI"))


def decimal(value, lang: str) -> str:
    """An average or a median as the page's language writes it: "4,2" in Finnish and Swedish, "4.2" in English."""
    return "–" if value is None else format_decimal(value, format="0.0", locale=LOCALES.get(lang, "fi_FI"))


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
    lang = language()
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
    w = lambda key: word(WORDS, key, lang)  # noqa: E731
    channel_series = [(word(CHANNEL_LABELS, c, lang), [data["contacts_by_month_and_channel"][m].get(c, "0")
                                                       for m in months]) for c in impact.CHANNELS]
    total_cases = {g["key"]: g["cases"] for g in by_topic["groups"]}
    figures_chart = {
        "contacts": charts.stacked_columns("chart-contacts", w("contacts"), w("contacts"), months, channel_series),
        "topics": charts.bars("chart-topics", w("cases_topic"), w("cases_topic"),
                              [(labels.get(k, k), v) for k, v in total_cases.items()]),
        "promise": charts.bars("chart-promise", w("promise"), w("in_time"),
                               [(m["key"], None if m["in_time_share"] is None else str(round(100 * m["in_time_share"])))
                                for m in data["groups"]], unit=" %", max_value=100),
        "scores": charts.bars("chart-scores", w("distribution"), w("distribution"),
                              [(f"{s} / 5", (data["total"]["scores"] or {}).get(s)) for s in "54321"]),
        "outcomes": charts.bars("chart-outcomes", w("outcomes"), w("outcomes"),
                                [(word(OUTCOME_LABELS, k, lang), v) for k, v in data["outcomes"].items()]),
        "activities": charts.bars("chart-activities", w("activities"), w("activities"),
                                  [(report.word(k, lang), str(n)) for k, n in data["activities"].items()]),
        "targets": charts.bars("chart-targets", w("targets"), w("targets_chart"),
                               [(measure_label(t, lang), None if not t["actual"] or not t["target"]
                                 else str(round(100 * t["actual"] / t["target"]))) for t in data["targets"]],
                               unit=" %", max_value=max([100] + [100 * (t["actual"] or 0) / t["target"]
                                                                 for t in data["targets"] if t["target"]])),
    }
    year = int(last[:4])
    body = render_template(
        "impact.html", lang=lang, w=w, data=data, by_topic=by_topic, labels=labels, months=months,
        charts=figures_chart, channels=impact.CHANNELS, channel_label=lambda c: word(CHANNEL_LABELS, c, lang),
        outcome_label=lambda k: word(OUTCOME_LABELS, k, lang), first=first, last=last, threshold=threshold,
        decimal=lambda v: decimal(v, lang), whole=lambda v: whole(v, lang), percent=lambda v: percent(v, lang),
        month_label=lambda m: month_label(m, lang), measure_label=lambda t: measure_label(t, lang),
        measure_value=lambda m, v: measure_value(m, v, lang), campaigns=campaigns,
        report_word=lambda k: report.word(k, lang),
        budget=impact.budget(session, year, data["customers"]), stories=impact.published_stories(session, lang),
        comments=impact.published_comments(session), settings=settings(),
        topics_in_table=sorted({t for v in data["cases_by_month_and_topic"].values() for t in v}))
    resp = Response(body, mimetype="text/html")
    resp.headers["Cache-Control"] = "public, max-age=300"
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
    lang = language()
    session = db()
    people = session.scalars(select(Specialist).where(Specialist.active.is_(True)).order_by(Specialist.name)).all()
    labels = {t.key: t.labels.get(lang, t.key) for t in directory.topic_labels(session)}
    return render_template("contacts.html", lang=lang, w=lambda key: word(WORDS, key, lang), people=people,
                           labels=labels, settings=settings())
