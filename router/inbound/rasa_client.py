"""Rasa over HTTP: the REST channel for dialogue, /model/parse for one-shot classification."""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import urllib.request
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlencode, urlsplit

import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError, ReadTimeoutError


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


class RasaLate(RasaUnavailable):
    """Rasa took the message and did not answer in time: it may still be working on it (never resent at once)."""


class Rasa(Protocol):
    def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]: ...
    def parse(self, text: str) -> dict[str, Any]: ...
    def ready(self) -> bool: ...


class Answer(NamedTuple):
    status: int
    data: bytes


class NotSent(Exception):
    """The request never reached the replica (refused, unresolvable, no connection in time): safe to send elsewhere."""


class Lost(Exception):
    """The replica took the request and then dropped the connection without an answer."""


class Late(Exception):
    """The replica took the request and did not answer in time: it may still be working on it."""



# A replica that refused or dropped a request is passed over until it answers a probe (GET /) again, tried at most
# every PROBE_EVERY seconds: a restarting Rasa with several Sanic workers accepts connections some seconds before
# its workers have loaded the model, and a turn sent to it then would wait out its whole read timeout.
PROBE_EVERY = 1.0
PROBE_TIMEOUT = 0.5


def _pool(base: str) -> urllib3.PoolManager:
    """Keep-alive connections to one replica, through the environment's proxy for it (or none, by NO_PROXY).

    The proxy and CA settings are read once, here: Rasa's address does not change. No retries of urllib3's own:
    which failures may go to another replica is this module's rule (a read timeout never does).
    """
    parts, proxies = urlsplit(base), urllib.request.getproxies_environment()
    proxy = proxies.get(parts.scheme)
    ca_certs = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None
    # proxy_bypass_environment is urllib's public NO_PROXY check (documented beside getproxies; typeshed omits it).
    bypass = urllib.request.proxy_bypass_environment(parts.hostname or "", proxies)  # type: ignore[attr-defined]
    if proxy and not bypass:
        return urllib3.ProxyManager(proxy, maxsize=64, retries=False, ca_certs=ca_certs)
    return urllib3.PoolManager(maxsize=64, retries=False, ca_certs=ca_certs)


