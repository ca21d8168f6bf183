"""A form that listens, in fi, sv and en, through the trained model and the real action server: corrections at any
step, questions answered, company names taken as names, the language kept, a menu for an unclear start, and the
second topic offered after the first handoff."""
import pytest
from sqlalchemy import select

from router.storage.models import Case, OutboxMessage

from .test_conversations import ASK_CONTACT, ASK_NAME, MENU, texts

pytestmark = pytest.mark.stack

OPENING = {"fi": "tarvitsemme lainaa uuden koneen hankintaan", "sv": "vi behöver ett lån för att köpa en ny maskin",
           "en": "we need a loan to buy a new machine"}
ASK_COMPANY = {"fi": "Mikä on yrityksesi nimi?", "sv": "Vad heter ditt företag?", "en": "What is your company called?"}
CONSENT = {"fi": "Asiasi: Rahoitus.", "sv": "Ditt ärende: Finansiering.", "en": "Your matter: Funding."}
YES = {"fi": "Kyllä", "sv": "Ja", "en": "Yes"}


def the_case(live):
    with live.sessions() as s:
        [case] = s.scalars(select(Case)).all()
        return case


@pytest.mark.parametrize("language, fix", [
    ("fi", "anteeksi, sähköpostini on oikeasti uusi.osoite@example.org"),
    ("sv", "förlåt, min e-post är egentligen ny.adress@example.org"),
    ("en", "sorry, my email is actually new.address@example.org"),
])
def test_a_corrected_address_at_a_later_step_replaces_the_first_everywhere(live, language, fix):
    session, turns = live.conversation(OPENING[language], "Testi Asiakas", "vanha@example.org")
    assert turns[2][-1]["text"] == ASK_COMPANY[language]
    replies = live.chat(fix, session)["replies"]
    new = fix.split()[-1]
    assert new in replies[0]["text"] and replies[-1]["text"] == ASK_COMPANY[language]  # said, and asked again
    live.chat("Testaajat Oy", session)
    live.chat(YES[language], session)
    case = the_case(live)
    assert (case.customer_email, case.company) == (new, "Testaajat Oy")
    with live.sessions() as s:
        to = {m.recipient for m in s.scalars(select(OutboxMessage)) if m.recipient.endswith("example.org")
              and "asiantuntija" not in m.recipient}
    assert new in to and "vanha@example.org" not in to  # the confirmation goes to the corrected address


@pytest.mark.parametrize("language, fix, name", [
    ("fi", "korjaus: nimeni on oikeasti Testi Korjattu", "Testi Korjattu"),
    ("sv", "förlåt, jag heter egentligen Anna Rättad", "Anna Rättad"),
    ("en", "sorry, my name is actually Alex Corrected", "Alex Corrected"),
])
def test_a_corrected_name_at_the_consent_question_is_the_case_s_name(live, language, fix, name):
    session, turns = live.conversation(OPENING[language], "Testi Asiakas", "asiakas@example.org", "Testaajat Oy")
    assert turns[3][-1]["text"].startswith(CONSENT[language])
    replies = live.chat(fix, session)["replies"]
    assert name in replies[0]["text"] and replies[-1]["text"].startswith(CONSENT[language])
    live.chat(YES[language], session)
    assert the_case(live).customer_name == name


@pytest.mark.parametrize("language, question, months", [
    ("fi", "Miksi tarvitsette puhelinnumeroni?", "24 kuukautta"),
    ("fi", "mihin te tarvitsette mun numeroa", "24 kuukautta"),
    ("sv", "Varför behöver ni mitt telefonnummer?", "24 månader"),
    ("en", "why do you need my phone number?", "24 months"),
    ("en", "How long do you keep it", "24 months"),
])
def test_a_question_at_a_step_is_answered_and_the_step_asked_again(live, language, question, months):
    session, turns = live.conversation(OPENING[language], "Testi Asiakas")
    assert turns[1][-1]["text"].startswith(ASK_CONTACT[language])
    replies = live.chat(question, session)["replies"]
    assert months in replies[0]["text"] and replies[-1]["text"].startswith(ASK_CONTACT[language])
    live.chat("asiakas@example.org", session)
    live.chat("/deny", session)
    live.chat(YES[language], session)
    assert the_case(live).customer_email == "asiakas@example.org"


