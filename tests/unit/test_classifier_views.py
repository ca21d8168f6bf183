"""The intent classifier's views (bot/components/two_view_classifier.py), run in the bot's own environment."""
import json
import subprocess

import pytest

from ..conftest import ROOT

BOT_PYTHON = ROOT / ".venv-bot" / "bin" / "python"

# A broad intent spread over a circle, and a small tight group of another intent at its edge, between two of the
# broad intent's examples: the nearest examples find the group; a boundary drawn for the broad intent may not.
SCRIPT = r"""
import json, numpy as np
from bot.components.two_view_classifier import fit_temperature, mix, neighbours

angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
broad = np.c_[np.cos(angles), np.sin(angles), np.zeros(40)]
tight = np.array([[np.cos(a), np.sin(a), 0.05] for a in (0.07, 0.08, 0.09)])
train = np.vstack([broad, tight])
train /= np.linalg.norm(train, axis=1, keepdims=True)
gold = np.array([0] * 40 + [1] * 3)
probe = np.array([[np.cos(0.085), np.sin(0.085), 0.05], [np.cos(3.0), np.sin(3.0), 0.0]])
probe /= np.linalg.norm(probe, axis=1, keepdims=True)
log_k = neighbours(train, gold, 2, probe, 3, 0.05)
flat = np.log(np.full((2, 2), 0.5))
out = {
    "near_group": np.exp(log_k[0]).tolist(),
    "far_away": np.exp(log_k[1]).tolist(),
    "rows_sum": np.exp(log_k).sum(axis=1).tolist(),
    "off": mix(flat, flat, 0.7, log_k, 0.0).tolist(),
    "on": mix(flat, flat, 0.7, log_k, 0.6).tolist(),
    "empty_class": np.exp(neighbours(train, np.zeros(43, dtype=int), 2, probe, 3, 0.05)).tolist(),
    "temperature_sharp": fit_temperature(np.array([[4.0, 0.0], [0.0, 4.0]]), np.array([0, 1])),
    "temperature_wrong": fit_temperature(np.array([[4.0, 0.0], [4.0, 0.0]]), np.array([0, 1])),
}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def views():
    if not BOT_PYTHON.exists():
        pytest.skip("the bot environment is made by `make setup`")
    done = subprocess.run([str(BOT_PYTHON), "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_nearest_examples_find_a_small_group_inside_a_broad_intent(views):
    assert views["near_group"][1] > views["near_group"][0]  # among the tight group's own examples
    assert views["far_away"][0] > 0.9  # far from it, the broad intent
    assert all(abs(total - 1) < 1e-9 for total in views["rows_sum"])


def test_the_neighbours_weigh_in_only_when_turned_on(views):
    assert views["off"] == [[pytest.approx(-0.6931, abs=1e-3)] * 2] * 2  # weight 0: the two views alone
    assert views["on"][0][1] > views["on"][0][0] and views["on"][1][0] > views["on"][1][1]


def test_an_intent_without_training_examples_gets_the_lowest_score_not_nan(views):
    assert all(row[1] < 0.01 and row[0] > 0.99 for row in views["empty_class"])


def test_the_temperature_sharpens_right_answers_and_softens_wrong_ones(views):
    assert views["temperature_sharp"] < 1.0 < views["temperature_wrong"]
