"""Numbers, money, shares, months and days as each language writes them in Finland (babel), and numbers as people
type them ("4 500", "4,5", "1 234,50 €")."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from router.texts import LOCALES


def _locale(language: str) -> str:
    return LOCALES.get(language, LOCALES["fi"])


def number(value: Any, language: str, digits: int = 0) -> str:
    """"12 500" (fi, sv), "12,500" (en); `digits` decimals ("4,25"); "–" for nothing."""
    if value is None:
        return "–"
    return format_decimal(value, format="#,##0" + ("." + "0" * digits if digits else ""), locale=_locale(language))


def money(value: Any, language: str, digits: int = 0) -> str:
    """Euros: "45 000 000 €" (fi, sv), "€45,000,000" (en); "–" for nothing."""
    if value is None:
        return "–"
    body = "#,##0" + ("." + "0" * digits if digits else "")
    pattern = f"¤{body}" if language == "en" else f"{body}\u00a0¤"
    return format_currency(value, "EUR", format=pattern, locale=_locale(language), currency_digits=False)


def share(value: Optional[float], language: str) -> str:
    """A share 0–1 as a percentage: "71 %" (fi, sv), "71%" (en); "–" for nothing."""
    return "–" if value is None else format_percent(value, locale=_locale(language))


def month(key: str, language: str) -> str:
    """A month (YYYY-MM) in words: "lokakuu 2026", "oktober 2026", "October 2026"."""
    year, mon = (int(x) for x in key.split("-"))
    return format_date(date(year, mon, 1), "LLLL yyyy", locale=_locale(language))


def short_month(key: str, language: str) -> str:
    """A month (YYYY-MM) for a chart's axis or a table's column: "10/2026" (fi, sv), "Oct 2026" (en)."""
    year, mon = (int(x) for x in key.split("-"))
    return format_date(date(year, mon, 1), "LLL yyyy" if language == "en" else "M/yyyy", locale=_locale(language))


def date_text(value: Optional[date], language: str) -> str:
    """A date without its weekday: "31.12.2026" (fi, sv), "31 Dec 2026" (en)."""
    if value is None:
        return "–"
    return format_date(value, "d MMM yyyy" if language == "en" else "d.M.yyyy", locale=_locale(language))


_SPACES = re.compile(r"[\s\u00a0\u202f'_]")


def parse_number(text: str, language: str = "fi") -> Optional[Decimal]:
    """A number as people type it: "4 500", "4,5", "4.5", "1 234,50 €", "-3" (and "4,500" in English); None for
    empty or not a number."""
    cleaned = _SPACES.sub("", (text or "").strip()).removesuffix("€").removeprefix("€")
    if not cleaned:
        return None
    if "," in cleaned and "." in cleaned:  # "1,234.50" or "1.234,50": the last one is the decimal mark
        decimal_mark = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        cleaned = cleaned.replace("." if decimal_mark == "," else ",", "").replace(",", ".")
    elif cleaned.count(",") > 1 or cleaned.count(".") > 1:  # "1,234,567": groups only
        cleaned = cleaned.replace(",", "").replace(".", "")
    elif language == "en" and re.fullmatch(r"-?\d{1,3},\d{3}", cleaned):  # English groups with a comma
        cleaned = cleaned.replace(",", "")
    else:
        cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", cleaned):
        return None
    try:
        return Decimal(cleaned)
    except InvalidOperation:
        return None
