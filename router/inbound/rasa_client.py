"""Rasa over HTTP: the REST channel for dialogue, /model/parse for one-shot classification."""
from __future__ import annotations

import hashlib
import os
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
import requests.adapters


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


class Rasa(Protocol):
    def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]: ...
    def parse(self, text: str) -> dict[str, Any]: ...
    def ready(self) -> bool: ...


def _session(base_urls: list[str]) -> requests.Session:
    """A session that reads the proxy and CA settings of the environment once, not on every call.

    With `trust_env`, requests scans every environment variable (and ~/.netrc) for each request: about half a
    millisecond of every chat turn. Rasa's address does not change, so its proxy (or none, by NO_PROXY) is settled here.
    """
    http = requests.Session()
    http.trust_env = False
    for base in base_urls:
        parts = urlsplit(base)
        proxy = requests.utils.get_environ_proxies(base).get(parts.scheme)
        if proxy:
            http.proxies[f"{parts.scheme}://{parts.hostname}"] = proxy
    http.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return http


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
        self.http = _session(self.base_urls)
        adapter = requests.adapters.HTTPAdapter(pool_connections=len(self.base_urls), pool_maxsize=64)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        # Rasa's HTTP API (/model/parse, /status) runs with --auth-token; it takes the token as a query parameter.
        self.params = {"token": token} if token else {}

    def _order(self, key: str) -> list[str]:
        first = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % len(self.base_urls)
        return self.base_urls[first:] + self.base_urls[:first]

    def _post(self, path: str, payload: dict[str, Any], timeout: float | None = None, key: str = "") -> Any:
        for i, base in enumerate(self._order(key)):
            try:
                resp = self.http.post(base + path, json=payload, params=self.params,
                                      timeout=(self.timeout[0], timeout or self.timeout[1]))
                if resp.status_code in (502, 503) and i + 1 < len(self.base_urls):
                    continue  # a replica still loading its model, or a proxy with no replica behind it
                resp.raise_for_status()
                return resp.json()
            except requests.ConnectionError as exc:
                if isinstance(exc, requests.ReadTimeout) or i + 1 == len(self.base_urls):
                    raise RasaUnavailable(type(exc).__name__) from exc
            except (requests.RequestException, ValueError) as exc:
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
                resp = self.http.get(f"{base}/conversations/{sender}/tracker", params=self.params,
                                     timeout=self.timeout)
                resp.raise_for_status()
                return resp.json().get("events") or []
            except (requests.RequestException, ValueError):
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
                resp = self.http.get(base + "/status", params=self.params, timeout=(1.0, 2.0))
                if resp.ok and bool(resp.json().get("model_file")):
                    return True
            except (requests.RequestException, ValueError):
                continue
        return False
