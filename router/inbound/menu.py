"""The topic menu, one list for every channel: web buttons, the same numbered on SMS (`numbered`), DTMF digits."""
from __future__ import annotations

from typing import Optional, Sequence

from router import texts
from router.storage.models import Topic


def choices(topics: Sequence[Topic]) -> list[Topic]:
    """Topics in menu order, the general service desk last."""
    return [t for t in topics if t.key != "general"] + [t for t in topics if t.key == "general"]


def label(topic: Topic, language: str) -> str:
    return topic.labels.get(language) or topic.labels.get("fi") or topic.key


def web(topics: Sequence[Topic], language: str) -> dict:
    """Buttons whose payloads trigger the topic's intent in Rasa."""
    return {"text": texts.say("clarify", language),
            "buttons": [{"title": label(t, language), "payload": f"/{t.key}"} for t in choices(topics)]}


def pick(topics: Sequence[Topic], answer: str) -> Optional[str]:
    """The topic key for a numbered answer ("2", " 2 "), or None."""
    answer = answer.strip().rstrip(".")
    if not (answer.isascii() and answer.isdigit()):
        return None
    ordered = choices(topics)
    index = int(answer) - 1
    return ordered[index].key if 0 <= index < len(ordered) else None


def numbered(reply, language: str) -> str:
    """A reply (text and buttons) as a numbered choice for SMS ("Vastaa numerolla: 1 Kyllä, 2 Ei")."""
    if not reply.buttons:
        return reply.text
    items = ", ".join(f"{i} {b['title']}" for i, b in enumerate(reply.buttons, start=1))
    return f"{reply.text}\n{texts.say('clarify_sms', language)} {items}"

