"""Rasa over HTTP: the REST channel for dialogue, /model/parse for one-shot classification."""
from __future__ import annotations

from typing import Any, Protocol

import requests


class RasaUnavailable(Exception):
    """Rasa did not answer in time or answered with an error."""


class Rasa(Protocol):
    def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]: ...
    def parse(self, text: str) -> dict[str, Any]: ...
    def ready(self) -> bool: ...


class RasaClient:
    """The real client, with a connect and a read timeout on every call."""

    def __init__(self, base_url: str, timeout: float = 8.0, token: str = "") -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = (min(2.0, timeout), timeout)
        self.http = requests.Session()
        # Rasa's HTTP API (/model/parse, /status) runs with --auth-token; it takes the token as a query parameter.
        self.params = {"token": token} if token else {}

    def _post(self, path: str, payload: dict[str, Any], timeout: float | None = None) -> Any:
        try:
            resp = self.http.post(self.base_url + path, json=payload, params=self.params,
                                  timeout=(self.timeout[0], timeout or self.timeout[1]))
            resp.raise_for_status()
            return resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise RasaUnavailable(type(exc).__name__) from exc

    def send(self, sender: str, text: str, metadata: dict[str, Any], timeout: float | None = None) -> list[dict[str, Any]]:
        """One user message through the REST channel; the bot's replies."""
        replies = self._post("/webhooks/rest/webhook", {"sender": sender, "message": text, "metadata": metadata},
                             timeout)
        return replies if isinstance(replies, list) else []

    def parse(self, text: str, timeout: float | None = None) -> dict[str, Any]:
        """Intent ranking for a text, without touching any conversation."""
        return self._post("/model/parse", {"text": text}, timeout)

    def ready(self) -> bool:
        """True when Rasa runs with a loaded model."""
        try:
            resp = self.http.get(self.base_url + "/status", params=self.params, timeout=(1.0, 2.0))
            return resp.ok and bool(resp.json().get("model_file"))
        except (requests.RequestException, ValueError):
            return False
