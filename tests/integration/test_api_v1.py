"""The cases API for the CRM: per-user tokens, roles, actions, and the OpenAPI document it keeps."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from sqlalchemy import select

from router.staff import users
from router.storage.models import User

from ..conftest import auth
from ..helpers import semantic_only


def test_a_token_is_required(phone_app):
    client = phone_app.test_client()
    assert client.get("/api/v1/cases").status_code == 401
    assert client.get("/api/v1/cases", headers=auth("lk_wrong")).get_json() == {"error": "a valid bearer token is required"}


def test_list_read_and_act_on_cases(phone_app, tokens, make_case, sessions):
    ref = make_case(email="asiakas@example.org")
    other = make_case(topic="funding", text="laina")
    client = phone_app.test_client()
    listed = client.get("/api/v1/cases", headers=auth(tokens["maija"])).get_json()["cases"]
    assert [c["ref"] for c in listed] == [ref]
    assert client.get(f"/api/v1/cases/{other}", headers=auth(tokens["maija"])).status_code == 404
    assert {c["ref"] for c in client.get("/api/v1/cases", headers=auth(tokens["lead"])).get_json()["cases"]} == {ref, other}
    taken = client.post(f"/api/v1/cases/{ref}/take-up", headers=auth(tokens["maija"])).get_json()
    assert (taken["status"], taken["taken_up_in_time"]) == ("taken_up", True)
    assert client.post(f"/api/v1/cases/{ref}/take-up", headers=auth(tokens["maija"])).status_code == 409
    noted = client.post(f"/api/v1/cases/{ref}/notes", json={"text": "CRM: soitettu"}, headers=auth(tokens["maija"]))
    assert [e["kind"] for e in noted.get_json()["events"]] == ["taken_up", "note"]
    assert client.post(f"/api/v1/cases/{ref}/notes", json={}, headers=auth(tokens["maija"])).status_code == 400
    moved = client.post(f"/api/v1/cases/{other}/reassign", json={"specialist": "sanna"}, headers=auth(tokens["lead"]))
    assert moved.get_json()["specialist"]["key"] == "sanna"
    done = client.post(f"/api/v1/cases/{ref}/resolve", json={"outcome": "company_founded"},
                       headers=auth(tokens["maija"])).get_json()
    assert (done["status"], done["outcome"]) == ("resolved", "company_founded")
    assert client.post(f"/api/v1/cases/{other}/resolve", json={"outcome": "nonsense"},
                       headers=auth(tokens["lead"])).status_code == 400  # not in the published enum
    assert client.get(f"/api/v1/cases/{other}", headers=auth(tokens["lead"])).get_json()["status"] == "open"


def test_a_new_token_replaces_the_old(phone_app, sessions, tokens):
    with sessions() as s:
        user = s.scalar(select(User).where(User.email == "maija.esimerkki@example.org"))
        fresh = users.issue_token(s, user)
        s.commit()
    client = phone_app.test_client()
    assert client.get("/api/v1/cases", headers=auth(tokens["maija"])).status_code == 401
    assert client.get("/api/v1/cases", headers=auth(fresh)).status_code == 200


@pytest.fixture
def api_schema(phone_app, tokens, make_case):
    make_case(email="asiakas@example.org")
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", phone_app)


def test_the_api_keeps_its_openapi_document(api_schema, tokens):
    """Schemathesis generates requests for every operation from the document and checks each answer against it."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) == 21
    for operation in operations:
        if operation.label == "POST /survey/{token}":
            continue  # a browser form: its CSRF token comes from the page (tests/browser and test_promise_and_surveys)
        @given(case=operation.as_strategy())
        @hsettings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            # check() runs within this iteration, on this iteration's operation
            case.call_and_validate(headers=auth(tokens["lead"]), excluded_checks=semantic_only(operation))  # noqa: B023

        check()
