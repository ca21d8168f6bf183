"""One classification path for every channel: Rasa's intent ranking, the keyword classifier when Rasa is away."""
from __future__ import annotations

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
    ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") in known]
    if not ranking:
        return Classification("general", 0.0, lang, "rasa")
    best = max(ranking, key=lambda r: r.get("confidence", 0.0))
    return Classification(best["name"], round(float(best.get("confidence", 0.0)), 4), lang, "rasa")
