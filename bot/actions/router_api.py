"""The router's internal API as the action server sees it."""
import os
from typing import Any, Dict, Optional

import aiohttp

# The action server is its own process with its own environment; these two settings are all it needs.
ROUTER_URL = os.environ.get("ROUTER_INTERNAL_URL", "http://127.0.0.1:5000").rstrip("/")
INTERNAL_TOKEN = os.environ.get("INTERNAL_API_TOKEN", "")
TIMEOUT = aiohttp.ClientTimeout(total=float(os.environ.get("ROUTER_TIMEOUT", "5")))


def _headers() -> Dict[str, str]:
    return {"Authorization": f"Bearer {INTERNAL_TOKEN}"}


async def _call(method: str, path: str, **kwargs: Any) -> Optional[Dict[str, Any]]:
    """One request to the router; None when it cannot be reached or refuses."""
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            async with session.request(method, ROUTER_URL + path, headers=_headers(), **kwargs) as resp:
                if resp.status >= 400:
                    return None
                return await resp.json()
    except (aiohttp.ClientError, TimeoutError):
        return None


async def post(path: str, payload: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """POST JSON to the router."""
    return await _call("POST", path, json=payload)


async def get(path: str, params: Dict[str, str]) -> Optional[Dict[str, Any]]:
    """GET JSON from the router."""
    return await _call("GET", path, params=params)
