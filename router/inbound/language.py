"""Which of fi, sv, en a customer writes in: a small pure heuristic, good for one message or many."""
from __future__ import annotations

import re

_WORD = re.compile(r"[a-zåäö]+")
_MARKERS = {
    "fi": {"hei", "moi", "moro", "terve", "kiitos", "kiitti", "haluaisin", "haluan", "tarvitsen", "olen", "minä",
           "mä", "ja", "on", "ei", "kyllä", "joo", "yritys", "yrityksen", "yritykseni", "yritykselle", "apua",
           "miten", "mistä", "mista", "onko", "voinko", "meidän", "meiän", "perustaa", "rahoitusta", "tontti",
           "työntekijöitä", "tyontekijoita", "vienti", "toimitila", "pitäis", "oisin", "tarttisin", "firma",
           "päivää", "huomenta", "kanssa", "että", "sinut", "nimeni", "olisi", "kun", "mitä", "mikä",
           "rekry", "vai", "myös", "toiminimi", "tarvis", "hyvää", "ystävällisin", "terveisin", "näkemiin"},
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
    scores = {lang: sum(1 for w in words if w in markers) for lang, markers in _MARKERS.items()}
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
