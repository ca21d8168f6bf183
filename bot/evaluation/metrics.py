"""Routing metrics over a held-out set; standard library only, so both environments can import it."""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

ROUTING = ("founding", "funding", "recruitment", "internationalisation", "plots", "general")
ASK = "nlu_fallback"  # the bot asks which topic is meant
HELDOUT = Path(__file__).resolve().parent.parent / "heldout"
# The targets `make evaluate` checks (issue 13). CI holds the build to them too (the floor), so a change that
# loses routing accuracy below the targets fails it; today's figures are above them (docs/nlu.md).
TARGETS = {"accuracy": 0.97, "accuracy_per_language": 0.95, "macro_f1": 0.96}
FLOOR = dict(TARGETS)


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    language: str


def read_heldout(folder: Path = HELDOUT) -> list[Example]:
    """The held-out examples from Rasa NLU YAML files named by language (fi.yml, sv.yml, en.yml)."""
    examples = []
    for path in sorted(folder.glob("*.yml")):
        intent = None
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"\s*- intent:\s*(\S+)", line)
            if match:
                intent = match.group(1)
                continue
            item = re.match(r"\s+- (.+)$", line)
            if item and intent:
                examples.append(Example(item.group(1).strip(), intent, path.stem))
    return examples


def macro_f1(gold: list[str], predicted: list[str], labels: Iterable[str] = ROUTING) -> float:
    scores = []
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted) if g == label and p == label)
        fp = sum(1 for g, p in zip(gold, predicted) if g != label and p == label)
        fn = sum(1 for g, p in zip(gold, predicted) if g == label and p != label)
        if tp + fp + fn == 0:
            continue
        scores.append(2 * tp / (2 * tp + fp + fn))
    return sum(scores) / len(scores) if scores else 0.0


def routed(intent: str) -> str:
    """Where an intent takes the customer: a question about the agency (faq_*) is the service desk's answer."""
    return "general" if intent.startswith("faq_") else intent


def summarise(examples: list[Example], predicted: list[str]) -> dict:
    """Accuracy and macro-F1 overall and per language, how often the bot asks, and the errors."""
    predicted = [routed(p) for p in predicted]
    def block(pairs: list[tuple[Example, str]]) -> dict:
        gold = [e.intent for e, _ in pairs]
        pred = [p for _, p in pairs]
        correct = sum(1 for g, p in zip(gold, pred) if g == p)
        return {"n": len(pairs), "accuracy": round(correct / len(pairs), 4) if pairs else 0.0,
                "macro_f1": round(macro_f1(gold, pred), 4),
                "asks": sum(1 for p in pred if p == ASK),
                "misroutes": sum(1 for g, p in zip(gold, pred) if p != g and p != ASK)}

    pairs = list(zip(examples, predicted))
    by_language = defaultdict(list)
    for pair in pairs:
        by_language[pair[0].language].append(pair)
    confusion = Counter((e.intent, p) for e, p in pairs)
    return {
        "overall": block(pairs),
        "languages": {lang: block(items) for lang, items in sorted(by_language.items())},
        "confusion": {f"{g} -> {p}": n for (g, p), n in sorted(confusion.items())},
        "errors": [{"text": e.text, "language": e.language, "expected": e.intent, "predicted": p}
                   for e, p in pairs if p != e.intent],
    }


def below_targets(summary: dict, targets: dict = TARGETS) -> list[str]:
    """The targets a summary misses, in words; empty when all are met."""
    misses = []
    overall = summary["overall"]
    if overall["accuracy"] < targets["accuracy"]:
        misses.append(f"accuracy {overall['accuracy']} < {targets['accuracy']}")
    if overall["macro_f1"] < targets["macro_f1"]:
        misses.append(f"macro-F1 {overall['macro_f1']} < {targets['macro_f1']}")
    for lang, block in summary["languages"].items():
        if block["accuracy"] < targets["accuracy_per_language"]:
            misses.append(f"{lang} accuracy {block['accuracy']} < {targets['accuracy_per_language']}")
    return misses
