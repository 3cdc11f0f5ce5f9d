"""The monitor flow: crawl -> versions and changes -> source health -> link checks -> publish
-> notify, each step a Prefect task over the functions of ``pipeline/`` (and ``notify/``),
inside one run.

Versions and changes are derived in batches of documents, one task per batch, on the
flow's task runner (:data:`DERIVE_WORKERS` threads; any Prefect task runner through
``monitor.with_options``), each task holding its documents' Prefect slots (flows/slots.py)
and, inside, each document's database lock (pipeline/derive.py): the result is the same as
deriving one after another (docs/decisions/0016). Deriving does not wait for the crawl to
end (:func:`crawl_and_derive`): the spider runs in its own process, and each document whose
fetch it has stored joins the next batch, so that the crawl and the derive use two cores.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import wait
from prefect.task_runners import ThreadPoolTaskRunner

from config import defaults
from config.run import RunConfig, sources_of, tracked_documents
from feeds.remote import is_remote
from flows import progress, slots
from pipeline import derive, link_checks, publishing, retention, source_health, spider_process
from pipeline.runs import run
from spiders.events import FetchEvent

#: Who hears of each fetch the crawl of a run stores, by run id (:func:`crawl_and_derive`).
_listeners: dict[int, Callable[[str], None]] = {}
_listeners_lock = threading.Lock()


@contextmanager
def _listening(run_id: int, listener: Callable[[str], None]) -> Iterator[None]:
    with _listeners_lock:
        _listeners[run_id] = listener
    try:
        yield
    finally:
        with _listeners_lock:
            _listeners.pop(run_id, None)


@task(name="crawl", cache_policy=NO_CACHE)
def crawl_task(cfg: RunConfig, run_id: int) -> int:
    with _listeners_lock:
        listener = _listeners.get(run_id)

    def on_fetch(event: FetchEvent) -> None:
        progress.emit(event)
        if listener is not None:
            listener(event.document)

    return spider_process.crawl(cfg, run_id, on_fetch=on_fetch)


#: Documents derived at once by one flow run (threads of its task runner).
DERIVE_WORKERS = 4
#: Batches per worker: more than one, so a worker that finishes early takes another.
BATCHES_PER_WORKER = 2
#: Documents per batch at least: each batch is a task run and, on a shared Prefect server, a
#: few API calls for its slots; a small run is one batch.
MIN_BATCH = 20
#: Documents per batch at most: a batch takes its documents' slots in one call, and Prefect
#: refuses an event naming more than 100 related resources.
MAX_BATCH = 90
#: Seconds a batch waits for all its documents' slots at once (a busy Prefect server can be
#: slow to answer); a batch one of whose documents another run is deriving (or took
#: meanwhile) takes its documents' slots one at a time instead.
BATCH_WAIT_SECONDS = 60.0


class DeriveFailed(RuntimeError):
    """Documents of a batch whose derive raised; the batch's other documents were derived.
    (Built from its arguments alone, so that it pickles back from a process pool.)"""

    def __init__(self, failed: list[str], detail: str) -> None:
        super().__init__(failed, detail)
        self.failed = failed
        self.detail = detail

    def __str__(self) -> str:
        return f"deriving {', '.join(self.failed)} failed: {self.detail}"


def batches(documents: list[str], count: int) -> list[list[str]]:
    """``documents`` cut into at most ``count`` runs of consecutive documents, of sizes that
    differ by one at most, in order."""
    count = max(1, min(count, len(documents)))
    size, extra = divmod(len(documents), count)
    out: list[list[str]] = []
    start = 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        out.append(documents[start:end])
        start = end
    return [batch for batch in out if batch]


def derive_each(
    cfg: RunConfig, run_id: int | None, document_ids: list[str], one_slot_each: bool = False
) -> dict[str, int]:
    """Derive the documents in order, each whatever happens to the others; with
    ``one_slot_each``, each holding its own Prefect slot meanwhile (``deferred`` if another
    run held it all along). Raises :class:`DeriveFailed` at the end if some raised."""
    parts: list[dict[str, int]] = []
    failed: list[str] = []
    first: BaseException | None = None
    for doc in document_ids:
        try:
            if one_slot_each:
                parts.append(_derive_holding_its_slot(cfg, run_id, doc))
            else:
                parts.append(derive.derive_one_document(cfg, run_id, doc))
        except Exception as exc:  # a document fails alone
            failed.append(doc)
            first = first or exc
    if first is not None:
        raise DeriveFailed(failed, f"{type(first).__name__}: {first}") from first
    return derive.add_counts(parts)


def _derive_holding_its_slot(cfg: RunConfig, run_id: int | None, doc: str) -> dict[str, int]:
    with slots.one_at_a_time(doc, slots.WAIT_SECONDS) as held:
        if not held:  # another run held the document all along: its fetches wait
            return {"deferred": 1}
        return derive.derive_one_document(cfg, run_id, doc)


@task(name="derive versions and changes", cache_policy=NO_CACHE)
def derive_task(cfg: RunConfig, run_id: int | None, document_ids: list[str]) -> dict[str, int]:
    """Derive a batch of documents holding all their slots, taken in one call; if some
    document stays busy in another run, holding one slot at a time instead."""
    with slots.all_at_once(document_ids, BATCH_WAIT_SECONDS) as held:
        if held:
            return derive_each(cfg, run_id, document_ids)
    return derive_each(cfg, run_id, document_ids, one_slot_each=True)


def batch_size(documents: int, workers: int, min_batch: int = MIN_BATCH) -> int:
    """Documents per batch when about ``documents`` are to derive: ``workers`` x
    :data:`BATCHES_PER_WORKER` batches, of ``min_batch`` documents at least and
    :data:`MAX_BATCH` at most."""
    wanted = max(min_batch, math.ceil(documents / max(1, workers * BATCHES_PER_WORKER)))
    return min(MAX_BATCH, wanted)


def _submit(cfg: RunConfig, run_id: int | None, batch: list[str]) -> Any:
    name = f"derive {batch[0]}" + (f" +{len(batch) - 1}" if len(batch) > 1 else "")
    return derive_task.with_options(task_run_name=name).submit(cfg, run_id, batch)


def _counts(futures: list[Any]) -> dict[str, int]:
    """The batches' counts added up, once every batch has run to its end; the first
    failure, if any, raised then."""
    wait(futures)
    return derive.add_counts(future.result() for future in futures)


def derive_all(
    cfg: RunConfig, run_id: int | None, workers: int = DERIVE_WORKERS, min_batch: int = MIN_BATCH
) -> dict[str, int]:
    """Every document with unprocessed fetches, in batches (``workers`` x
    :data:`BATCHES_PER_WORKER`, of ``min_batch`` documents at least), one task each on the
    flow's task runner. Every batch runs to its end; then the first failure, if any, is
    raised."""
    pending = derive.documents_to_derive(cfg)
    if not pending:
        return derive.add_counts([])
    size = batch_size(len(pending), workers, min_batch)
    count = math.ceil(len(pending) / size)
    return _counts([_submit(cfg, run_id, batch) for batch in batches(pending, count)])


def crawl_and_derive(
    cfg: RunConfig,
    run_id: int,
    expected: int,
    workers: int = DERIVE_WORKERS,
    min_batch: int = MIN_BATCH,
) -> tuple[int, dict[str, int]]:
    """The crawl (a task on the flow's task runner), and deriving its documents meanwhile:
    each document whose fetch the spider has stored joins the next batch, submitted when it
    holds :func:`batch_size` documents (of ``expected``), the last one when the crawl ends.
    Then whatever is still unprocessed (a fetch the events did not name, one a dead run
    left) is derived as :func:`derive_all` does. The fetches stored, and the counts; a
    failed crawl raises after its fetches were derived."""
    fetched: queue.Queue[str | None] = queue.Queue()
    size = batch_size(expected, workers, min_batch)
    futures: list[Any] = []
    with _listening(run_id, fetched.put):
        crawl = crawl_task.submit(cfg, run_id)
        crawl.add_done_callback(lambda _: fetched.put(None))  # however the crawl ends
        seen: set[str] = set()
        batch: list[str] = []
        while (doc := fetched.get()) is not None:
            if doc in seen:
                continue
            seen.add(doc)
            batch.append(doc)
            if len(batch) >= size:
                futures.append(_submit(cfg, run_id, batch))
                batch = []
        if batch:
            futures.append(_submit(cfg, run_id, batch))
    wait([crawl, *futures])
    fetches = crawl.result()  # a failed crawl fails the run first, as before
    counts = _counts(futures)
    rest = derive_all(cfg, run_id, workers, min_batch)
    return fetches, derive.add_counts([counts, rest])


@task(name="drop unchanged bodies", cache_policy=NO_CACHE)
def retention_task(cfg: RunConfig, run_id: int) -> int:
    return retention.drop_unchanged_bodies(cfg, run_id)


@task(name="source health", cache_policy=NO_CACHE)
def health_task(cfg: RunConfig, run_id: int) -> int:
    return source_health.source_health(cfg, run_id)


@task(name="check links", cache_policy=NO_CACHE)
def check_links_task(cfg: RunConfig, run_id: int) -> dict[str, int]:
    return link_checks.check_links(cfg, run_id)


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(cfg: RunConfig) -> dict[str, Any]:
    return publishing.publish(cfg)


@task(name="notify", cache_policy=NO_CACHE)
def notify_task(cfg: RunConfig, run_id: int) -> dict[str, int]:
    from notify.deliver import notify_step

    return notify_step(cfg.db_url, sources_of(cfg).notify, cfg.base_url, run_id)


def _location(out: str) -> str:
    """An absolute folder, or object storage as given (feeds.remote)."""
    return out if is_remote(out) else os.path.abspath(out)  # not resolve(): out is a symlink


@flow(name="monitor", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=DERIVE_WORKERS))
def monitor(
    documents: list[str] | None = None,
    db: str | None = None,
    sources: str | None = None,
    out: str | None = None,
    base_url: str | None = None,
    trigger: str = "manual",
) -> dict[str, Any]:
    """Fetch the documents (all if none named), store versions and changes, publish feeds.

    Settings not given come from the environment of the process that runs the flow
    (POLICYWATCH_DB, POLICYWATCH_SOURCES, POLICYWATCH_OUT, POLICYWATCH_BASE_URL), so a
    deployment names no machine's paths (flows/serving.py).
    """
    env = os.environ.get
    cfg = RunConfig(
        db_url=db or defaults.db_url(),
        sources_path=str(
            Path(sources or env("POLICYWATCH_SOURCES") or defaults.SOURCES_PATH).resolve()
        ),
        out_dir=_location(out or env("POLICYWATCH_OUT") or str(defaults.OUT_DIR)),
        base_url=base_url or env("POLICYWATCH_BASE_URL") or defaults.BASE_URL,
        documents=list(documents or []),
        trigger=trigger,
    )
    expected = len(sources_of(cfg).select(cfg.documents or None))
    with run(cfg.db_url, cfg.trigger, tracked_documents(cfg)) as current:
        counts = current.counts
        counts["fetched"], derived = crawl_and_derive(cfg, current.id, expected)
        counts.update(derived)
        counts["bodies_dropped"] = retention_task(cfg, current.id)
        counts["source_alerts"] = health_task(cfg, current.id)
        counts.update(check_links_task(cfg, current.id))
        publish_task(cfg)
        counts.update(notify_task(cfg, current.id))  # never raises: a target may be down
    return {"run_id": current.id, **counts, "out_dir": cfg.out_dir}
