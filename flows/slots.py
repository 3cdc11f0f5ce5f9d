"""Prefect's own concurrency tools, keyed by document: two flow runs (two serve processes, two
workers, two machines on one Prefect server) never derive the same document at the same time.

Each document has a global concurrency limit of one slot, ``policywatch-derive-<id>``,
created on first use by whichever process needs it first (only on a Prefect server that
others may share: see :func:`shared_server`). Deriving a document holds its slot
through a lease renewed while the task runs, so a worker that dies gives the slot back when
its lease runs out (five minutes). The per-document database lock
(storage/locks.py) is what keeps the history right whoever writes it; the slot keeps two
workers from doing the same work at once, and shows who is deriving what in Prefect's UI.

A batch of documents takes all its slots in ONE call (:func:`all_at_once`: Prefect takes
every named slot or none, so two batches never deadlock), under one lease: a few API calls
per batch instead of per document (docs/decisions/0016).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.client.schemas.objects import ConcurrencyLeaseHolder
from prefect.client.schemas.responses import ConcurrencyLimitWithLeaseResponse
from prefect.context import FlowRunContext, TaskRunContext
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.settings import PREFECT_API_URL

from flows import temporary_api

log = logging.getLogger(__name__)

PREFIX = "policywatch-derive-"
#: Seconds a task waits for a document another run is deriving; then it leaves the
#: document's fetches to the next run (``deferred``) rather than failing its own run.
WAIT_SECONDS = 600.0
#: Seconds a slot's lease lasts without renewal (renewed while the task runs).
LEASE_SECONDS = 300.0
#: Seconds between two renewals of a held lease.
RENEW_SECONDS = LEASE_SECONDS * 0.75
#: Limits listed per call by :func:`ensure_limits` (a Prefect server's default page limit).
PAGE = 200
#: Seconds before asking again after a Prefect server on SQLite answered 503 (its database
#: was locked for a moment), doubled on each further 503 up to :data:`BUSY_MAX_SECONDS`.
#: A server still busy (or unreachable) after :data:`BUSY_GIVE_UP_SECONDS` gets no more
#: calls: the documents are derived without their slots, under the database lock alone
#: (:data:`UNHELD`), rather than failing the run as Prefect's client's retries did.
BUSY_FIRST_SECONDS = 0.05
BUSY_MAX_SECONDS = 1.0
BUSY_GIVE_UP_SECONDS = 60.0
#: Seconds a slot call may go unanswered before it is asked again (within
#: :data:`BUSY_GIVE_UP_SECONDS`). A Prefect server on SQLite whose database stays locked
#: can hold a request for the client's whole timeout (60 s), which used up the give-up at
#: once and failed the derive (tests/test_parallel_derive.py, in CI). Should the server
#: take the slots of an unanswered call after all, nobody renews their lease: they come
#: back after :data:`LEASE_SECONDS`, and a derive waiting for them meanwhile stays right.
REQUEST_SECONDS = 15.0


#: What :func:`_take` returns when Prefect stayed busy or unreachable for
#: :data:`BUSY_GIVE_UP_SECONDS`: derive anyway, holding no slot. The per-document database
#: lock keeps the history right (a second run finds the fetches processed and skips them);
#: the slots only spare two workers the same work and show it in Prefect's UI.
UNHELD = UUID(int=0)


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
    try:
        ensure_limit(name)
    except (httpx.HTTPStatusError, httpx.TransportError) as exc:
        _unheld([name], exc)
        yield True
        return
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
    try:
        taken = ensure_limits(names)
    except (httpx.HTTPStatusError, httpx.TransportError) as exc:
        _unheld(names, exc)
        yield True
        return
    if any(taken.values()):  # another run is deriving one of them
        yield False
        return
    with _holding(names, wait_seconds) as held:
        yield held


@contextmanager
def _holding(names: list[str], wait_seconds: float) -> Iterator[bool]:
    """Hold one slot of each named limit, taken in one call under one lease that a thread
    renews meanwhile; waits while Prefect answers 423 (a slot is taken), as long as
    Prefect's ``Retry-After`` says and ``wait_seconds`` allow. Yields whether they were
    taken.

    Prefect's ``concurrency()`` context manager does the same and also emits, per limit, an
    "acquired" and a "released" event naming every other limit of the call: quadratic in
    the batch, and at 90 documents a batch the Prefect server spent seconds storing them
    (docs/decisions/0016). The lease records the task run holding it instead."""
    lease = _take(names, wait_seconds)
    if lease is None:
        yield False
        return
    if lease == UNHELD:
        yield True
        return
    stop = threading.Event()
    renewer = threading.Thread(
        target=_renew_until, args=(lease, stop), name="policywatch-slot-lease", daemon=True
    )
    renewer.start()
    try:
        yield True
    finally:
        stop.set()
        renewer.join()
        _give_back(lease)


def _holder() -> ConcurrencyLeaseHolder | None:
    """The task run (else the flow run) taking the slots, for Prefect's UI."""
    task_run = TaskRunContext.get()
    if task_run is not None:
        return ConcurrencyLeaseHolder(type="task_run", id=task_run.task_run.id)
    flow_run = FlowRunContext.get()
    if flow_run is not None and flow_run.flow_run is not None:
        return ConcurrencyLeaseHolder(type="flow_run", id=flow_run.flow_run.id)
    return None


