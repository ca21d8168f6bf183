"""The keyword classifier used when Rasa is down or slow: it never guesses a specialist on no evidence."""
from __future__ import annotations

import re
from dataclasses import dataclass

# Stems in fi, sv and en (diacritics optional), matched at word starts.
STEMS: dict[str, tuple[str, ...]] = {
    "founding": ("perust", "aloit", "toiminim", "liiketoimintasuunn", "yhtiömuo", "yhtiomuo", "starttira",
                 "yrittäjäksi", "yrittajaksi", "grunda", "starta", "startpeng", "affärsplan", "affarsplan",
                 "bolagsform", "found", "start", "establish", "business plan", "sole trader", "osakeyhtiö"),
    "funding": ("rahoit", "rahot", "laina", "lainaa", "avustu", "tuki", "tukea", "sijoittaj", "pääom", "paaom",
                "finansier", "lån", "bidrag", "stöd", "investerare", "kapital", "fund", "financ", "loan",
                "grant", "investor", "capital", "subsid", "finnvera"),
    "recruitment": ("rekry", "työntekij", "tyontekij", "palka", "palkkatu", "henkilöst", "henkilost", "työvoim",
                    "rekryter", "anställ", "anstall", "personal", "arbetskraft", "recruit", "hire", "hiring",
                    "employ", "staff", "worker", "wage subs"),
    "internationalisation": ("vien", "kansainv", "ulkomai", "messu", "export", "internation", "utländ",
                             "utland", "mäss", "foreign", "abroad", "trade fair", "tytäryht"),
    "plots": ("tontt", "tontin", "toimitil", "liiketil", "halli", "varastotil", "sijoittu", "tomt", "lokal",
              "etabler", "plot", "premises", "office space", "warehouse", "retail space", "relocat"),
}


@dataclass(frozen=True)
class Guess:
    """A topic with a rough confidence; `general` when no stem matched."""

    topic: str
    confidence: float


def classify(text: str) -> Guess:
    """Count stem hits per topic; a tie or no hit goes to the general service desk."""
    lowered = text.lower()
    words = re.findall(r"[\wåäö-]+", lowered)
    joined = " " + " ".join(words)
    hits = {topic: sum(joined.count(" " + stem) for stem in stems) for topic, stems in STEMS.items()}
    ranked = sorted(hits.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top == 0 or top == second:
        return Guess("general", 0.0)
    return Guess(best, round(min(0.9, 0.5 + 0.1 * (top - second)), 2))
