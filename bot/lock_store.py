"""Rasa's Redis lock store, with one fault mended: a live waiter's ticket no longer expires while it waits."""
from __future__ import annotations

import asyncio
import time
from typing import Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig


class LiveTicketRedisLockStore(RedisLockStore):
    """Tickets are served in order; only the tickets of requests nobody works on any more expire.

    Rasa's own store lets a waiting request's ticket expire too. When a replica dies mid-turn, the turn goes to the
    other replica, whose ticket is issued a moment after the dead one's: both expire within the same second, the
    waiter finds its own ticket gone and is never served (`now_serving` is 0), until the router stops waiting.
    Here the waiter renews its ticket on every poll, so it is served once the dead ticket expires.
    """

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    async def _acquire_lock(self, conversation_id: Text, ticket: int, wait_time_in_seconds: float) -> TicketLock:
        while True:
            lock = self.get_lock(conversation_id)
            if not lock:  # deleted meanwhile: nothing to wait for, as in Rasa's store
                break
            if not lock.is_locked(ticket):
                return lock
            await asyncio.sleep(wait_time_in_seconds)
            self._renew(conversation_id, ticket)
        raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")

    def _renew(self, conversation_id: Text, ticket: int) -> None:
        """Push this waiter's ticket's expiry forward and drop the expired ones (a dead request's)."""
        lock = self.get_lock(conversation_id)
        if not lock:
            return
        for held in lock.tickets:
            if held.number == ticket:
                held.expires = max(held.expires, time.time() + LOCK_LIFETIME)
        lock.remove_expired_tickets()
        self.save_lock(lock)
