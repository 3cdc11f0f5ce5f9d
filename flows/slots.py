"""Prefect's own concurrency tools, keyed by document: two flow runs (two serve processes, two
workers, two machines on one Prefect server) never derive the same document at the same time.

Each document has a global concurrency limit of one slot, ``policywatch-derive-<id>``,
created on first use by whichever process needs it first (only on a Prefect server that
others may share: see :func:`shared_server`). Deriving a document holds its slot
through a lease that Prefect renews while the task runs, so a worker that dies gives the slot
back when its lease runs out (five minutes). The per-document database lock
(storage/locks.py) is what keeps the history right whoever writes it; the slot keeps two
workers from doing the same work at once, and shows who is deriving what in Prefect's UI.

A batch of documents takes all its slots in ONE call (:func:`all_at_once`: Prefect takes
every named slot or none, so two batches never deadlock), under one lease: a few API calls
per batch instead of per document (docs/decisions/0016).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.settings import PREFECT_API_URL

from flows import temporary_api

PREFIX = "policywatch-derive-"
#: Seconds a task waits for a document another run is deriving; then it leaves the
#: document's fetches to the next run (``deferred``) rather than failing its own run.
WAIT_SECONDS = 600.0
#: Seconds a slot's lease lasts without renewal (Prefect renews it while the task runs).
LEASE_SECONDS = 300.0
#: Limits listed per call by :func:`ensure_limits` (a Prefect server's default page limit).
PAGE = 200


def limit_name(document_id: str) -> str:
    """The name of the document's limit. Prefect refuses ``/ % & < >`` in names: other
    characters become ``-``, and a short hash of the id keeps two ids apart."""
    safe = re.sub(r"[^A-Za-z0-9._:-]", "-", document_id)
    if safe == document_id:
        return PREFIX + safe
    return f"{PREFIX}{safe}-{hashlib.sha256(document_id.encode()).hexdigest()[:8]}"


def ensure_limit(name: str) -> None:
    """Create the one-slot limit ``name`` unless it exists (any process may be first; asked
    each time, as the Prefect server a process talks to may change)."""
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
            return
        except ObjectNotFound:
            pass
        try:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
        except ObjectAlreadyExists:  # another process made it in between
            pass


def ensure_limits(names: list[str]) -> dict[str, int]:
    """Create every one-slot limit of ``names`` that does not exist, listing the server's
    limits a page at a time rather than asking about each name (one call per 200 limits);
    the slots each had taken when listed (0 for one made here)."""
    wanted = set(names)
    taken: dict[str, int] = {}
    with get_client(sync_client=True) as client:
        offset = 0
        while wanted - taken.keys():
            try:
                page = client.read_global_concurrency_limits(limit=PAGE, offset=offset)
            except httpx.HTTPStatusError:  # a server with a smaller page limit: one by one
                for name in sorted(wanted - taken.keys()):
                    ensure_limit(name)
                    taken[name] = 0
                return taken
            taken.update((limit.name, limit.active_slots) for limit in page if limit.name in wanted)
            if len(page) < PAGE:
                break
            offset += PAGE
        for name in sorted(wanted - taken.keys()):
            try:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=1)
                )
            except ObjectAlreadyExists:  # another process made it in between
                pass
            taken[name] = 0
    return taken


def shared_server() -> bool:
    """Whether this process talks to a Prefect server that others may share
    (PREFECT_API_URL). Without one, a temporary API server serves this process alone
    (Prefect's, or flows/temporary_api.py's): no other run can see its slots, and taking
    them would cost API calls for nothing."""
    url = PREFECT_API_URL.value()
    return bool(url) and url != temporary_api.api_url()


@contextmanager
def one_at_a_time(document_id: str, wait_seconds: float = WAIT_SECONDS) -> Iterator[bool]:
    """Hold the document's slot for the duration, waiting for it while another run holds it:
    yields True; or False, holding nothing, if the slot stayed taken for ``wait_seconds``.
    On a temporary API server of this process alone, holds nothing and yields True."""
    if not shared_server():
        yield True
        return
    name = limit_name(document_id)
    ensure_limit(name)
    with _holding([name], wait_seconds) as held:
        yield held


@contextmanager
def all_at_once(document_ids: list[str], wait_seconds: float = WAIT_SECONDS) -> Iterator[bool]:
    """Hold the slots of all the documents for the duration, taken in one call under one
    lease (Prefect takes all the named slots or none): yields True; or False, holding none,
    at once if some slot is taken when the limits are listed, or if some stayed taken for
    ``wait_seconds`` (another run took it meanwhile). On a temporary API server of this
    process alone, holds nothing and yields True. Limits that do not exist are made."""
    if not shared_server() or not document_ids:
        yield True
        return
    names = sorted({limit_name(doc) for doc in document_ids})
    if any(ensure_limits(names).values()):  # another run is deriving one of them
        yield False
        return
    with _holding(names, wait_seconds) as held:
        yield held


@contextmanager
def _holding(names: list[str], wait_seconds: float) -> Iterator[bool]:
    with ExitStack() as stack:
        try:
            stack.enter_context(
                concurrency(
                    names,
                    occupy=1,
                    strict=True,
                    timeout_seconds=wait_seconds,
                    lease_duration=LEASE_SECONDS,
                    raise_on_lease_renewal_failure=False,
                )
            )
        except TimeoutError:
            yield False
            return
        yield True
