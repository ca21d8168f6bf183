"""An erasure reaches the real bot: after `privacy.erase`, Rasa's own SQL tracker store (written by the trained
model's Rasa server) holds nothing of the person's conversation, and Rasa's API shows an empty tracker."""
import sqlite3

import pytest
import requests
from sqlalchemy import select

from router.privacy import person as privacy
from router.storage.models import Case, Message, utcnow

from ..live_stack import RASA_TOKEN

pytestmark = pytest.mark.stack
WORDS = "Haluaisin perustaa kahvilan Vanhaan satamaan"


def events_of(live, sender):
    path = live.settings.rasa_tracker_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT data FROM events WHERE sender_id = ?", (sender,))]


def test_an_erasure_empties_the_person_s_tracker_in_rasa(live):
    sender, _ = live.conversation(WORDS, "Anna Asiakas", "anna.asiakas@example.org", "Esimerkki Oy", "/affirm")
    other, _ = live.conversation("tarvitsen rahoitusta koneeseen", "Olli Muu", "olli.muu@example.org", "-",
                                 "/affirm")
    assert any(WORDS in data for data in events_of(live, sender))  # Rasa stored the conversation

    with live.sessions() as s:
        done = privacy.erase(s, live.settings, privacy.Subject.of(email="anna.asiakas@example.org"), utcnow())
        s.commit()
    assert done["cases"] == 1 and done["bot_events"] > 0
    assert events_of(live, sender) == [] and events_of(live, other) != []
    path = live.settings.rasa_tracker_url.removeprefix("sqlite:///")
    with open(path, "rb") as f:
        stored = f.read()
    assert WORDS.encode() not in stored and b"anna.asiakas@example.org" not in stored  # vacuumed, not just unlinked
    tracker = requests.get(f"{live.rasa_url}/conversations/{sender}/tracker", params={"token": RASA_TOKEN},
                           timeout=10).json()
    assert [e for e in tracker["events"] if e.get("event") == "user"] == []
    with live.sessions() as s:
        case = s.scalar(select(Case).where(Case.customer_email.is_(None)))
        assert case is not None and case.topic == "founding"
        assert WORDS not in s.scalars(select(Message.text)).all()
