"""The short chaos run of CI: the production topology as local processes, faults injected while customers use it.

`make chaos` runs every experiment with more customers; this runs the ones that break the conversation side
(a Rasa replica, the workers mid-send, two messages at once) with a few customers; a connection PostgreSQL drops
mid-INSERT is tested in tests/integration/test_turns.py.
"""
from __future__ import annotations

import os

import pytest

pytestmark = [pytest.mark.chaos, pytest.mark.postgres]


@pytest.fixture(scope="module")
def chaos(tmp_path_factory, pg_server):
    from bench.chaos import Chaos

    running = Chaos(int(os.environ.get("CHAOS_CUSTOMERS", "3")), tmp_path_factory.mktemp("chaos"))
    running.start()
    yield running
    running.stop()


@pytest.mark.parametrize("experiment", ["rasa_replica_killed", "worker_killed_mid_send", "two_messages_at_once"])
def test_nothing_is_lost_or_duplicated_and_it_recovers_within_30_s(chaos, experiment):
    result = getattr(chaos, experiment)()
    assert (result.lost, result.duplicated) == (0, 0), result
    assert result.recovery <= 30, result
