"""The impact page's figures against a known data set, the open data API, and who does what."""
import csv
import io
import re
from html import unescape

import pytest

from router.impact import rollups as impact
from router.storage.models import utcnow

from ..impact_data import seed

pytestmark = []


@pytest.fixture
def figures(sessions):
    with sessions() as s:
        seed(s)
        impact.refresh(s, ["2026-10", "2026-11"], "Europe/Helsinki")
        s.commit()


def api(client, query):
    resp = client.get(f"/api/impact?{query}")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp


def test_the_api_gives_the_known_figures_and_hides_small_counts(client, figures):
    """Counts under 5 are "< 5"; the others are rounded to the nearest 5 (28 → 30, 16 → 15, 12 → 10, 6 → 5)."""
    data = api(client, "from=2026-10&to=2026-11&group=month").get_json()
    october, november = data["groups"]
    assert (october["key"], october["contacts"], october["cases"]) == ("2026-10", "30", "15")
    assert (november["key"], november["contacts"], november["cases"]) == ("2026-11", "5", "0")
    assert october["in_time_share"] == round(10 / 14, 3)
    assert october["median_hours_to_take_up"] == 3.5  # ten of fourteen took 3 h: the 3–4 h bucket
    assert (october["answers"], october["satisfaction"], october["response_rate"]) == ("10", 4.0, 0.8)
    assert october["scores"] == {"1": "0", "2": "< 5", "3": "< 5", "4": "< 5", "5": "< 5"}
    assert data["contacts_by_month_and_channel"]["2026-10"] == {"email": "< 5", "sms": "5", "voice": "5", "web": "10"}
    assert data["cases_by_month_and_topic"]["2026-10"] == {"founding": "10", "funding": "5", "plots": "< 5"}
    assert data["outcomes"] == {"company_founded": "5", "funding_granted": "< 5"}
    assert data["total"]["contacts"] == "35"


def test_no_hidden_count_can_be_worked_out_from_the_totals(client, figures):
    """October's 3 emails were "< 5" beside 6, 7 and 12 and a total of 28: 28 − 25 gave them away. Rounded, a
    total minus its shown parts leaves several values possible for the hidden one, in every grouping."""
    def possible(total, parts):
        # What an attacker knows: a shown count n stands for max(5, n − 2) … n + 2, a hidden one for 1 … 4.
        assert sum(1 for p in parts if p.startswith("<")) == 1
        shown = [int(p) for p in parts if not p.startswith("<") and int(p)]
        assert all(n % 5 == 0 for n in [*shown, int(total)])  # exact counts would give the hidden one away
        low = int(total) - 2 - sum(n + 2 for n in shown)
        high = int(total) + 2 - sum(max(5, n - 2) for n in shown)
        return {h for h in range(1, 5) if low <= h <= high}

    october = api(client, "from=2026-10&to=2026-10&group=channel").get_json()
    channels = [g["contacts"] for g in october["groups"]]
    assert len(possible(october["total"]["contacts"], channels)) >= 2  # it was exactly {3}
    topics = api(client, "from=2026-10&to=2026-10&group=topic").get_json()
    assert len(possible(topics["total"]["cases"], [g["cases"] for g in topics["groups"]])) >= 2
    csv_rows = list(csv.DictReader(io.StringIO(api(client, "from=2026-10&to=2026-10&group=channel&format=csv")
                                               .get_data(as_text=True))))
    assert [r["contacts"] for r in csv_rows] == channels  # the same rounding in the CSV


def test_grouping_by_topic_and_channel(client, figures):
    topics = {g["key"]: g for g in api(client, "from=2026-10&to=2026-10&group=topic").get_json()["groups"]}
    assert topics["founding"]["cases"] == "10" and topics["plots"]["cases"] == "< 5"
    assert topics["founding"]["satisfaction"] == round((5 + 5 + 4 + 4 + 4 + 3 + 2 + 5) / 8, 2)
    assert topics["funding"]["satisfaction"] is None  # no answers about funding: nothing to show
    channels = {g["key"]: g["contacts"] for g in api(client, "from=2026-10&to=2026-10&group=channel").get_json()["groups"]}
    assert channels == {"email": "< 5", "sms": "5", "voice": "5", "web": "10"}


def test_the_json_the_csv_and_the_page_agree(client, figures):
    """The same figures in every form: a topic's contacts and cases alike in the JSON and the CSV, its cases on the
    page's chart."""
    data = api(client, "from=2026-10&to=2026-11&group=topic").get_json()
    rows = {r["key"]: r for r in csv.DictReader(io.StringIO(
        api(client, "from=2026-10&to=2026-11&group=topic&format=csv").get_data(as_text=True)))}
    assert {g["key"]: (g["contacts"], g["cases"]) for g in data["groups"]} == \
        {k: (r["contacts"], r["cases"]) for k, r in rows.items()}
    assert all(r["contacts"] for r in rows.values())  # every topic row carries its contacts
    # The page's chart of cases by topic shows the same counts, in the same order (contacts never handed to a
    # specialist have no topic: they are in the totals, not in the topics' chart).
    html = client.get("/impact?from=2026-10&to=2026-11&lang=fi").get_data(as_text=True)
    chart = html[html.index('id="chart-topics"'):]
    chart = chart[:chart.index("</svg>")]
    values = re.findall(r'class="chart-value"[^>]*>([^<]*)<', chart)
    assert [unescape(v).strip() for v in values] == [g["cases"] for g in data["groups"] if g["key"] != "none"]


