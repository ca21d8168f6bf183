"""Which of fi, sv, en a customer writes in, message by message.

lingua-language-detector (its models ship in the wheel: nothing is downloaded) decides for substantial messages,
among the served languages and the neighbours' most likely to reach a Finnish city (so that German is recognised
as German, not as the closest of fi, sv and en). Short answers ("ok", "1", a name) keep the language; the first
message of a conversation falls back to a small word-list heuristic that knows the greetings.
"""
from __future__ import annotations

import functools
import re
import threading
from typing import Optional

_WORD = re.compile(r"[a-zåäö]+")
_MARKERS = {
    "fi": {"hei", "moi", "moro", "terve", "kiitos", "kiitti", "haluaisin", "haluan", "tarvitsen", "olen", "minä",
           "mä", "ja", "on", "ei", "kyllä", "joo", "yritys", "yrityksen", "yritykseni", "yritykselle", "apua",
           "miten", "mistä", "mista", "onko", "voinko", "meidän", "meiän", "perustaa", "rahoitusta", "tontti",
           "työntekijöitä", "tyontekijoita", "vienti", "toimitila", "pitäis", "oisin", "tarttisin", "firma",
           "päivää", "huomenta", "kanssa", "että", "sinut", "nimeni", "olisi", "kun", "mitä", "mikä",
           "rekry", "vai", "myös", "toiminimi", "tarvis", "hyvää", "ystävällisin", "terveisin", "näkemiin",
           # an unsure start ("hmm en oikein tiedä": "en" alone is Swedish or English)
           "tiedä", "tiedän", "oikein", "osaa", "varma", "vaikea", "sanoa"},
    "sv": {"hej", "hejsan", "tack", "jag", "vill", "och", "att", "är", "en", "ett", "det", "behöver", "företag",
           "företaget", "mitt", "min", "vi", "söker", "hur", "var", "kan", "för", "med", "till", "inte",
           "nej", "ja", "starta", "grunda", "finansiering", "lokal", "tomt", "anställa", "personal", "hjälp",
           "vad", "har", "som", "också", "god", "dag", "morgon", "vänliga", "hälsningar", "skulle", "gärna",
           "bolag", "firma", "rekry", "mig", "oss", "vår", "vårt", "stöd"},
    "en": {"hello", "hi", "hey", "thanks", "thank", "you", "i", "want", "would", "like", "to", "the", "a", "an",
           "and", "my", "our", "we", "need", "help", "company", "business", "start", "how", "where", "can",
           "is", "are", "for", "with", "funding", "hire", "export", "plot", "premises", "please", "of", "do",
           "yes", "no", "what", "good", "morning", "regards", "best", "dear", "me", "us", "looking"},
}
_DIACRITIC_HINTS = {"å": "sv", "ä": "fi", "ö": "fi"}


def detect(text: str, default: str = "fi") -> str:
    """The most likely language of `text`; `default` when nothing tells."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    scores: dict[str, float] = {lang: sum(1 for w in words if w in markers) for lang, markers in _MARKERS.items()}
    # "å" is Swedish only; "ä"/"ö" lean Finnish because Finnish uses them far more often.
    if "å" in lowered:
        scores["sv"] += 2
    for ch in ("ä", "ö"):
        if ch in lowered and "å" not in lowered:
            scores["fi"] += 0.5
    # Finnish case endings on unknown words: -ssa/-ssä, -sta/-stä, -lle, -n, common in any Finnish text.
    scores["fi"] += 0.3 * sum(1 for w in words if w.endswith(("ssa", "ssä", "sta", "stä", "lle", "ksi", "ista")))
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > 0 else default


SERVED = {"FINNISH": "fi", "SWEDISH": "sv", "ENGLISH": "en"}
# Languages recognised in order to say which ones are served, rather than to guess fi, sv or en for them.
OTHERS = ("GERMAN", "FRENCH", "SPANISH", "ESTONIAN", "RUSSIAN", "ITALIAN", "POLISH", "DUTCH", "UKRAINIAN")
SUBSTANTIAL_WORDS = 3
_detector = None
_detector_lock = threading.Lock()


def _lingua():
    global _detector
    with _detector_lock:
        if _detector is None:
            from lingua import Language, LanguageDetectorBuilder

            # Low accuracy mode: trigram models only, 29 MB instead of 290 MB in each web process; it only ever
            # sees messages of three words or more, where it is as sure as the full models (tests/unit).
            _detector = LanguageDetectorBuilder.from_languages(
                *(getattr(Language, name) for name in (*SERVED, *OTHERS))).with_low_accuracy_mode() \
                .with_preloaded_language_models().build()
    return _detector


def warm() -> None:
    """Load the detector before the first customer: its first detection otherwise takes about 0.1 s."""
    _lingua().compute_language_confidence_values("warm up the language models")


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[^\W\d_]+", text.lower()) if len(w) > 1]


def _markers(text: str) -> dict[str, float]:
    """The word list's score for each served language."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    return {lang: sum(1 for w in words if w in markers) for lang, markers in _MARKERS.items()}


