"""The board's plan measured: targets set from the command line against actuals (with the pace needed and the
same stretch of last year) on /api/impact, the sales pipeline on the staff board, and the board's monthly report,
whose figures are /api/impact's for the same month."""
import os
import re
import subprocess
from datetime import date, datetime

import pytest
from sqlalchemy import select

from router.impact import rollups
from router.storage.models import Activity, AuditEvent, Case, Lead, Target

from ..conftest import ROOT
from ..impact_data import seed


def cli(database_url, *args):
    return subprocess.run([str(ROOT / "bin" / "router"), *args], env={**os.environ, "DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def october(sessions):
    """The impact page's known October 2026, with activities (and last October's) and two located companies."""
    with sessions() as s:
        seed(s)
        for i, (kind, day) in enumerate([("company_visit", date(2026, 10, 6)), ("company_visit", date(2026, 10, 7)),
                                         ("company_visit", date(2026, 10, 20)), ("letter", date(2026, 10, 21)),
                                         ("event", date(2026, 10, 22)), ("company_visit", date(2025, 10, 8)),
                                         ("phone_call", date(2025, 3, 2)), ("company_visit", date(2026, 11, 3))]):
            s.add(Activity(kind=kind, day=day, company=f"Yritys {i} Oy", participants=40 if kind == "event" else None,
                           note="", source="api", created_at=datetime(2026, 11, 3)))
        s.add(Lead(company="Tehdas Oy", jobs=12, investment_eur=2_000_000, stage="located",
                   located_on=date(2026, 10, 15), created_at=datetime(2026, 6, 1), stage_changed_at=datetime(2026, 10, 15)))
        s.add(Lead(company="Varasto Oy", jobs=5, stage="located", located_on=date(2025, 9, 1),
                   created_at=datetime(2025, 6, 1), stage_changed_at=datetime(2025, 9, 1)))
        s.add(Lead(company="Neuvottelu Oy", jobs=30, stage="negotiating", created_at=datetime(2026, 9, 1),
                   stage_changed_at=datetime(2026, 9, 1)))
        s.commit()
        rollups.rebuild(s, "Europe/Helsinki")  # from the first activity (March 2025) to this month
        s.commit()


def test_targets_are_set_from_the_command_line_and_refused_out_of_scale(database_url, sessions):
    assert cli(database_url, "targets", "set", "encounters", "2026", "120").returncode == 0
    assert cli(database_url, "targets", "set", "encounters", "2026", "150").stdout.strip() == "encounters 2026: 150"
    assert cli(database_url, "targets", "set", "promise_kept_share", "2026", "0.9", "--month", "10").returncode == 0
    for wrong in (("promise_kept_share", "2026", "90"), ("happiness", "2026", "1"), ("satisfaction", "1999", "4")):
        refused = cli(database_url, "targets", "set", *wrong)
        assert refused.returncode != 0 and "Error" in refused.stderr, wrong
    with sessions() as s:
        assert sorted((t.measure, t.year, t.month, t.value) for t in s.scalars(select(Target))) == [
            ("encounters", 2026, 0, 150.0), ("promise_kept_share", 2026, 10, 0.9)]
        assert s.scalar(select(AuditEvent.action)) == "target_set"


def test_the_impact_api_shows_each_target_with_its_actual_pace_and_last_year(client, database_url, october):
    for measure, value in (("encounters", "120"), ("companies_located", "3"), ("jobs", "50"), ("contacts", "400"),
                           ("promise_kept_share", "0.9"), ("satisfaction", "4.2")):
        assert cli(database_url, "targets", "set", measure, "2026", value).returncode == 0
    data = client.get("/api/impact?from=2026-01&to=2026-10").get_json()
    got = {t["measure"]: t for t in data["targets"]}
    assert set(got) == {"encounters", "companies_located", "jobs", "contacts", "promise_kept_share", "satisfaction"}
    gone = 304 / 365  # 1 January to 31 October
    # Four encounters (events are counted apart, as activities organised); last year's by 31 October: two.
    assert (got["encounters"]["actual"], got["encounters"]["previous"]) == (4, 2)
    assert got["encounters"]["pace"] == round((120 - 4) / (12 * (1 - gone)), 1)
    assert got["encounters"]["through"] == "2026-10-31" and got["encounters"]["month"] is None
    assert (got["companies_located"]["actual"], got["jobs"]["actual"], got["jobs"]["previous"]) == (1, 12, 5)
    assert got["contacts"]["actual"] == 30  # 28 contacts, shown rounded to the nearest 5 as everywhere in public
    assert got["promise_kept_share"]["actual"] == round(10 / 14, 3)
    assert got["promise_kept_share"]["pace"] == round((0.9 - gone * round(10 / 14, 3)) / (1 - gone), 3)
    assert got["satisfaction"]["actual"] == 4.0 and got["satisfaction"]["previous"] is None
    assert data["activities"] == {"company_visit": 3, "entrepreneur_meeting": 0, "letter": 1, "phone_call": 0,
                                  "event": 1}
    assert data["event_participants"] == 40 and data["located"] == {"companies": 1, "jobs": 12}
    # The same targets as their own CSV table.
    table = client.get("/api/impact?from=2026-01&to=2026-10&format=csv&table=targets").get_data(as_text=True)
    assert table.splitlines()[0] == "measure,year,month,target,actual,pace,previous,through"
    assert "encounters,2026,,120.0,4," in table
    # The page shows them as a chart followed by its table, in the page's language.
    page = client.get("/impact?from=2026-01&to=2026-10&lang=sv").get_data(as_text=True)
    assert 'id="chart-targets"' in page and 'id="table-targets"' in page and "Proaktiva möten 2026" in page
    assert 'id="kpi-located">1<' in page and 'id="kpi-jobs">12<' in page
    for lang in ("fi", "sv", "en"):
        text = client.get(f"/impact?from=2026-01&to=2026-10&lang={lang}").get_data(as_text=True)
        assert "None" not in text and "nan" not in text.split() and "{{" not in text, lang


def test_the_board_report_is_exact_where_the_public_figures_are_rounded(client, database_url, october, sessions):
    """The board reads its own figures: exact counts (the impact API hides and rounds them for the public), promise
    kept from the take-ups, the same month a year earlier, twelve months, the budget and what a contact cost, and
    each target's pace in words."""
    assert cli(database_url, "targets", "set", "encounters", "2026", "120").returncode == 0
    with sessions() as s:
        low = s.scalar(select(Case).where(Case.ref == "LK-IMP006"))  # its answer was a 2
        from router.storage.models import CaseEvent

        s.add(CaseEvent(case_id=low.id, kind="note", text="Soitettu asiakkaalle ja sovittu uusi tapaaminen",
                        created_at=datetime(2026, 10, 10)))
        s.commit()
        contacts_this_year = sum(m.get("contacts", 0) for m in rollups.month_totals(s, "2026-01", "2026-10").values())
    run = cli(database_url, "report", "board", "--month", "2026-10", "--language", "en")
    assert run.returncode == 0, run.stderr
    md = run.stdout
    api = client.get("/api/impact?from=2026-10&to=2026-10&group=channel").get_json()

    def cell(label, column=1):
        found = re.search(rf"^\| {re.escape(label)} \|" + r" ([^|]+) \|" * column, md, re.M)
        assert found, f"no row {label!r} in\n{md}"
        return found.group(column).strip()

    assert md.startswith("# Report to the board: October 2026")
    # 28 contacts, 12 by chat and 3 by email: exact here, while the public see 30, 10 and "< 5".
    assert (cell("Total"), cell("Chat"), cell("Email")) == ("28", "12", "3")
    email = [g["contacts"] for g in api["groups"] if g["key"] == "email"]
    assert (api["total"]["contacts"], api["groups"][-1]["contacts"], email) == ("30", "10", ["< 5"])
    campaigns = re.findall(r"^\| (?:No campaign|[^|]+) \| (\d+) \| \d+ \| \d+ \|", md.split("## Campaigns")[1], re.M)
    assert sum(int(n) for n in campaigns) == 28  # every contact once, under its campaign or none
    assert cell("Taken up within two working days") == \
        f"{round(100 * api['total']['in_time_share'])}% (10 of 14 in time)"
    assert cell("Average (1–5)") == f"{api['total']['satisfaction']:.2f}"
    assert cell("Company visits") == "3" and cell("Events and training") == "1 (40 participants)"
    assert cell("Companies located this month") == "1" and cell("Jobs") == "12" and cell("Negotiating") == "1"
    assert cell("Investment") == "€2,000,000"
    # The same month a year earlier beside this one, and twelve months from November 2025.
    assert re.search(r"^\| Measure \| October 2026 \| October 2025 \|$", md, re.M)
    assert cell("Contacts", 1) == "28"
    trend = md.split("## The last twelve months")[1].split("## ")[0]
    months = re.findall(r"^\| ([A-Z][a-z]{2,3} \d{4}) \|", trend, re.M)  # en_GB writes "Sept"
    assert months[0] == "Nov 2025" and months[-1] == "Oct 2026" and len(months) == 12
    # The budget, the spend so far and what one contact has cost this year.
    assert cell("Budget 2026") == "€1,200,000" and cell("Spent so far") == "€960,000 (80%)"  # the seed's
    assert cell("Contacts this year") == str(contacts_this_year)
    assert cell("Cost per contact") == f"€{960_000 / contacts_this_year:,.2f}"
    # The pace as a sentence: what the target needs from now on.
    pace = (120 - 4) / (12 * (1 - 304 / 365))
    assert re.search(rf"^\| Proactive encounters 2026 \| 120 \| 4 \| 120 by 31 Dec 2026 needs {round(pace)} a month "
                     rf"from now on \| 2 \|$", md, re.M), md
    assert "Erinomaista palvelua" in md  # every comment of the month
    assert "LK-IMP006 2/5" in md and "Soitettu asiakkaalle" in md  # a low score and what was done
    finnish = cli(database_url, "report", "board", "--month", "2026-10").stdout
    assert finnish.startswith("# Hallituksen raportti: lokakuu 2026") and "| Yhteensä | 28 |" in finnish
    assert "| Budjetti 2026 | 1\u00a0200\u00a0000\u00a0€ |" in finnish
    assert cli(database_url, "report", "board", "--month", "2026-13").returncode != 0


def test_the_board_report_as_html_and_text_has_the_same_tables(database_url, october):
    from html.parser import HTMLParser

    class Tables(HTMLParser):
        def __init__(self):
            super().__init__()
            self.ids, self.cells, self.svg = [], [], 0

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.ids.append(dict(attrs)["id"])
            self.svg += tag == "svg"

        def handle_data(self, data):
            self.cells.append(data.strip())

    html = cli(database_url, "report", "board", "--month", "2026-10", "--language", "sv", "--format", "html").stdout
    parsed = Tables()
    parsed.feed(html)
    assert html.startswith("<!doctype html>") and '<html lang="sv">' in html and "size: A4" in html
    assert parsed.ids == ["r-contacts", "r-promise", "r-feedback", "r-year", "r-trend", "r-budget", "r-activities",
                          "r-pipeline", "r-campaigns", "r-targets"]
    assert parsed.svg == 1 and "Totalt" in parsed.cells and "28" in parsed.cells
    text = cli(database_url, "report", "board", "--month", "2026-10", "--format", "text").stdout
    assert text.startswith("Hallituksen raportti: lokakuu 2026\n=====") and "|" not in text and "#" not in text
    assert re.search(r"^Yhteensä +28$", text, re.M)


def test_the_sales_board_moves_a_lead_to_located_and_a_plots_case_becomes_a_lead(signed_in, sessions, make_case):
    maija, matti, lead = signed_in("maija"), signed_in("matti"), signed_in("lead")
    added = maija.post_form("/staff/pipeline", "/staff/pipeline", {
        "company": "Tehdas Oy", "sector": "Valmistus", "jobs": "25", "investment_eur": "3 000 000",
        "plot_interest": "Teollisuustontti 2 ha", "business_id": "1234567-1"})
    assert added.status_code == 302
    with sessions() as s:
        row = s.scalar(select(Lead))
        assert (row.stage, row.jobs, row.investment_eur, row.business_id) == ("lead", 25, 3_000_000, "1234567-1")
    assert maija.post_form("/staff/pipeline", "/staff/pipeline", {"company": "X", "business_id": "1234567-2"}) \
        .status_code == 302  # refused with a message, nothing stored
    # Matti does not see Maija's lead and cannot move it; the team lead sees and moves every lead.
    assert "Tehdas Oy" not in matti.get("/staff/pipeline").get_data(as_text=True)
    assert matti.post_form("/staff/pipeline", f"/staff/pipeline/{row.id}/stage", {"stage": "lost"}).status_code == 403
    assert "Tehdas Oy" in lead.get("/staff/pipeline").get_data(as_text=True)
    for stage in ("contacted", "negotiating", "decided"):
        assert maija.post_form("/staff/pipeline", f"/staff/pipeline/{row.id}/stage", {"stage": stage}).status_code == 302
    maija.post_form("/staff/pipeline", f"/staff/pipeline/{row.id}/stage", {"stage": "located", "jobs": "30"})
    with sessions() as s:
        row = s.get(Lead, row.id)
        assert (row.stage, row.jobs, row.located_on) == ("located", 30, date(2026, 11, 30))
    ref = make_case(topic="plots", text="Etsimme tonttia uudelle tehtaalle", specialist="olli")
    with sessions() as s:
        s.execute(Case.__table__.update().where(Case.ref == ref).values(company="Uusi Tehdas Oy"))
        s.commit()
    admin = signed_in("admin")
    assert 'id="to-pipeline"' in admin.get(f"/staff/cases/{ref}").get_data(as_text=True)
    for _ in range(2):  # once only
        assert admin.post_form(f"/staff/cases/{ref}", f"/staff/cases/{ref}/lead", {}).status_code == 302
    with sessions() as s:
        [from_case] = s.scalars(select(Lead).where(Lead.case_id.is_not(None))).all()
        assert (from_case.company, from_case.stage) == ("Uusi Tehdas Oy", "lead")
        assert "tonttia" in from_case.note


def test_the_worker_mails_last_month_s_report_to_leads_and_admins_once(october, sessions, staff):
    from router import config
    from router.storage.models import OutboxMessage
    from router.worker import Worker

    settings = config.load({"public_base_url": "https://luukku.example.org"})
    clock = type("Clock", (), {"now": datetime(2026, 11, 2, 7, 0), "__call__": lambda self: self.now})()
    worker = Worker(settings, sessions, senders={}, clock=clock)
    assert worker.mail_board_report() == 2 and worker.mail_board_report() == 0
    assert Worker(settings, sessions, senders={}, clock=clock).mail_board_report() == 0  # another worker: the same keys
    with sessions() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.idempotency_key.like("board-report:%"))
                         .order_by(OutboxMessage.recipient)).all()
    assert [r.recipient for r in rows] == [staff["admin"], staff["lead"]]
    assert rows[0].subject.endswith("Hallituksen raportti lokakuu 2026")
    assert re.search(r"^Yhteensä +28$", rows[0].body, re.M) and "|" not in rows[0].body
    assert "/staff/report/board?month=2026-10&lang=fi" in rows[0].body
    assert rows[0].html.startswith("<!doctype html>") and '<table class="table figures" id="r-contacts">' in rows[0].html
    clock.now = datetime(2026, 11, 20, 7, 0)  # past the first week: nothing
    assert Worker(settings, sessions, senders={}, clock=clock).mail_board_report() == 0


