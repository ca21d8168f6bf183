from bot.evaluation.metrics import Example, below_targets, macro_f1, read_heldout, summarise


def test_macro_f1_averages_over_the_labels_present():
    assert macro_f1(["a", "a", "b"], ["a", "a", "b"], labels=["a", "b"]) == 1.0
    assert round(macro_f1(["a", "b"], ["a", "a"], labels=["a", "b"]), 3) == round((2 / 3 + 0) / 2, 3)


def test_summary_counts_asks_and_misroutes_per_language():
    ex = [Example("x", "funding", "fi"), Example("y", "plots", "fi"), Example("z", "plots", "sv")]
    s = summarise(ex, ["funding", "nlu_fallback", "funding"])
    assert s["overall"]["accuracy"] == round(1 / 3, 4)
    assert (s["languages"]["fi"]["asks"], s["languages"]["sv"]["misroutes"]) == (1, 1)
    assert len(s["errors"]) == 2 and below_targets(s)


def test_the_held_out_set_is_read_per_language_and_kept_out_of_training():
    examples = read_heldout()
    assert {e.language for e in examples} == {"fi", "sv", "en"}
    from pathlib import Path
    training = "\n".join(p.read_text(encoding="utf-8") for p in (Path(__file__).parents[2] / "bot/data").rglob("*.yml"))
    leaked = [e.text for e in examples if f"- {e.text}\n" in training]
    assert leaked == []
