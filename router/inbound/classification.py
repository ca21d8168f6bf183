"""One classification path for every channel: Rasa's intent ranking, the keyword classifier when Rasa is away."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Iterable, Optional

from router.inbound import keywords, language
from router.inbound.rasa_client import RasaUnavailable

# Below this, a channel that cannot ask back (email) goes to the general service desk.
CONFIDENT = 0.45


@dataclass(frozen=True)
class Classification:
    """A topic with its confidence, the detected language, and which classifier answered."""

    topic: str
    confidence: float
    language: str
    source: str  # "rasa" or "fallback"

    @property
    def confident(self) -> bool:
        return self.topic != "general" and self.confidence >= CONFIDENT

    def as_dict(self) -> dict:
        return asdict(self)


def classify(text: str, rasa, topics: Iterable[str], lang: Optional[str] = None,
             timeout: Optional[float] = None) -> Classification:
    """The best known topic for `text`; `general` when nothing fits."""
    known = set(topics) | {"general"}
    lang = lang or language.detect(text)
    try:
        parsed = rasa.parse(text, timeout=timeout) if timeout else rasa.parse(text)
    except RasaUnavailable:
        guess = keywords.classify(text)
        topic = guess.topic if guess.topic in known else "general"
        return Classification(topic, guess.confidence, lang, "fallback")
    scores: dict[str, float] = {}
    for r in parsed.get("intent_ranking") or []:
        # A question about the agency itself (faq_*) is the general service desk's matter.
        name = "general" if str(r.get("name", "")).startswith("faq_") else r.get("name")
        if name in known:
            scores[name] = scores.get(name, 0.0) + float(r.get("confidence", 0.0))
    if not scores:
        return Classification("general", 0.0, lang, "rasa")
    best = max(scores, key=lambda name: scores[name])
    return Classification(best, round(min(scores[best], 1.0), 4), lang, "rasa")


# Words that join two requests in one message ("rahoitusta ja työntekijöitä", "finansiering och anställda").
JOINERS = re.compile(r"\b(?:ja|sekä|och|samt|and|as well as|plus)\b|[+&;]", re.IGNORECASE)
# A joined part is a request of its own only when it names its topic this surely; a message the classifier is
# this sure of as a whole has one request, and its other part is context ("olen työtön ja haluaisin ryhtyä
# yrittäjäksi" is founding, not recruitment). Chosen so no held-out message is asked (docs/nlu.md).
PART_SURE = 0.9
WHOLE_SURE = 0.99


def topics_in(text: str, rasa, topics: Iterable[str], timeout: Optional[float] = None) -> list[str]:
    """The service topics a message asks for, in the order it names them: each joined part classified alone."""
    parts = [p.strip(" ,.!?") for p in JOINERS.split(text) if len(p.split()) >= 2]
    if len(parts) < 2:
        return []  # one request: the message's own classification stands
    if classify(text, rasa, topics, lang="-", timeout=timeout).confidence >= WHOLE_SURE:
        return []
    found: list[str] = []
    for part in parts:
        result = classify(part, rasa, topics, lang="-", timeout=timeout)
        if result.topic != "general" and result.confidence >= PART_SURE and result.topic not in found:
            found.append(result.topic)
    return found if len(found) >= 2 else []
