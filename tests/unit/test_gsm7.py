"""SMS texts stay in the GSM-7 alphabet, so a Finnish SMS is 160 characters a segment."""
import re
from pathlib import Path

import pytest
import yaml

from router.texts import TEXTS

GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
           "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = set("^{}\\[~]|€")  # two septets each; € is here, which is why templates avoid it
SMS_KEYS = [k for k in TEXTS if "sms" in k]
ROOT = Path(__file__).resolve().parents[2]


def non_gsm(text: str) -> set[str]:
    return {ch for ch in text if ch not in GSM7}


@pytest.mark.parametrize("key", SMS_KEYS)
def test_sms_templates_are_gsm7(key):
    for language, text in TEXTS[key].items():
        assert non_gsm(re.sub(r"\{\w+\}", "", text)) == set(), (key, language)


def test_the_bot_s_replies_are_gsm7_too():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for name, variants in domain["responses"].items():
        for variant in variants:
            texts = [variant["text"]] + [b["title"] for b in variant.get("buttons", [])]
            for text in texts:
                assert non_gsm(re.sub(r"\{\w+\}", "", text)) == set(), (name, text)


def test_the_guard_catches_what_is_not_gsm7():
    assert non_gsm("Hinta 5 € “lainausmerkit” 😀") == {"€", "“", "”", "😀"}
    assert non_gsm("Hyvää päivää, Åsa!") == set()