def _take(names: list[str], wait_seconds: float) -> UUID | None:
    """The lease of one slot of each limit; None if some stayed taken ``wait_seconds``;
    :data:`UNHELD` if Prefect stayed busy or unreachable for :data:`BUSY_GIVE_UP_SECONDS`."""
    deadline = time.monotonic() + wait_seconds
    give_up = time.monotonic() + BUSY_GIVE_UP_SECONDS
    holder = _holder()
    with get_client(sync_client=True) as client:
        busy = BUSY_FIRST_SECONDS
        while True:
            try:
                response = _post_once(
                    client,
                    "/v2/concurrency_limits/increment-with-lease",
                    {
                        "names": names,
                        "slots": 1,
                        "mode": "concurrency",
                        "lease_duration": LEASE_SECONDS,
                        "holder": holder.model_dump(mode="json") if holder else None,
                    },
                )
            except (httpx.HTTPStatusError, httpx.TransportError) as exc:
                left = deadline - time.monotonic()
                status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else 0
                if status in (0, httpx.codes.SERVICE_UNAVAILABLE):  # busy, or a lost connection
                    if time.monotonic() + busy > give_up:
                        _unheld(names, exc)
                        return UNHELD
                    time.sleep(busy)
                    busy = min(busy * 2, BUSY_MAX_SECONDS)
                    continue
                if status != httpx.codes.LOCKED:
                    raise
                if left <= 0:
                    return None
                retry_after = float(exc.response.headers.get("Retry-After", 1.0))
                time.sleep(min(max(retry_after, 0.1), left))
                continue
            lease = ConcurrencyLimitWithLeaseResponse.model_validate(response.json())
            if len(lease.limits) != len(names):  # strict: every limit must exist
                client.release_concurrency_slots_with_lease(lease.lease_id)
                missing = sorted(set(names) - {limit.name for limit in lease.limits})
                raise RuntimeError(f"Prefect has no concurrency limit {', '.join(missing)}")
            return lease.lease_id


def _unheld(names: list[str], exc: Exception) -> None:
    """Log that ``names`` are derived without their slots (Prefect failed with ``exc``)."""
    slots = ", ".join(names)
    log.warning("no derive slots from Prefect for %s (%s): the database lock alone", slots, exc)


def _post_once(client: SyncPrefectClient, path: str, body: dict[str, Any]) -> httpx.Response:
    """POST ``body`` to the Prefect API once, through Prefect's own HTTP client (its base
    URL, authentication and TLS settings) but without its retry loop
    (``PrefectHttpxSyncClient.send``), which waits 2 s after a 503, then 4, 8..., even with
    PREFECT_CLIENT_MAX_RETRIES=0. A Prefect server on SQLite answers 503 when a write finds
    its database locked; that happened to the first slot call of nearly every run (the
    server was recording the run's task states at that moment) and cost it 2 s, where asked
    again 50 ms later it succeeds. :func:`_take` retries a 503, a lost connection or a call
    unanswered for :data:`REQUEST_SECONDS` itself, from 50 ms up, for a minute at most,
    then derives without the slots (docs/decisions/0018)."""
    http = client._client
    request = http.build_request("POST", path, json=body, timeout=REQUEST_SECONDS)
    if http.enable_csrf_support:
        http._add_csrf_headers(request)
    response = httpx.Client.send(http, request)
    response.raise_for_status()
    return response


def _renew_until(lease: UUID, stop: threading.Event) -> None:
    """Renew the lease every :data:`RENEW_SECONDS` until ``stop``; a failed
    renewal is logged, not raised: the derive goes on (the database lock keeps it right)."""
    while not stop.wait(RENEW_SECONDS):
        try:
            with get_client(sync_client=True) as client:
                client.renew_concurrency_lease(lease_id=lease, lease_duration=LEASE_SECONDS)
        except Exception as exc:  # the server may be down for a moment
            log.warning("renewing the derive slots' lease %s failed: %s", lease, exc)


def _give_back(lease: UUID) -> None:
    """Release the lease's slots; if Prefect cannot be reached, they return when it expires."""
    try:
        with get_client(sync_client=True) as client:
            client.release_concurrency_slots_with_lease(lease)
    except Exception as exc:
        log.warning("releasing the derive slots' lease %s failed (it expires in %.0f s): %s",
                    lease, LEASE_SECONDS, exc)  # fmt: skip
