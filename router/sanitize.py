"""Input hygiene shared by every channel: text that can always be stored, shown and sent."""
from __future__ import annotations

import json
import re
from typing import Any, Optional

# NUL and the C0/C1 controls except tab and newline: PostgreSQL refuses NUL, terminals and mail clients
# misread the rest. Lone surrogates cannot be encoded as UTF-8 at all.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# Every C0 control and DEL, tab and line breaks included: none belongs in an id, a path or a header.
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKETS = re.compile(r"[\[\]{}]")
MAX_JSON_DEPTH = 32


def clean(value: Any, limit: int = 4000) -> str:
    """A storable string: controls and lone surrogates removed, CR/LF kept as newlines, at most `limit` characters."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SURROGATES.sub("", _CONTROLS.sub("", text))
    return text[:limit]


def has_control(*values: str) -> bool:
    """Whether any of these holds a control character (an address or an id that names nothing we have)."""
    return any(_ANY_CONTROL.search(v) for v in values)


def one_line(value: Any, limit: int = 300) -> str:
    """A header-safe string: no line breaks at all (they would start a new header)."""
    return re.sub(r"\s*\n\s*", " ", clean(value, limit * 2)).strip()[:limit]


def optional(value: Any, limit: int = 200) -> Optional[str]:
    """A cleaned non-empty string, or None."""
    text = clean(value, limit).strip() if isinstance(value, str) else ""
    return text or None


def number(value: Any, default: int = 0, low: int = 0, high: int = 1_000_000) -> int:
    """An ASCII integer from a webhook field, clamped; anything else is the default."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit():
        return default
    return max(low, min(high, int(text)))


def json_depth(raw: str) -> int:
    """How deeply a JSON text nests, without parsing it (strings are skipped)."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRINGS.sub('""', raw)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads(raw: str | bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads that refuses (ValueError) a document nested deeper than `max_depth` instead of recursing."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, (bytes, bytearray)) else raw
    if json_depth(text) > max_depth:
        raise ValueError(f"JSON nested deeper than {max_depth}")
    return json.loads(text)


_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def quoted(value: Any, limit: int = 1000) -> str:
    """Customer text inside a Markdown document or a plain-text email: one line, every character that Markdown
    or HTML reads as markup escaped, between quotation marks, so it cannot add a heading, a link or a tag."""
    text = one_line(value, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "\u201c" + _MARKDOWN.sub(r"\\\1", text) + "\u201d"


def csv_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet never runs as a formula (OWASP: a leading =, +, -, @, tab or CR gets a quote)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_row(row: dict) -> dict:
    """Every cell of a CSV row made safe (`csv_cell`)."""
    return {key: csv_cell(value) for key, value in row.items()}
