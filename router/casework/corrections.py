"""Staff corrections of the topic, as Rasa NLU training data for review, without who the customer was."""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Iterable, Optional

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from router.storage.models import NluCorrection


class _Block(str):
    """A string YAML writes as a literal block, as Rasa's examples are."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Block, lambda d, data: d.represent_scalar("tag:yaml.org,2002:str", data, style="|"))


# What identifies a person or a company in a message, replaced by a placeholder before the message may become
# training data: the consent covered handling this matter, not teaching the bot with the customer's details.
_PATTERNS = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "<email>"),
    (re.compile(r"\bFI\d{2}(?:\s?\d){14}\b", re.I), "<iban>"),
    (re.compile(r"\b\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]\b"), "<personal_id>"),  # henkilötunnus
    (re.compile(r"\b\d{7}-\d\b"), "<business_id>"),  # Y-tunnus
]
# A phone number has eight digits or more; "1 500 000 €" is an amount, which the bot should learn from.
_NUMBER = re.compile(r"(?<![\w])\+?\d[\d\s()-]{5,}\d(?![\w])(?!\s*(?:€|e\b|eur|euro|kr|sek))", re.I)


def _phone(match: re.Match) -> str:
    return "<phone>" if sum(ch.isdigit() for ch in match.group(0)) >= 8 else match.group(0)


def deidentify(text: str, names: Iterable[Optional[str]] = (), parts: Iterable[str] = ()) -> str:
    """The text with emails, phone numbers, IBANs, personal and business IDs and the given names replaced.

    `names` match in any case ("anna asiakas"); `parts` (a first or last name alone) only as written, capitalised,
    so that a name that is also a word ("Anna", "anna" = give) leaves the word alone.
    """
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    text = _NUMBER.sub(_phone, text)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "<name>", text, flags=re.I)
    for part in sorted(set(parts), key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", "<name>", text)
    return text


def known_names(case) -> dict:
    """The customer's name and company as they gave them, and each part of the name: `deidentify`'s keywords."""
    parts = [p.capitalize() for p in (case.customer_name or "").split() if len(p) >= 3]
    return {"names": [case.customer_name, case.company], "parts": parts}


def export(session: Session) -> str:
    """Rasa 3 NLU YAML: each corrected topic with the customers' first messages, deduplicated."""
    by_topic: dict[str, list[str]] = defaultdict(list)
    for row in session.scalars(select(NluCorrection).order_by(NluCorrection.id)):
        text = " ".join(deidentify(row.text).split())  # rows kept before names were removed at storage
        if text and text not in by_topic[row.new_topic]:
            by_topic[row.new_topic].append(text)
    nlu = [{"intent": topic, "examples": _Block("".join(f"- {t}\n" for t in texts))}
           for topic, texts in sorted(by_topic.items())]
    header = "# Corrections by staff (router nlu export-corrections). Review before adding to bot/data/nlu/.\n"
    return header + yaml.dump({"version": "3.1", "nlu": nlu}, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
