"""`make bench-sib200`: the project's NLU pipeline (`config.yml`) on the public SIB-200 topic benchmark.

For each of Finnish, Swedish and English: train an NLU model on that language's train file only, with the
project's own configuration, and report accuracy and macro-F1 on its test file (the classifier's top topic; how
many the fallback would have asked about is shown too). Runs in the bot's environment (Rasa's Python API).
SIB200_DIR: where the `{fin,swe,eng}.{train,test}.tsv` files are (default ../shared/benchmarks/sib200).
Writes reports/sib200.json.
"""
from __future__ import annotations

import asyncio
import csv
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

# Rasa logs every parse at debug level otherwise; read when Rasa is first imported.
os.environ.setdefault("LOG_LEVEL", "WARNING")
ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = {"fin": "fi", "swe": "sv", "eng": "en"}
TARGET = 0.85


def read(path: Path) -> list[tuple[str, str]]:
    """(intent, text) pairs; the category becomes a valid intent name ("science/technology" → science_technology)."""
    with path.open(encoding="utf-8", newline="") as f:
        return [(row["category"].replace("/", "_"), row["text"].strip())
                for row in csv.DictReader(f, delimiter="\t") if row["text"].strip()]


def nlu_yaml(pairs: list[tuple[str, str]]) -> str:
    """Rasa's NLU training format; brackets and parentheses are escaped so no text reads as an entity."""
    by_intent: dict[str, list[str]] = {}
    for intent, text in pairs:
        by_intent.setdefault(intent, []).append(text.replace("[", "(").replace("]", ")"))
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in sorted(by_intent.items()):
        lines += [f"  - intent: {intent}", "    examples: |"] + [f"      - {t}" for t in texts]
    return "\n".join(lines) + "\n"


def macro_f1(gold: list[str], predicted: list[str]) -> float:
    scores = []
    for label in sorted(set(gold)):
        tp = sum(1 for g, p in zip(gold, predicted) if g == p == label)
        fp = sum(1 for g, p in zip(gold, predicted) if p == label != g)
        fn = sum(1 for g, p in zip(gold, predicted) if g == label != p)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


async def evaluate(model: str, test: list[tuple[str, str]]) -> tuple[list[str], int]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    predicted, asked = [], 0
    for _, text in test:
        parsed = await agent.parse_message(text)
        ranking = [r for r in parsed.get("intent_ranking") or [] if r["name"] != "nlu_fallback"]
        predicted.append(ranking[0]["name"] if ranking else "")
        asked += parsed["intent"]["name"] == "nlu_fallback"
    return predicted, asked


def main() -> None:
    from rasa.model_training import train_nlu

    data = Path(os.environ.get("SIB200_DIR", ROOT.parent / "shared" / "benchmarks" / "sib200"))
    if not (data / "fin.train.tsv").exists():
        sys.exit(f"make bench-sib200: no SIB-200 files in {data} (set SIB200_DIR)")
    results = {}
    print(f"make bench-sib200: config.yml on SIB-200 from {data} (train on *.train.tsv, test on *.test.tsv)")
    for code, lang in LANGUAGES.items():
        train, test = read(data / f"{code}.train.tsv"), read(data / f"{code}.test.tsv")
        with tempfile.TemporaryDirectory(prefix="luukku-sib200-") as tmp:
            nlu_file = Path(tmp) / "nlu.yml"
            nlu_file.write_text(nlu_yaml(train), encoding="utf-8")
            started = time.monotonic()
            model = train_nlu(str(ROOT / "config.yml"), str(nlu_file), str(Path(tmp) / "models"),
                              fixed_model_name=f"sib200-{code}")
            seconds = time.monotonic() - started
            predicted, asked = asyncio.run(evaluate(model, test))
        gold = [intent for intent, _ in test]
        accuracy = sum(g == p for g, p in zip(gold, predicted)) / len(gold)
        results[lang] = {"train": len(train), "test": len(test), "accuracy": round(accuracy, 3),
                         "macro_f1": round(macro_f1(gold, predicted), 3), "below_fallback": asked,
                         "training_seconds": round(seconds, 1),
                         "confusions": Counter(f"{g}->{p}" for g, p in zip(gold, predicted) if g != p).most_common(5)}
        print(f"  {lang}: accuracy {accuracy:.3f}  macro-F1 {results[lang]['macro_f1']:.3f}  "
              f"({len(test)} test sentences; {asked} below the fallback threshold; trained in {seconds:.0f} s)",
              flush=True)
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "sib200.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    met = all(r["accuracy"] >= TARGET for r in results.values())
    print(f"  target ≥ {TARGET} per language: {'met' if met else 'not met'}; reports/sib200.json")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