@pytest.mark.parametrize("language, company", [
    ("sv", "Glassbaren på torget"),
    ("en", "Nordic Fermentation Ltd"),
    ("en", "Northern Compute"),
    ("fi", "Tmi Rekrytointipalvelu Testinen"),
    ("fi", "Kahvila Torikulma Ky"),
    ("sv", "Exempel Kontor AB"),
    ("en", "Example Plots Inc"),
])
def test_a_company_name_is_taken_at_once_and_never_changes_the_topic(live, language, company):
    session, turns = live.conversation(OPENING[language], "Testi Asiakas", "asiakas@example.org", company)
    assert turns[3][-1]["text"].startswith(CONSENT[language]), turns[3]  # no topic switch, not asked again
    assert len(turns[3]) == 1
    live.chat(YES[language], session)
    case = the_case(live)
    assert (case.topic, case.company) == ("funding", company)


def test_after_a_switch_of_language_every_later_turn_stays_in_it(live):
    session, turns = live.conversation(OPENING["sv"], "Voidaanko jatkaa suomeksi, kiitos", "Kalle Exempel",
                                       "kalle@example.org", "Glassbaren på torget")
    assert turns[1][-1]["text"] == ASK_NAME["fi"]
    assert turns[2][-1]["text"].startswith(ASK_CONTACT["fi"])
    assert turns[3][-1]["text"] == ASK_COMPANY["fi"]
    assert turns[4][-1]["text"].startswith(CONSENT["fi"])  # a Swedish company name did not switch it back
    live.chat("Kyllä", session)
    case = the_case(live)
    assert (case.language, case.company) == ("fi", "Glassbaren på torget")


@pytest.mark.parametrize("language, text", [
    ("sv", "hmm jag vet inte riktigt"), ("sv", "jag vet inte"), ("fi", "hmm en oikein tiedä"),
    ("fi", "en tiedä"), ("en", "hmm I don't really know"), ("en", "not sure really"),
])
def test_an_unclear_first_message_gets_the_topic_menu_in_every_language(live, language, text):
    session, turns = live.conversation(text)
    assert turns[0][0]["text"] == MENU[language]
    assert "/founding" in [b["payload"] for b in turns[0][0]["buttons"]]
    with live.sessions() as s:
        assert s.scalars(select(Case)).all() == []


@pytest.mark.parametrize("language, text", [
    ("fi", "Tarvitsisimme rahoitusta uuteen koneeseen ja lisäksi kaksi uutta työntekijää"),
    ("sv", "Vi behöver finansiering för en ny maskin och dessutom två nya anställda"),
    ("en", "We need funding for a new machine and also two new employees"),
])
def test_with_two_topics_the_second_is_offered_right_after_the_first_handoff(live, language, text):
    session, _ = live.conversation(text, "/funding", "Testi Asiakas", "asiakas@example.org", "/deny")
    done = live.chat(YES[language], session)["replies"]
    offer = done[-1]
    assert [b["payload"] for b in offer["buttons"]] == ["/recruitment"], texts(done)
    consent = live.chat("/recruitment", session)["replies"][-1]  # no name or contact asked again
    assert [b["payload"] for b in consent["buttons"]] == ["/affirm", "/deny", "/change_topic"]
    live.chat(YES[language], session)
    with live.sessions() as s:
        cases = s.scalars(select(Case).order_by(Case.id)).all()
    assert [(c.topic, c.customer_name, c.customer_email) for c in cases] == [
        ("funding", "Testi Asiakas", "asiakas@example.org"), ("recruitment", "Testi Asiakas", "asiakas@example.org")]
