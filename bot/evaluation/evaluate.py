"""`make evaluate`: held-out routing report with the trained model (runs in the bot environment)."""
from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from rasa.core.agent import Agent

from .metrics import ROUTING, below_targets, read_heldout, summarise

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "reports" / "nlu"


async def predict(model: Path, texts: list[str]) -> list[str]:
    agent = Agent.load(str(model))
    return [(await agent.parse_message(text))["intent"]["name"] for text in texts]


def confusion_png(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = list(ROUTING) + ["nlu_fallback", "other"]
    grid = [[0] * len(columns) for _ in ROUTING]
    for key, n in summary["confusion"].items():
        gold, pred = key.split(" -> ")
        grid[ROUTING.index(gold)][columns.index(pred if pred in columns else "other")] += n
    fig, ax = plt.subplots(figsize=(9, 6))
    ax.imshow(grid, cmap="Blues")
    ax.set_xticks(range(len(columns)), columns, rotation=40, ha="right")
    ax.set_yticks(range(len(ROUTING)), ROUTING)
    ax.set_xlabel("predicted")
    ax.set_ylabel("expected")
    for i, row in enumerate(grid):
        for j, n in enumerate(row):
            if n:
                ax.text(j, i, str(n), ha="center", va="center", color="white" if n > 20 else "black")
    ax.set_title("Held-out routing: confusion matrix")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(model: str) -> int:
    examples = read_heldout()
    predicted = asyncio.run(predict(Path(model), [e.text for e in examples]))
    summary = summarise(examples, predicted)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "heldout.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    (OUT / "errors.json").write_text(json.dumps(summary["errors"], ensure_ascii=False, indent=2), encoding="utf-8")
    confusion_png(summary, OUT / "confusion.png")
    o = summary["overall"]
    print(f"\nHeld-out routing ({o['n']} messages): accuracy {o['accuracy']}, macro-F1 {o['macro_f1']}, "
          f"asks {o['asks']}, confident misroutes {o['misroutes']}")
    for lang, b in summary["languages"].items():
        print(f"  {lang}: accuracy {b['accuracy']}, macro-F1 {b['macro_f1']}, asks {b['asks']}, "
              f"misroutes {b['misroutes']}")
    print(f"Errors ({len(summary['errors'])}), first ten:")
    for err in summary["errors"][:10]:
        print(f"  [{err['language']}] {err['expected']} -> {err['predicted']}: {err['text'][:80]}")
    misses = below_targets(summary)
    print("Targets: " + ("met" if not misses else "MISSED: " + "; ".join(misses)))
    print(f"Report: {OUT.relative_to(ROOT)}/ (heldout.json, errors.json, confusion.png)")
    return 1 if misses else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "models" / "current.tar.gz")))
