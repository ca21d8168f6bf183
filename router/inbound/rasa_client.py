"""Rasa over HTTP: the REST channel for dialogue, /model/parse for one-shot classification."""
from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import urllib3
from urllib3.exceptions import HTTPError, ReadTimeoutError


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


class Rasa(Protocol):
    def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]: ...
    def parse(self, text: str) -> dict[str, Any]: ...
    def ready(self) -> bool: ...


def _pool(base: str) -> urllib3.PoolManager:
    """Keep-alive connections to one replica, through the environment's proxy for it (or none, by NO_PROXY).

    urllib3 straight, not requests: every chat turn calls Rasa, and requests' layers over urllib3 cost about 0.4 ms
    of each (measured through gunicorn and Flask, side by side). The proxy and CA settings are read once, here:
    Rasa's address does not change.
    """
    parts, proxies = urlsplit(base), urllib.request.getproxies_environment()
    host, proxy = parts.hostname or "", proxies.get(parts.scheme)
    tls = {"ca_certs": os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None}
    if proxy and not urllib.request.proxy_bypass_environment(host, proxies):
        return urllib3.ProxyManager(proxy, maxsize=64, retries=False, **tls)
    return urllib3.PoolManager(maxsize=64, retries=False, **tls)


class RasaClient:
    """The real client, with a connect and a read timeout on every call.

    `base_url` may list several Rasa replicas, comma-separated (they share the SQL tracker store and the Redis
    lock store). A conversation goes to the replica its id hashes to, and to the next one when that one refuses
    the connection: a refused connection never reached Rasa, so nothing is processed twice. A read timeout is not
    retried elsewhere, since the replica may be working on the message; it waits for the worker instead.
    """

    def __init__(self, base_url: str, timeout: float = 8.0, token: str = "") -> None:
        self.base_urls = [u.strip().rstrip("/") for u in base_url.split(",") if u.strip()]
        self.base_url = self.base_urls[0]
        self.timeout = (min(2.0, timeout), timeout)
        self.pools = {base: _pool(base) for base in self.base_urls}
        # Rasa's HTTP API (/model/parse, /status) runs with --auth-token; it takes the token as a query parameter.
        self.query = "?" + urlencode({"token": token}) if token else ""

    def _call(self, method: str, base: str, path: str, payload: Any = None,
              timeout: tuple[float, float] | None = None) -> urllib3.BaseHTTPResponse:
        connect, read = timeout or self.timeout
        return self.pools[base].request(
            method, base + path + self.query, body=None if payload is None else json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"} if payload is not None else None,
            timeout=urllib3.Timeout(connect=connect, read=read), redirect=False)

    def _order(self, key: str) -> list[str]:
        first = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % len(self.base_urls)
        return self.base_urls[first:] + self.base_urls[:first]

    def _post(self, path: str, payload: dict[str, Any], timeout: float | None = None, key: str = "") -> Any:
        for i, base in enumerate(self._order(key)):
            try:
                resp = self._call("POST", base, path, payload, (self.timeout[0], timeout or self.timeout[1]))
            except ReadTimeoutError as exc:  # the replica may still be working on it: not sent elsewhere
                raise RasaUnavailable(type(exc).__name__) from exc
            except (HTTPError, OSError) as exc:  # refused, reset, unreachable: the next replica, if any
                if i + 1 == len(self.base_urls):
                    raise RasaUnavailable(type(exc).__name__) from exc
                continue
            if resp.status in (502, 503) and i + 1 < len(self.base_urls):
                continue  # a replica still loading its model, or a proxy with no replica behind it
            if resp.status >= 400:
                raise RasaUnavailable(f"HTTP {resp.status}")
            try:
                return json.loads(resp.data)
            except ValueError as exc:
                raise RasaUnavailable(type(exc).__name__) from exc
        raise RasaUnavailable("no replica answered")

    def send(self, sender: str, text: str, metadata: dict[str, Any], timeout: float | None = None) -> list[dict[str, Any]]:
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
            except (HTTPError, OSError, ValueError, AttributeError):
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
            except (HTTPError, OSError, ValueError, AttributeError):
                continue
        return False
