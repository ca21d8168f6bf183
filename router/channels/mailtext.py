"""What the customer wrote this time: quoted replies and signatures removed before classifying."""
from __future__ import annotations

import re

# Lines that start the quoted previous message in the clients Finnish customers use (fi, sv, en).
_QUOTE_HEADERS = [
    re.compile(r"^\s*(On|Le|Am) .{0,200}(wrote|a écrit|schrieb)\s*:\s*$", re.I),
    re.compile(r"^.{0,200}\s(kirjoitti|skrev)\s*:\s*$", re.I),
    re.compile(r"^\s*-{2,}\s*(Original Message|Alkuperäinen viesti|Ursprungligt meddelande)\s*-{2,}", re.I),
    re.compile(r"^\s*(From|Lähettäjä|Från)\s*:\s*.+$", re.I),
    re.compile(r"^\s*_{10,}\s*$"),
]
_SIGNATURE = [
    re.compile(r"^--\s*$"),
    re.compile(r"^\s*(Sent from my|Lähetetty (iPhonesta|Android)|Skickat från min)", re.I),
]


def strip_reply(text: str) -> str:
    """Text above the first quote header or signature marker, without '>' quoted lines."""
    kept = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if any(p.match(line) for p in _QUOTE_HEADERS + _SIGNATURE):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


# A closing line on its own starts the signature block; an opening line on its own says nothing of the matter.
_CLOSING = re.compile(r"^\s*(ystävällisin terveisin|terveisin|t\.|parhain terveisin|med vänliga hälsningar|"
                      r"vänliga hälsningar|hälsningar|mvh|kind regards|best regards|regards|best|br|cheers|"
                      r"sincerely|yours sincerely)\s*[,.!]?\s*$", re.I)
_OPENING = re.compile(r"^\s*(hei|hei vaan|moi|hyvä vastaanottaja|hyvää päivää|hej|hejsan|bästa mottagare|god dag|"
                      r"hello|hi|dear sir or madam|dear [\w .]+|good (morning|afternoon|day))\s*[,.!]?\s*$", re.I)


def for_classifier(text: str) -> str:
    """The matter itself: no quotes, no signature, no greeting or closing lines."""
    kept = []
    for line in strip_reply(text).split("\n"):
        if _CLOSING.match(line):
            break
        if not _OPENING.match(line):
            kept.append(line)
    return "\n".join(kept).strip()
