"""CI fails when routing on the held-out set falls below the floor (docs/nlu.md); `make evaluate` checks the targets."""
import pytest
import requests

from bot.evaluation.metrics import FLOOR, below_targets, read_heldout, summarise

from ..live_stack import RASA_TOKEN

pytestmark = pytest.mark.stack


def test_held_out_routing_meets_the_targets(stack):
    examples = read_heldout()
    assert len(examples) >= 200 and {e.language for e in examples} == {"fi", "sv", "en"}
    http = requests.Session()
    predicted = [http.post(stack.rasa_url + "/model/parse", params={"token": RASA_TOKEN}, json={"text": e.text},
                           timeout=10).json()["intent"]["name"] for e in examples]
    summary = summarise(examples, predicted)
    assert below_targets(summary, FLOOR) == [], summary["errors"]
    assert summary["overall"]["accuracy"] >= FLOOR["accuracy"]
