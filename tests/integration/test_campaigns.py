"""Campaigns: admins add them through the API; each marker (the link's code, an SMS keyword, the campaign's own
number for texts and calls) attributes a conversation from its first message, and its case after it; leads see
the results, the public sees them in aggregate with `group=campaign`."""
from sqlalchemy import select

from router import config
from router.impact import rollups
from router.storage.models import Call, Case, Conversation

from ..conftest import auth
from ..helpers import consent_given

AUTH = {"Authorization": "Bearer test-token"}
AUTUMN = {"code": "SYKSY26", "name": "Syksyn tonttikampanja", "starts": "2026-11-01", "ends": "2026-12-31",
          "cost": 1500, "sms_keyword": "TONTTI", "email_tag": "syksy", "number": "+358400000099"}


def add(client, token, body=AUTUMN):
    return client.post("/api/v1/campaigns", json=body, headers=auth(token))


def test_only_admins_add_campaigns_and_mistakes_are_400s(phone_app, tokens):
    api = phone_app.test_client()
    made = add(api, tokens["admin"])
    assert made.status_code == 201, made.get_json()
    assert made.get_json() | {} == {**AUTUMN, "cost": 1500.0}
    assert add(api, tokens["lead"]).status_code == 403
    assert add(api, tokens["maija"], {**AUTUMN, "code": "OTHER"}).status_code == 403
    for wrong in ({**AUTUMN, "code": "SYKSY26"},                         # taken
                  {**AUTUMN, "code": "B", "name": "x"},                   # too short a code
                  {**AUTUMN, "code": "KEVAT", "ends": "2026-10-01"},     # ends before it starts
                  {**AUTUMN, "code": "TOINEN", "sms_keyword": "tontti"},  # the same keyword at the same time
                  {**AUTUMN, "code": "STOPPI", "sms_keyword": "STOP", "email_tag": None, "number": None},
                  {**AUTUMN, "code": "NEG", "cost": -5}, {**AUTUMN, "code": "X2", "extra": 1},
                  {**AUTUMN, "code": "none"}):
        refused = add(api, tokens["admin"], wrong)
        assert refused.status_code == 400 and refused.get_json()["error"], wrong
    listed = api.get("/api/v1/campaigns", headers=auth(tokens["lead"])).get_json()["campaigns"]
    assert [(c["code"], c["contacts"], c["cases"], c["cost_per_contact"]) for c in listed] == [("SYKSY26", 0, 0, None)]
    assert api.get("/api/v1/campaigns", headers=auth(tokens["maija"])).status_code == 403
    assert api.get("/api/v1/campaigns").status_code == 401


def conversations(sessions):
    with sessions() as s:
        return [(c.channel, c.campaign) for c in s.scalars(select(Conversation).order_by(Conversation.id))]


def test_each_marker_attributes_the_first_message_and_the_case_follows(phone_app, tokens, twilio, sessions, rasa,
                                                                      internal):
    api = phone_app.test_client()
    assert add(api, tokens["admin"]).status_code == 201
    # The web link's ?c=CODE, sent by the widget with the first message; later messages do not change it.
    first = api.post("/api/chat", json={"session": None, "text": "Etsin tonttia", "campaign": "syksy26"}).get_json()
    api.post("/api/chat", json={"session": first["session"], "text": "tuotantoa varten", "campaign": "OTHER"})
    # An unknown code is no campaign, not an error; no code is no campaign.
    assert api.post("/api/chat", json={"session": None, "text": "Hei", "campaign": "NOPE"}).status_code == 200
    api.post("/api/chat", json={"session": None, "text": "Hei"})
    # The SMS keyword: the conversation is the campaign's and the bot gets the rest of the text.
    twilio.sms("+358401110001", "TONTTI Etsin tonttia tehtaalle")
    assert rasa.sent[-1][1] == "Etsin tonttia tehtaalle"
    twilio.sms("+358401110001", "TONTTI")  # the same conversation already has its campaign
    # A text to the campaign's own number, and a call to it.
    twilio.sms("+358401110002", "Hei, kerro tonteista", To="+358400000099")
    twilio.sms("+358401110003", "TONTTIA etsin")  # not the keyword
    twilio.call("/twilio/voice", "CAcampaign", caller="+358401110004", To="+358400000099")
    assert conversations(sessions) == [("web", "SYKSY26"), ("web", None), ("web", None), ("sms", "SYKSY26"),
                                       ("sms", "SYKSY26"), ("sms", None)]
    with sessions() as s:
        assert s.scalar(select(Call.campaign).where(Call.call_sid == "CAcampaign")) == "SYKSY26"
    # The handoff copies the conversation's campaign onto the case.
    consent_given(api.post, rasa, first["session"], "testi@example.org")
    made = internal.post("/internal/handoffs", headers=AUTH, json={
        "conversation": first["session"], "idempotency_key": "c1", "topic": "plots", "language": "fi",
        "customer_name": "Testi Yrittäjä", "contact": "testi@example.org", "consent": True})
    assert made.status_code == 200, made.get_json()
    with sessions() as s:
        assert s.scalar(select(Case.campaign).where(Case.ref == made.get_json()["case"])) == "SYKSY26"
        rollups.refresh(s, ["2026-11"], "Europe/Helsinki")
        s.commit()
    # Leads see exact figures: 4 contacts (2 texts' conversations, 1 chat, 1 call), 1 case, 1500 € / 4.
    [row] = api.get("/api/v1/campaigns", headers=auth(tokens["admin"])).get_json()["campaigns"]
    assert (row["contacts"], row["cases"], row["cost_per_contact"]) == (4, 1, 375.0)
    # The public sees the campaign in aggregate, small counts hidden, next to what no campaign brought.
    public = api.get("/api/impact?from=2026-11&to=2026-11&group=campaign").get_json()
    by_key = {g["key"]: g for g in public["groups"]}
    assert set(by_key) == {"SYKSY26", "none"}
    assert by_key["SYKSY26"]["contacts"] == "< 5" and by_key["SYKSY26"]["cost"] == 1500.0
    assert by_key["SYKSY26"]["cost_per_contact"] is None  # not from a hidden count
    assert by_key["SYKSY26"]["name"] == "Syksyn tonttikampanja"
    csv = api.get("/api/impact?from=2026-11&to=2026-11&group=campaign&format=csv").get_data(as_text=True)
    assert csv.splitlines()[0].endswith("name,outcomes,cost,cost_per_contact") and "SYKSY26" in csv


def test_a_campaign_s_public_cost_per_contact_uses_the_shown_count(phone_app, tokens, sessions):
    api = phone_app.test_client()
    assert add(api, tokens["admin"]).status_code == 201
    for i in range(12):
        api.post("/api/chat", json={"session": None, "text": f"Hei {i}", "campaign": "SYKSY26"})
    with sessions() as s:
        rollups.refresh(s, ["2026-11"], config.load({}).timezone)
        s.commit()
    [row] = [g for g in api.get("/api/impact?from=2026-11&to=2026-11&group=campaign").get_json()["groups"]
             if g["key"] == "SYKSY26"]
    # 12 contacts are shown as 10 (the nearest 5): 1500 € / 10, never / 12, which would give the count away.
    assert (row["contacts"], row["cost_per_contact"]) == ("10", 150.0)
