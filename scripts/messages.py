"""`make messages`: the ids that code and templates ask for, added to each catalogue (never removed: ids looked up
from stored keys, such as a channel's or an outcome's word, are not in the code as literals)."""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from router.texts import LANGUAGES, LOCALE_DIR  # noqa: E402

KEYWORDS = {"_": None, "gettext": None, "N_": None, "say": None}


def extracted() -> dict[str, list[tuple[str, int]]]:
    """Each literal id in router/ (Python and Jinja) with where it is used."""
    found: dict[str, list[tuple[str, int]]] = {}
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    for filename, line, message, _comments, _context in extract_from_dir(
            ROOT / "router", method_map, keywords=KEYWORDS, strip_comment_tags=True):
        if isinstance(message, str) and "{" not in message:  # an f-string's id is looked up from a stored key
            found.setdefault(message, []).append((f"router/{filename}", line))
    return found


def catalogue(language: str):
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=language)


def main() -> int:
    ids = extracted()
    for language in LANGUAGES:
        cat = catalogue(language)
        new = [i for i in ids if i not in cat]
        for message in new:
            cat.add(message, "", locations=ids[message])
        with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("wb") as f:
            write_po(f, cat, width=110, sort_output=True, include_previous=False)
        print(f"{language}: {len(new)} new ids to translate" + (f": {', '.join(new)}" if new else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
