"""A hook for the CLI to follow a crawl that runs inside a Prefect task (one per process)."""

from __future__ import annotations

from collections.abc import Callable

from spiders.events import FetchEvent

Listener = Callable[[FetchEvent], None]
_listener: Listener | None = None


def set_listener(listener: Listener | None) -> None:
    global _listener
    _listener = listener


def emit(event: FetchEvent) -> None:
    if _listener is not None:
        _listener(event)
