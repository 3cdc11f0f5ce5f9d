"""Prefect's own concurrency tools, keyed by document: two flow runs (two serve processes,
two workers, two machines) never derive the same document at the same time.

Each document has a global concurrency limit of one slot, ``policywatch-derive-<id>``,
created on first use; deriving a document holds its slot (with a lease Prefect renews, so a
worker that dies gives it back). The per-document database lock (storage.locks) is what
keeps the history right whatever runs it; this keeps two workers from doing the same work.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists

PREFIX = "policywatch-derive-"
#: Seconds a derive waits for a document another worker is deriving before it fails.
WAIT_SECONDS = 900.0

_made: set[str] = set()


def limit_name(document_id: str) -> str:
    """The name of the document's limit (Prefect names: no slashes, no percent signs)."""
    return PREFIX + re.sub(r"[^A-Za-z0-9._-]", "-", document_id)


def ensure_limit(name: str) -> None:
    """Create the one-slot limit ``name`` unless it exists (any process may be first)."""
    if name in _made:
        return
    with get_client(sync_client=True) as client:
        try:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
        except ObjectAlreadyExists:
            pass
    _made.add(name)


@contextmanager
def one_at_a_time(document_id: str) -> Iterator[None]:
    """Hold the document's slot for the duration (waiting for it if another run holds it)."""
    name = limit_name(document_id)
    ensure_limit(name)
    with concurrency(name, occupy=1, strict=True, timeout_seconds=WAIT_SECONDS):
        yield
