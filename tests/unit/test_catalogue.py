"""The one message catalogue: every id in fi, sv and en, the same placeholders in each, SMS texts in GSM-7 and in
their segment budget, and every id the code or a template asks for present."""
import re
import sys
from pathlib import Path

import pytest
import yaml

from router.casework.actions import OUTCOMES
from router.impact.rollups import ACTIVITY_KINDS, CHANNELS
from router.plan.leads import STAGES
from router.texts import LANGUAGES, say, word

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import messages  # noqa: E402

GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
           "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = set("^{}\\[~]|€")  # two septets each; € is here, which is why templates avoid it
CATALOGUES = {language: messages.catalogue(language) for language in LANGUAGES}
IDS = sorted(m.id for m in CATALOGUES["fi"] if m.id)
SMS_IDS = [i for i in IDS if "sms" in i and "." not in i]
# Long but real values, so the budget holds for what is actually sent.
FILLED = {"service": "Luukku", "name": "Aino-Maria Virtanen-Lindqvist", "title": "Kansainvälistymisen asiantuntija",
          "date": "ke 16.12.2026 klo 16.00", "ref": "LK-2026-001234", "topic": "kansainvälistyminen",
          "phone": "+358 9 310 12345", "email": "yrityspalvelut@example.org",
          "privacy": "https://luukku.example.org/privacy?lang=sv", "link": "https://luukku.example.org/s/Ab3dEf9h",
          "minutes": "10", "items": "1 Perustaminen, 2 Rahoitus, 3 Rekrytointi, 4 Kansainvälistyminen, 5 Tontit"}
# Answers to a keyword (HELP, STOP, START), and the thanks, are one segment; everything else at most two.
ONE_SEGMENT = {"sms_help", "sms_started", "sms_stopped", "survey_thanks_sms", "sms_media_only"}


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def segments(text: str) -> int:
    septets = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
    return 1 if septets <= 160 else -(-septets // 153)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_in_every_language(language):
    catalogue = CATALOGUES[language]
    assert sorted(m.id for m in catalogue if m.id) == IDS
    untranslated = [m.id for m in catalogue if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


def test_no_translation_asks_for_a_value_finnish_does_not():
    """A language may leave a value out (the Swedish line of the phone's welcome names no service), but a placeholder
    that Finnish, the default every sender is tested with, does not have is a typo that fails when it is sent."""
    strays = [(i, language, names) for i in IDS for language in ("sv", "en")
              if (names := placeholders(CATALOGUES[language][i].string) - placeholders(CATALOGUES["fi"][i].string))]
    assert strays == []


def test_every_id_the_code_and_the_templates_ask_for_is_in_the_catalogue():
    asked = messages.extracted()
    assert len(asked) > 200  # the extraction itself works: it finds the pages' and the channels' texts
    missing = {i: where for i, where in asked.items() if i not in CATALOGUES["fi"]}
    assert missing == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_stored_key_shown_as_a_word_has_one(language):
    keys = ([("staff.", c) for c in CHANNELS if c != "email"] + [("staff.", "email_channel")]
            + [("staff.", o) for o in OUTCOMES] + [("impact.channel.", c) for c in CHANNELS]
            + [("impact.outcome.", o) for o in OUTCOMES] + [("report.", c) for c in CHANNELS]
            + [("report.", k) for k in ACTIVITY_KINDS]
            + [("report.", s) for s in STAGES if s != "located"] + [("report.", "located_stage")])
    assert [prefix + key for prefix, key in keys if word(key, language, prefix) == key] == []


@pytest.mark.parametrize("key", SMS_IDS)
def test_sms_texts_are_gsm7_and_within_their_segments(key):
    for language in LANGUAGES:
        template = CATALOGUES[language][key].string
        assert non_gsm(re.sub(r"\{\w+\}", "", template)) == set(), (key, language)
        values = {name: FILLED.get(name, "x" * 20) for name in placeholders(template)}
        budget = 1 if key in ONE_SEGMENT else 2
        assert segments(say(key, language, **values)) <= budget, (key, language)


def non_gsm(text: str) -> set[str]:
    return {ch for ch in text if ch not in GSM7}


def test_the_bot_s_replies_are_gsm7_too():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for name, variants in domain["responses"].items():
        for variant in variants:
            texts = [variant["text"]] + [b["title"] for b in variant.get("buttons", [])]
            for text in texts:
                assert non_gsm(re.sub(r"\{\w+\}", "", text)) == set(), (name, text)


def test_the_guards_catch_what_they_guard():
    assert non_gsm("Hinta 5 € “lainausmerkit” 😀") == {"€", "“", "”", "😀"}
    assert non_gsm("Hyvää päivää, Åsa!") == set()
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2 and segments("€" * 80) == 1
    assert placeholders("{name}, {title}: {ref}") == {"name", "title", "ref"}


def test_every_refusal_a_form_can_show_has_its_words():
    """Each FieldError raised in the plan's modules names a field with a label and a `form.<key>` sentence."""
    import ast

    found = set()
    for path in (ROOT / "router" / "plan").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")).endswith(
                    "Error") and len(node.args) >= 3:
                field, key = node.args[1], node.args[2]
                if isinstance(field, ast.Constant) and isinstance(key, ast.Constant):
                    found.add((field.value, key.value))
    assert len(found) > 15
    missing = [(f, k) for f, k in found if f"staff.{f}" not in CATALOGUES["fi"] or f"form.{k}" not in
               CATALOGUES["fi"]]
    assert missing == []


def test_the_sms_consent_question_fits_two_segments_in_every_language():
    """The consent question as an SMS shows it (numbered answers), with the directory's longest topic name."""
    from types import SimpleNamespace

    from router.inbound.menu import numbered

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    labels = yaml.safe_load((ROOT / "directory.example.yml").read_text(encoding="utf-8"))["topics"]
    sms = {next(c["value"] for c in v["condition"] if c["name"] == "language"): v
           for v in domain["responses"]["utter_ask_consent"]
           if any(c["name"] == "channel" and c["value"] == "sms" for c in v.get("condition", []))}
    assert set(sms) == set(LANGUAGES)
    for language, variant in sms.items():
        longest = max((names[language] for names in labels.values()), key=len)
        text = numbered(SimpleNamespace(text=variant["text"].replace("{topic_label}", longest),
                                        buttons=variant["buttons"]), language)
        assert non_gsm(text) == set() and segments(text) <= 2, (language, len(text), text)
