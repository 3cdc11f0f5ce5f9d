"""Is the Prefect API that PREFECT_API_URL names there? Asked before ``serve`` and ``deploy``
register anything, so that a wrong URL or a stopped server is one line, not a traceback."""

from __future__ import annotations

import httpx


def unreachable(api_url: str, timeout: float = 5.0) -> str | None:
    """Why the Prefect API at ``api_url`` cannot be used (one line), or None if it answers."""
    health = f"{api_url.rstrip('/')}/health"
    try:
        reply = httpx.get(health, timeout=timeout)
    except httpx.InvalidURL as exc:
        return f"PREFECT_API_URL={api_url!r} is not a URL ({exc})"
    except httpx.HTTPError as exc:
        why = str(exc) or type(exc).__name__
        return f"no Prefect API answers at PREFECT_API_URL={api_url} ({why})"
    if reply.status_code != 200:
        return f"PREFECT_API_URL={api_url} answers HTTP {reply.status_code} at /health, not Prefect"
    return None
