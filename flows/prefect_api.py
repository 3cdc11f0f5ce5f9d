"""Is the Prefect API that PREFECT_API_URL names there? Asked before ``serve`` and ``deploy``
register anything, so that a wrong URL or a stopped server is one line, not a traceback.
And is one configured at all (:func:`flow_wanted`: ``policywatch crawl`` runs the Prefect
flow only then, decision 0018)?"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def unreachable(api_url: str, timeout: float = 5.0) -> str | None:
    """Why the Prefect API at ``api_url`` cannot be used (one line), or None if it answers."""
    import httpx

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


#: Set to 1 to run ``policywatch crawl`` as the Prefect flow even without a configured
#: server (on Prefect's temporary API server, as before decision 0018).
FORCE_FLOW = "POLICYWATCH_PREFECT_FLOW"


def server_configured() -> bool:
    """Whether this process's Prefect settings name an API server (PREFECT_API_URL), read
    without importing Prefect when no file Prefect reads its settings from could name one
    (its profiles file, ``prefect.toml``, ``pyproject.toml``'s ``[tool.prefect]``,
    ``.env``): importing Prefect's settings costs about a second of CPU and 60 MB."""
    if os.environ.get("PREFECT_API_URL"):
        return True
    if "prefect.settings" in sys.modules:  # already paid for (settings set in this process)
        return _api_url_set()
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH") or home / "profiles.toml")
    hints = {profiles: "PREFECT_API_URL", Path(".env"): "PREFECT_API_URL"}
    hints |= {Path("prefect.toml"): "", Path("pyproject.toml"): "tool.prefect"}
    for path, hint in hints.items():
        try:
            text = path.expanduser().read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if hint in text:
            return _api_url_set()
    return False


def _api_url_set() -> bool:
    from prefect.settings import get_current_settings

    return bool(get_current_settings().api.url)


def flow_wanted() -> bool:
    """Whether a run from the terminal goes through the Prefect flow: with a configured
    server, or when :data:`FORCE_FLOW` asks for it."""
    return os.environ.get(FORCE_FLOW, "").strip() in ("1", "true", "yes") or server_configured()
