"""Generated input against every published operation and every channel parser: no 500s, nothing invalid accepted."""
from __future__ import annotations

import pytest
import schemathesis
import schemathesis.specs.openapi.checks  # noqa: F401 - registers the OpenAPI checks
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS
from sqlalchemy import select

from router import sanitize
from router.casework import survey
from router.channels import mailparse, twiml
from router.inbound import menu
from router.staff import users
from router.storage.models import User

from ..helpers import semantic_only
from .conftest import EXAMPLES

pytestmark = pytest.mark.fuzz
SETTINGS = dict(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                derandomize=True)
# Every check schemathesis has, except the stateful ones that need links between operations in the document.
CHECK_FUNCTIONS = [c for c in CHECKS.get_all() if c.__name__ not in {"use_after_free", "ensure_resource_availability",
                                                                       "object_level_authorization"}]


@pytest.fixture
def admin_token(sessions, staff):
    with sessions() as s:
        token = users.issue_token(s, s.scalar(select(User).where(User.email == staff["admin"])))
        s.commit()
    return token


@pytest.fixture
def schema(phone_app, make_case, admin_token):
    # Generous limits: the fuzzer is one client and must reach the handlers, not the rate limiter.
    phone_app.extensions["luukku"]["limiter"].enabled = False
    for topic in ("founding", "funding", "plots"):
        make_case(topic=topic, email="asiakas@example.org")
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", phone_app)


@pytest.mark.both_databases
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_survives_generated_requests(schema, admin_token, counts, mode):
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        if operation.method.upper() == "POST" and operation.path == "/survey/{token}":
            continue  # a browser form with a CSRF token; fuzzed below as a page
        @given(case=operation.as_strategy(generation_mode=mode))
        @hsettings(**SETTINGS)
        def check(case):
            counts[f"cases:{mode.value}"] += 1
            # A valid token wherever the generated request carries one; where a negative case left the header out
            # on purpose, it stays out (and must be refused).
            headers = {"Authorization": f"Bearer {admin_token}"} \
                if mode == GenerationMode.POSITIVE or "Authorization" in (case.headers or {}) else {}
            try:
                case.call_and_validate(headers=headers, checks=CHECK_FUNCTIONS,
                                       excluded_checks=semantic_only(operation))  # noqa: B023 - this iteration's
            except Exception:
                response = case.call(headers=headers)
                counts["server_errors"] += response.status_code >= 500
                counts["invalid_accepted"] += mode == GenerationMode.NEGATIVE and response.status_code < 400
                raise

        try:
            check()
        except Unsatisfiable:
            # An operation whose every input is valid (no body, free-form path) has no negative cases.
            assert mode == GenerationMode.NEGATIVE, operation.label


@given(st.text(max_size=200))
@hsettings(**SETTINGS)
def test_clean_text_is_always_storable(counts, text):
    counts["cases:parsers"] += 1
    cleaned = sanitize.clean(text, 100)
    cleaned.encode("utf-8")  # never a lone surrogate
    assert "\x00" not in cleaned and len(cleaned) <= 100
    assert "\n" not in sanitize.one_line(text) and "\r" not in sanitize.one_line(text)


@given(st.text(max_size=60))
@hsettings(**SETTINGS)
def test_sms_scores_and_numbered_answers_never_raise(counts, text):
    counts["cases:parsers"] += 1
    score, comment = survey.parse_score(text)
    assert score is None or 1 <= score <= 5
    assert menu.pick([], text) is None
    assert sanitize.number(text, default=0, high=10) in range(0, 11)


@given(st.binary(max_size=3000) | st.builds(lambda h, b: h.encode("utf-8", "surrogatepass") + b"\r\n\r\n" + b,
                                              st.text(max_size=400), st.binary(max_size=500)))
@hsettings(**SETTINGS)
def test_any_bytes_parse_as_a_mail_with_clean_fields(counts, raw):
    counts["cases:parsers"] += 1
    mail = mailparse.parse(raw)
    for value in (mail.sender, mail.subject, mail.text, mail.sender_name, *mail.recipients):
        value.encode("utf-8")
        assert "\x00" not in value
    assert "\n" not in mail.subject


@given(st.lists(st.text(max_size=300), max_size=3), st.sampled_from(["fi", "sv", "en"]))
@hsettings(**SETTINGS)
def test_twiml_is_well_formed_xml_for_any_text(counts, texts, language):
    from xml.etree import ElementTree

    counts["cases:parsers"] += 1
    texts = [sanitize.clean(t) for t in texts]
    for document in (twiml.sms_reply(texts), twiml.say_and_hang_up(" ".join(texts), language)):
        ElementTree.fromstring(document)


@given(st.text(max_size=80))
@hsettings(**SETTINGS)
def test_the_json_depth_guard_matches_the_parser(counts, text):
    counts["cases:parsers"] += 1
    try:
        sanitize.loads(text)
    except ValueError:
        pass  # a refusal (bad JSON, or too deep) is an answer; a RecursionError or anything else is not


# Ids as a client may send them: NUL and other controls, far too long, numbers out of every column's range.
HOSTILE_IDS = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Cc")), max_size=80) | \
    st.sampled_from(["abc\x00def", "LK-\x00", "LK-ABC123\x00", "\x00", "%00", "x" * 300])
HOSTILE_NUMBERS = st.integers(min_value=-(2 ** 70), max_value=2 ** 70).map(str) | st.sampled_from(
    ["2147483648", "9223372036854775808", "-1", "1e9", "0x10", "１２", "", "\x00"])


@pytest.mark.both_databases
def test_ids_with_nul_and_out_of_range_values_never_give_a_server_error(phone_app, admin_token, make_case, counts):
    """Every route that takes an id (path or query) answers 4xx for hostile ids, on SQLite and PostgreSQL alike:
    the 500s of the second security review (issue 29, finding 5) happened only on PostgreSQL."""
    from urllib.parse import quote

    phone_app.extensions["luukku"]["limiter"].enabled = False
    client = phone_app.test_client()
    session = client.post("/api/chat", json={"session": None, "text": "Hei"}).get_json()["session"]
    ref = make_case(email="asiakas@example.org")
    headers = {"Authorization": f"Bearer {admin_token}"}

    @given(HOSTILE_IDS, HOSTILE_NUMBERS)
    @hsettings(**SETTINGS)
    def check(value, number):
        counts["cases:ids"] += 1
        quoted = quote(value, safe="")
        for path in (f"/api/chat/{quoted}", f"/api/chat/{session}?after={quote(number, safe='')}",
                     f"/api/v1/cases/{quoted}", f"/api/v1/audit?case={quoted}", f"/api/v1/cases/{ref}?x={quoted}",
                     f"/api/v1/cases?limit={quote(number, safe='')}", f"/survey/{quoted}", f"/staff/cases/{quoted}"):
            response = client.get(path, headers=headers)
            counts["server_errors"] += response.status_code >= 500
            assert response.status_code < 500, (path, response.status_code)
        response = client.post("/api/chat", json={"session": value, "text": "Hei"})
        assert response.status_code < 500, ("/api/chat", value)

    check()