@functools.lru_cache(maxsize=1024)  # the inbound path asks twice about one message: to switch, and to answer
def identify(text: str) -> Optional[str]:
    """"fi", "sv", "en", "other" for a substantial message in a language not served, or None when unsure.

    The statistical model and the word list check each other: the model (trigrams, low accuracy mode) is sure of
    most sentences but can take a short English one for Estonian; the word list knows the service's own words.
    """
    words = text.split()
    if text.startswith("/") or len(words) < SUBSTANTIAL_WORDS or len(_words(text)) < 2:
        return None
    ranked = _lingua().compute_language_confidence_values(text)
    if not ranked:
        return None
    best = ranked[0]
    runner_up = ranked[1].value if len(ranked) > 1 else 0.0
    code = SERVED.get(best.language.name)
    markers = _markers(text)
    listed = max(markers, key=lambda k: markers[k])
    if code is not None and _name_like(words, markers):
        return None
    if code is not None and markers[code] == 0 and markers[listed] >= (1 if len(words) <= 5 else 2):
        # The word list names another language ("tell me a joke" was Finnish at 0.85; in "Jag heter Kaisa
        # Kieltäytyjä" the model hears the name): the model is not trusted on its own.
        code = None
    elif code is None:
        # Another language only when the model is sure and the sentence has (almost) none of our words.
        if best.value >= 0.9 and len(words) >= 4 and markers[listed] <= 1:
            return "other"
    elif best.value >= 0.8 or (best.value - runner_up >= 0.08 and listed == code and markers[listed] > 0):
        return code
    # The model is unsure or disagrees: the word list decides when it is clear (two words or more).
    if markers[listed] >= 2 and sorted(markers.values())[-2] < markers[listed]:
        return listed
    return None


def _name_like(words: list[str], markers: dict[str, float]) -> bool:
    """A few capitalised words and none of the word list's: a person's or a company's name ("Kalle Exempel Ab"),
    whose looks the model reads as a language."""
    return len(words) <= 5 and not any(markers.values()) and all(w[:1].isupper() for w in words)


_NAMED = {"finnish": "fi", "finska": "fi", "suomeksi": "fi", "swedish": "sv", "svenska": "sv", "ruotsiksi": "sv",
          "english": "en", "engelska": "en", "englanniksi": "en"}
# Asking to be served in a language: a verb of talking or writing, then the language ("can I write in Swedish
# instead", "voinko kirjoittaa ruotsiksi", "kan ni svara på finska"), or the language alone with a please. Not
# "our website in English": that is a matter, not a request.
_REQUEST = re.compile(
    r"\b(?:write|speak|talk|answer|reply|continue|chat|serve|kirjoit\w*|puhu\w*|vastat\w*|vastaat\w*|vastais\w*|"
    r"jatka\w*|palvele\w*|palvella|asioi\w*|keskustel\w*|skriv\w*|tala\w*|prata\w*|svara\w*|fortsätt\w*|"
    r"betjäna\w*)\b[^.?!]*?"
    r"\b(?:in (finnish|swedish|english)|på (finska|svenska|engelska)|(suomeksi|ruotsiksi|englanniksi))\b(?!-)"
    r"|^\W*(?:in (finnish|swedish|english)|på (finska|svenska|engelska)|(suomeksi|ruotsiksi|englanniksi))"
    r"\W*(?:please|tack|kiitos)?\W*$", re.IGNORECASE)


def requested(text: str) -> Optional[str]:
    """The language the customer asks to be served in, if the message asks for one."""
    found = _REQUEST.search(text)
    return _NAMED[next(g for g in found.groups() if g).lower()] if found else None


def follow(text: str, current: str, first: bool = False) -> str:
    """The conversation's language after this message: switched when the customer switched or asked for another
    language, else kept."""
    asked = requested(text)
    if asked:
        return asked
    found = identify(text)
    if found in ("fi", "sv", "en"):
        return found
    return detect(text, default=current) if first else current
