"""Rasa's per-conversation lock in Redis (bot/lock_store.py), run in the bot's own environment against Redis."""
import json
import os
import subprocess
import uuid

import pytest

from ..conftest import ROOT

BOT_PYTHON = ROOT / ".venv-bot" / "bin" / "python"

# A replica died holding a conversation's ticket; the other replica's request for the same conversation takes the
# next ticket a moment later, with the same lifetime (2 s here), and polls once a second, as Rasa does.
SCRIPT = r"""
import asyncio, json, sys, time
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from bot.lock_store import LiveTicketRedisLockStore

prefix = sys.argv[1]
config = EndpointConfig(url="127.0.0.1", port=6379, db=7, key_prefix=prefix)
stores = {"rasa": RedisLockStore(host="127.0.0.1", port=6379, db=7, key_prefix=prefix + "stock"),
          "mended": LiveTicketRedisLockStore(config)}

async def failover(store):
    store.issue_ticket("conv", 2)  # the dead replica's, never released
    started = time.monotonic()
    async def take():
        async with store.lock("conv", wait_time_in_seconds=1):
            return time.monotonic() - started
    try:
        return await asyncio.wait_for(take(), timeout=6)
    except asyncio.TimeoutError:
        return None

print(json.dumps({name: asyncio.run(failover(store)) for name, store in stores.items()}))
"""


def test_a_turn_failed_over_from_a_dead_replica_is_served_once_the_dead_ticket_expires():
    if not BOT_PYTHON.exists():
        pytest.fail("the bot's environment is missing: run `make setup`")
    done = subprocess.run([str(BOT_PYTHON), "-c", SCRIPT, f"test-{uuid.uuid4().hex[:8]}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TICKET_LOCK_LIFETIME": "2"})
    assert done.returncode == 0, done.stderr[-2000:]
    waited = json.loads(done.stdout.strip().splitlines()[-1])
    # Rasa's own store: the waiter's ticket expired with the dead one, and it was still waiting after 6 s.
    assert waited["rasa"] is None
    # Mended: served at the first poll after the dead ticket's 2 s.
    assert waited["mended"] is not None and 2 <= waited["mended"] < 4
