"""The router's internal API as the action server sees it."""
import asyncio
import os
from typing import Any, Dict, Optional

import aiohttp

# The action server is its own process with its own environment; these settings are all it needs.
ROUTER_URL = os.environ.get("ROUTER_INTERNAL_URL", "http://127.0.0.1:5001").rstrip("/")
INTERNAL_TOKEN = os.environ.get("INTERNAL_API_TOKEN", "")
TIMEOUT = aiohttp.ClientTimeout(total=float(os.environ.get("ROUTER_TIMEOUT", "5")))
# The same rule as the router's config.problems(): the bot's environment cannot import the router.
DOCUMENTED_DEFAULTS = {"dev-only-secret-change-me", "dev-internal-token", "change-me", "change-me-too",
                       "change-me-three", "rasa-dev-token"}


def production_problems(env: Dict[str, str]) -> list:
    """Why the action server must not start with this environment (empty outside production)."""
    if env.get("ENVIRONMENT", "development") != "production":
        return []
    token = env.get("INTERNAL_API_TOKEN", "")
    if not token or token in DOCUMENTED_DEFAULTS or "change-me" in token or len(token) < 32:
        return ["INTERNAL_API_TOKEN is missing, a documented default or shorter than 32 characters"]
    return []


_problems = production_problems(dict(os.environ))
if _problems:  # refuse at import, which is the action server's start
    raise SystemExit("the action server refuses to start (ENVIRONMENT=production): " + "; ".join(_problems))


def _headers(request_id: Optional[str] = None) -> Dict[str, str]:
    headers = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
    if request_id:  # the router's id for this turn, from the message's metadata: one turn, one id in every log
        headers["X-Request-Id"] = str(request_id)[:64]
    return headers


async def _call(method: str, path: str, request_id: Optional[str] = None, **kwargs: Any) -> Optional[Dict[str, Any]]:
    """One request to the router; None when it cannot be reached or refuses."""
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            async with session.request(method, ROUTER_URL + path, headers=_headers(request_id), **kwargs) as resp:
                if resp.status >= 400:
                    return None
                return await resp.json()
    except (aiohttp.ClientError, asyncio.TimeoutError, TimeoutError, ValueError):  # 3.10: asyncio's is not the builtin
        return None


async def post(path: str, payload: Dict[str, Any], request_id: Optional[str] = None) -> Optional[Dict[str, Any]]:
    """POST JSON to the router."""
    return await _call("POST", path, request_id, json=payload)


async def get(path: str, params: Dict[str, str], request_id: Optional[str] = None) -> Optional[Dict[str, Any]]:
    """GET JSON from the router."""
    return await _call("GET", path, request_id, params=params)