class RasaClient:
    """The real client, with a connect and a read timeout on every call.

    `base_url` may list several Rasa replicas, comma-separated (they share the SQL tracker store and the Redis
    lock store). A conversation goes to the replica its id hashes to, and to the next one when that one refuses
    the connection: a refused connection never reached Rasa, so nothing is processed twice. A read timeout is not
    retried elsewhere, since the replica may be working on the message; it waits for the worker instead. A replica
    that refused or dropped a request is passed over until it answers a probe again (PROBE_EVERY).

    urllib3, with a pool of keep-alive connections per replica and its public API only.
    """

    def __init__(self, base_url: str, timeout: float = 8.0, token: str = "") -> None:
        self.base_urls = [u.strip().rstrip("/") for u in base_url.split(",") if u.strip()]
        self.base_url = self.base_urls[0]
        self.timeout = (min(2.0, timeout), timeout)
        self.pools = {base: _pool(base) for base in self.base_urls}
        self.down: dict[str, float] = {}  # replica -> when its next probe is due (time.monotonic)
        self.probing = threading.Lock()
        # Rasa's HTTP API (/model/parse, /status) runs with --auth-token; it takes the token as a query parameter.
        self.query = "?" + urlencode({"token": token}) if token else ""

    def _call(self, method: str, base: str, path: str, payload: Any = None,
              timeout: tuple[float, float] | None = None) -> Answer:
        """One request; NotSent, Lost or Late when it failed, by how far it got."""
        connect, read = timeout or self.timeout
        try:
            resp = self.pools[base].request(
                method, base + path + self.query, body=None if payload is None else json.dumps(payload).encode(),
                headers={"Content-Type": "application/json"} if payload is not None else None,
                timeout=urllib3.Timeout(connect=connect, read=read), redirect=False)
        except ReadTimeoutError as exc:  # it took the request and has not answered: it may still be working on it
            raise Late(type(exc).__name__) from exc
        except ConnectTimeoutError as exc:  # refused, unresolvable or no connection in time (NewConnectionError too)
            raise NotSent(type(exc).__name__) from exc
        except (HTTPError, OSError) as exc:  # reset or closed after the request went out
            raise Lost(type(exc).__name__) from exc
        return Answer(resp.status, resp.data)

    def _order(self, key: str) -> list[str]:
        first = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % len(self.base_urls)
        return self.base_urls[first:] + self.base_urls[:first]

    def _ready(self, order: list[str]) -> list[str]:
        """The replicas in `order` that are up: not passed over, or answering the probe that is due."""
        if not self.down:
            return order
        return [base for base in order if base not in self.down or self._probe(base)]

    def _probe(self, base: str) -> bool:
        """Whether a passed-over replica answers again; probed by one thread at a time, at most every PROBE_EVERY."""
        due = self.down.get(base)
        if due is None:
            return True
        if time.monotonic() < due or not self.probing.acquire(blocking=False):
            return False
        try:
            try:
                up = self._call("GET", base, "/", timeout=(PROBE_TIMEOUT, PROBE_TIMEOUT)).status == 200
            except (NotSent, Lost, Late):
                up = False
            if up:
                self.down.pop(base, None)
            else:
                self._pass_over(base)  # the next probe is due PROBE_EVERY after this one ended
            return up
        finally:
            self.probing.release()

    def _pass_over(self, base: str) -> None:
        self.down[base] = time.monotonic() + PROBE_EVERY

    def _post(self, path: str, payload: dict[str, Any], timeout: float | None = None, key: str = "") -> Any:
        order = self._ready(self._order(key))
        for i, base in enumerate(order):
            try:
                resp = self._call("POST", base, path, payload, (self.timeout[0], timeout or self.timeout[1]))
            except Late as exc:  # the replica may still be working on it: not sent elsewhere
                raise RasaLate("read timeout") from exc
            except (NotSent, Lost) as exc:  # refused, reset, unreachable: the next replica, if any
                self._pass_over(base)
                if i + 1 == len(order):
                    raise RasaUnavailable(type(exc).__name__) from exc
                continue
            if resp.status in (502, 503):  # a replica still loading its model, or a proxy with no replica behind it
                self._pass_over(base)
                if i + 1 < len(order):
                    continue
            if resp.status >= 400:
                raise RasaUnavailable(f"HTTP {resp.status}")
            try:
                return json.loads(resp.data)
            except ValueError as exc:
                raise RasaUnavailable(type(exc).__name__) from exc
        raise RasaUnavailable("no replica is up")

    def send(self, sender: str, text: str, metadata: dict[str, Any],
             timeout: float | None = None) -> list[dict[str, Any]]:
        """One user message through the REST channel; the bot's replies."""
        replies = self._post("/webhooks/rest/webhook", {"sender": sender, "message": text, "metadata": metadata},
                             timeout, key=sender)
        return replies if isinstance(replies, list) else []

    def parse(self, text: str, timeout: float | None = None) -> dict[str, Any]:
        """Intent ranking for a text, without touching any conversation."""
        return self._post("/model/parse", {"text": text}, timeout, key=text)

    def _events(self, sender: str) -> list[dict[str, Any]]:
        """The conversation's events from the tracker store every replica shares (the first replica that answers)."""
        for base in self._order(sender):
            try:
                resp = self._call("GET", base, f"/conversations/{sender}/tracker")
                if resp.status < 400:
                    return json.loads(resp.data).get("events") or []
            except (NotSent, Lost, Late, ValueError, AttributeError):
                continue
        raise RasaUnavailable("tracker unavailable")

    def answered(self, sender: str, message_id: int) -> list[dict[str, Any]] | None:
        """The bot's answer to a message Rasa already processed (the router gave up waiting), or None.

        The router puts its message id in the metadata; Rasa keeps it on the user event in the tracker store,
        which every replica shares.
        """
        events = self._events(sender)
        for i, event in enumerate(events):
            if event.get("event") == "user" and (event.get("metadata") or {}).get("message_id") == message_id:
                answer = []
                for later in events[i + 1:]:
                    if later.get("event") == "user":
                        break
                    if later.get("event") == "bot" and later.get("text"):
                        answer.append({"text": later["text"], "buttons": (later.get("data") or {}).get("buttons")})
                return answer
        return None

    def typed_into(self, sender: str, slots: list[str]) -> set[str]:
        """Every text value these slots held in the conversation (from the tracker's slot events)."""
        return {e["value"] for e in self._events(sender) if e.get("event") == "slot" and e.get("name") in slots
                and isinstance(e.get("value"), str) and e["value"].strip()}

    def ready(self) -> bool:
        """True when some replica runs with a loaded model."""
        for base in self.base_urls:
            try:
                resp = self._call("GET", base, "/status", timeout=(1.0, 2.0))
                if resp.status < 400 and bool(json.loads(resp.data).get("model_file")):
                    return True
            except (NotSent, Lost, Late, ValueError, AttributeError):
                continue
        return False