def test_a_back_dated_activity_counts_at_once_in_its_month(phone_app, staff, sessions):
    from router.staff import users
    from router.storage.models import User

    with sessions() as s:
        token = users.issue_token(s, s.scalar(select(User).where(User.email == staff["maija"])))
        s.commit()
    api = phone_app.test_client()
    visit = {"kind": "company_visit", "date": "2025-05-05", "company": "Esimerkki Oy", "note": ""}
    assert api.post("/api/v1/activities", json=visit, headers={"Authorization": f"Bearer {token}"}).status_code == 201
    # May 2025 is not a month the worker keeps fresh: the API recomputed it when the visit was recorded.
    data = api.get("/api/impact?from=2025-05&to=2025-05").get_json()
    assert data["activities"]["company_visit"] == 1


def test_a_campaign_with_three_contacts_shows_three_and_its_cost_per_contact(client, database_url, october, sessions):
    """The public see "< 5" for a campaign that brought three contacts; the board sees 3 and what each cost."""
    from router.storage.models import Campaign, Conversation

    with sessions() as s:
        s.add(Campaign(code="kevat", name="Kevään kampanja", starts=date(2026, 9, 1), ends=date(2026, 10, 31),
                       cost_cents=150_000))
        for conv in s.scalars(select(Conversation).where(Conversation.channel == "sms").limit(3)):
            conv.campaign = "kevat"
        s.commit()
        rollups.rebuild(s, "Europe/Helsinki")
        s.commit()
    public = client.get("/api/impact?from=2026-10&to=2026-10&group=campaign").get_json()
    assert [g["contacts"] for g in public["groups"] if g["key"] == "kevat"] == ["< 5"]
    md = cli(database_url, "report", "board", "--month", "2026-10", "--language", "en").stdout
    assert re.search(r"^\| Kevään kampanja \| 3 \| 0 \| 0 \| 1,500 \| 500\.00 \|$", md, re.M), md
    finnish = cli(database_url, "report", "board", "--month", "2026-10").stdout
    assert re.search(r"^\| Kevään kampanja \| 3 \| 0 \| 0 \| 1\u00a0500 \| 500,00 \|$", finnish, re.M)
    # The promise kept is the take-ups in time, the budget and the twelve months are there too.
    assert re.search(r"^\| Työn alle kahdessa arkipäivässä \| 71\u00a0% \(10 / 14 ajoissa\) \|$", finnish, re.M)
    assert "## Talous" in finnish and "## Kaksitoista kuukautta" in finnish