def test_the_topics_contacts_add_up_to_the_total(sessions, figures):
    """Each contact counts under the topic it was routed to (its conversation's first case's, a call's own), the
    rest under "none": exact, before any hiding, the topics' contacts are the total's."""
    with sessions() as s:
        exact = impact.figures_by(s, "2026-10", "2026-11", 1, ("topic", "channel"))
    topics = {g["key"]: int(g["contacts"]) for g in exact["topic"]["groups"]}
    assert sum(topics.values()) == int(exact["topic"]["total"]["contacts"]) == \
        sum(int(g["contacts"]) for g in exact["channel"]["groups"])
    assert topics == {"founding": 8, "funding": 4, "plots": 2, "none": 28 - 14 + 5}  # November's 5 chats: none
    # A topic reaches its contacts through its cases: never fewer contacts than cases from conversations.
    cases = {g["key"]: int(g["cases"]) for g in exact["topic"]["groups"]}
    assert all(topics[k] >= 1 for k in cases if cases[k])


def test_finnish_and_swedish_write_decimals_with_a_comma(client, figures):
    for lang, satisfaction, median in (("fi", "4,0", "3,5"), ("sv", "4,0", "3,5"), ("en", "4.0", "3.5")):
        html = client.get(f"/impact?from=2026-10&to=2026-10&lang={lang}").get_data(as_text=True)
        assert f'id="kpi-satisfaction">{satisfaction}<' in html and f'id="kpi-median">{median}<' in html
        assert "None" not in html


def test_csv_etag_and_cache_headers(client, figures):
    resp = api(client, "from=2026-10&to=2026-11&group=topic&format=csv")
    assert resp.mimetype == "text/csv" and resp.headers["Cache-Control"] == "public, max-age=300"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [r["key"] for r in rows] == ["founding", "funding", "none", "plots"] and rows[0]["cases"] == "10"
    again = client.get("/api/impact?from=2026-10&to=2026-11&group=topic&format=csv",
                       headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("query", ["from=2026-13&to=2026-12", "group=people", "format=xml", "from=x", "to=1999-01"])
def test_bad_parameters_are_clear_errors(client, query):
    resp = client.get(f"/api/impact?{query}")
    assert resp.status_code == 400 and "error" in resp.get_json()


def test_a_range_that_ends_before_it_starts_is_empty(client, figures):
    data = api(client, "from=2026-11&to=2026-10").get_json()
    assert data["groups"] == [] and data["total"]["contacts"] == "0"


def test_the_page_shows_the_figures_tables_and_only_published_words(client, figures):
    html = client.get("/impact?from=2026-10&to=2026-11&lang=en").get_data(as_text=True)
    assert re.search(r'id="kpi-contacts">35<', html) and re.search(r'id="kpi-in-time">71%<', html)
    assert re.search(r'id="kpi-satisfaction">4.0<', html)
    assert '<svg class="chart" id="chart-contacts" role="img"' in html
    assert "Kahvila aukesi" in html and "Luonnos" not in html          # only published stories
    assert "Erinomaista palvelua" in html and "Nimi Henkilö" not in html  # only published comments
    assert "960,000 €" in html and "Cost per customer served" in html  # babel's grouping for English
    finnish = client.get("/impact?from=2026-10&to=2026-11&lang=fi").get_data(as_text=True)
    assert "960\u00a0000 €" in finnish and 'id="kpi-in-time">71\u00a0%<' in finnish
    assert ">lokakuu 2026<" in finnish and ">October 2026<" in html  # months as words, not "2026-10"
    assert "a0@example.org" not in html and "Yritys 1 Oy" not in html    # nothing personal
    for lang, title in (("fi", "Vaikuttavuus"), ("sv", "Genomslag"), ("en", "Impact")):
        assert f"<h1>{title}</h1>" in client.get(f"/impact?lang={lang}").get_data(as_text=True)


def test_contacts_page_comes_from_the_directory(client):
    html = client.get("/contacts?lang=sv").get_data(as_text=True)
    assert 'id="service-phone" href="tel:+358400000000"' in html
    assert "Matti Esimerkki" in html and "finansieringsexpert" in html and "Finansiering" in html
    assert client.get("/contacts").status_code == 200


def test_rollups_are_rebuilt_from_scratch_to_the_same_figures(sessions, figures, client):
    before = api(client, "from=2026-10&to=2026-11").get_json()
    with sessions() as s:
        assert impact.rebuild(s, "Europe/Helsinki", now=utcnow()) > 0
    assert api(client, "from=2026-10&to=2026-11").get_json() == before
