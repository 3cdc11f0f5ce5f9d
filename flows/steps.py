"""The monitor's steps in order, the same whoever runs them: crawl -> versions and changes ->
retention -> source health -> link checks -> publish -> notify, inside one run (pipeline/
runs.py).

:func:`monitor_steps` is the one orchestration of a run. It runs its steps through an
:class:`Executor`: the ``monitor`` flow's (flows/monitor.py: each step a Prefect task on
the flow's task runner, each derive batch holding its documents' Prefect slots), or a
plain thread pool's (flows/direct.py: ``policywatch crawl`` without a configured Prefect
server, decision 0018). Nothing here imports Prefect.

Versions and changes are derived in batches of documents, each batch one submitted step,
and each document inside under its database lock (pipeline/derive.py): the result is the
same as deriving one after another (docs/decisions/0016). Deriving does not wait for the
crawl to end (:func:`crawl_and_derive`): the spider runs in its own process, and each
document whose fetch it has stored joins the next batch, so that the crawl and the derive
use two cores.
"""

from __future__ import annotations

import importlib
import math
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Protocol

from config import defaults
from config.run import RunConfig, sources_of, tracked_documents
from flows import head_start, progress
from pipeline import spider_process
from pipeline.processes import keep_big_blocks, return_big_blocks
from pipeline.runs import CurrentRun, run
from spiders.events import FetchEvent

# The modules of the steps after the crawl (deriving, publishing...) are imported by their
# steps, not here: a run starts its crawl first, and they are imported while it fetches
# (:func:`_import_later_steps`).
#: What the steps after the crawl import, in the order they need it.
LATER_STEPS = (
    "pipeline.derive",
    "pipeline.retention",
    "pipeline.source_health",
    "pipeline.link_checks",
)
#: What the steps after the derive import, once the crawl has ended: publishing (feeds,
#: Jinja, markdown-it: about 5 MB) is not needed before, and the spider's process, alive
#: until then, is the other half of a run's memory peak (decision 0018).
AFTER_THE_CRAWL = ("pipeline.publishing",)


def _import_later_steps(crawl_ended: threading.Event) -> None:
    """Import the modules of the steps after the crawl, in a thread of its own, while this
    process waits for the spider's pages (imports that would otherwise be paid after the
    crawl, when each step begins); :data:`AFTER_THE_CRAWL` once ``crawl_ended`` is set,
    while the last batches are derived. Whatever fails here is raised again by the step
    that imports it."""

    def load() -> None:
        for name in LATER_STEPS:
            try:
                importlib.import_module(name)
            except Exception:
                return
        crawl_ended.wait()
        for name in AFTER_THE_CRAWL:
            try:
                importlib.import_module(name)
            except Exception:
                return

    threading.Thread(target=load, name="policywatch-imports", daemon=True).start()


#: Documents derived at once by one run (threads of its task runner or pool).
DERIVE_WORKERS = 4
#: Batches per worker: more than one, so a worker that finishes early takes another.
BATCHES_PER_WORKER = 2
#: Documents per batch at least: each batch is a task run and, on a shared Prefect server, a
#: few API calls for its slots; a small run is one batch.
MIN_BATCH = 20
#: Documents per batch at most: a batch holds every one of its documents' slots until its
#: last document is done, so another run wanting one of them waits for the whole batch.
MAX_BATCH = 90


class Future(Protocol):
    """What a submitted step gives back (a Prefect future or a concurrent.futures one)."""

    def result(self) -> Any: ...

    def add_done_callback(self, fn: Callable[[Any], None]) -> None: ...


class Executor(Protocol):
    """Who runs a run's steps: ``submit`` runs a step beside the caller (a crawl, a derive
    batch), ``call`` runs one now in the caller's thread, ``wait`` returns once every
    given future is done. ``step`` is one of this module's step functions."""

    def submit(self, step: Callable[..., Any], *args: Any, name: str | None = None) -> Future: ...

    def call(self, step: Callable[..., Any], *args: Any) -> Any: ...

    def wait(self, futures: Iterable[Future]) -> None: ...


class DeriveFailed(RuntimeError):
    """Documents of a batch whose derive raised; the batch's other documents were derived.
    (Built from its arguments alone, so that it pickles back from a process pool.)"""

    def __init__(self, failed: list[str], detail: str) -> None:
        super().__init__(failed, detail)
        self.failed = failed
        self.detail = detail

    def __str__(self) -> str:
        return f"deriving {', '.join(self.failed)} failed: {self.detail}"


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


# The steps (each a Prefect task in flows/monitor.py).


def crawl(cfg: RunConfig, run_id: int) -> int:
    """The crawl of the run (the spider's subprocess, or the crawl a head start began);
    each stored fetch is told to the progress hook and to whoever listens for the run's
    fetches. The fetches stored."""
    with _listeners_lock:
        listener = _listeners.get(run_id)
    early = head_start.early_crawl(run_id)
    if early is not None:  # begun before the flow (flows/head_start.py): follow it
        return early.follow(listener or (lambda document: None))

    def on_fetch(event: FetchEvent) -> None:
        progress.emit(event)
        if listener is not None:
            listener(event.document)

    return spider_process.crawl(cfg, run_id, on_fetch=on_fetch)


def derive_each(
    cfg: RunConfig,
    run_id: int | None,
    document_ids: list[str],
    derive_one: Callable[[RunConfig, int | None, str], dict[str, int]] | None = None,
) -> dict[str, int]:
    """Derive the documents in order (each with ``derive_one``, by default
    ``derive.derive_one_document``), each whatever happens to the others. Raises
    :class:`DeriveFailed` at the end if some raised."""
    from pipeline import derive

    one = derive_one or derive.derive_one_document
    parts: list[dict[str, int]] = []
    failed: list[str] = []
    first: BaseException | None = None
    for doc in document_ids:
        try:
            parts.append(one(cfg, run_id, doc))
        except Exception as exc:  # a document fails alone
            failed.append(doc)
            first = first or exc
    if first is not None:
        raise DeriveFailed(failed, f"{type(first).__name__}: {first}") from first
    return derive.add_counts(parts)


def derive_batch(cfg: RunConfig, run_id: int | None, document_ids: list[str]) -> dict[str, int]:
    """A batch of documents, derived in turn (:func:`derive_each`)."""
    return derive_each(cfg, run_id, document_ids)


def drop_unchanged_bodies(cfg: RunConfig, run_id: int) -> int:
    from pipeline import retention

    return retention.drop_unchanged_bodies(cfg, run_id)


def check_health(cfg: RunConfig, run_id: int) -> int:
    from pipeline import source_health

    return source_health.source_health(cfg, run_id)


def check_links(cfg: RunConfig, run_id: int) -> dict[str, int]:
    from pipeline import link_checks

    return link_checks.check_links(cfg, run_id)


def publish(cfg: RunConfig) -> dict[str, Any]:
    from pipeline import publishing

    return publishing.publish(cfg)


def notify(cfg: RunConfig, run_id: int) -> dict[str, int]:
    targets = sources_of(cfg).notify
    if not targets:  # what notify_step answers then, without importing apprise
        return {}
    from notify.deliver import notify_step

    return notify_step(cfg.db_url, targets, cfg.base_url, run_id)


# The orchestration.


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


def batch_size(documents: int, workers: int, min_batch: int = MIN_BATCH) -> int:
    """Documents per batch when about ``documents`` are to derive: ``workers`` x
    :data:`BATCHES_PER_WORKER` batches, of ``min_batch`` documents at least and
    :data:`MAX_BATCH` at most."""
    wanted = max(min_batch, math.ceil(documents / max(1, workers * BATCHES_PER_WORKER)))
    return min(MAX_BATCH, wanted)


def _submit(executor: Executor, cfg: RunConfig, run_id: int | None, batch: list[str]) -> Future:
    name = f"derive {batch[0]}" + (f" +{len(batch) - 1}" if len(batch) > 1 else "")
    return executor.submit(derive_batch, cfg, run_id, batch, name=name)


def _counts(executor: Executor, futures: list[Future]) -> dict[str, int]:
    """The batches' counts added up, once every batch has run to its end; the first
    failure, if any, raised then."""
    from pipeline import derive

    executor.wait(futures)
    return derive.add_counts(future.result() for future in futures)


def derive_all(
    executor: Executor,
    cfg: RunConfig,
    run_id: int | None,
    workers: int = DERIVE_WORKERS,
    min_batch: int = MIN_BATCH,
) -> dict[str, int]:
    """Every document with unprocessed fetches, in batches (``workers`` x
    :data:`BATCHES_PER_WORKER`, of ``min_batch`` documents at least), each submitted to
    ``executor``. Every batch runs to its end; then the first failure, if any, is raised."""
    from pipeline import derive

    pending = derive.documents_to_derive(cfg)
    if not pending:
        return derive.add_counts([])
    size = batch_size(len(pending), workers, min_batch)
    count = math.ceil(len(pending) / size)
    return _counts(executor, [_submit(executor, cfg, run_id, b) for b in batches(pending, count)])


def crawl_and_derive(
    executor: Executor,
    cfg: RunConfig,
    run_id: int,
    expected: int,
    workers: int = DERIVE_WORKERS,
    min_batch: int = MIN_BATCH,
) -> tuple[int, dict[str, int]]:
    """The crawl (submitted to ``executor``), and deriving its documents meanwhile: each
    document whose fetch the spider has stored joins the next batch, submitted when it
    holds :func:`batch_size` documents (of ``expected``), the last one when the crawl ends.
    Then whatever is still unprocessed (a fetch the events did not name, one a dead run
    left) is derived as :func:`derive_all` does. The fetches stored, and the counts; a
    failed crawl raises after its fetches were derived."""
    fetched: queue.Queue[str | None] = queue.Queue()
    size = batch_size(expected, workers, min_batch)
    return_big_blocks()  # while the spider's process is alive (a `serve` runs many crawls)
    futures: list[Future] = []
    with _listening(run_id, fetched.put):
        crawled = executor.submit(crawl, cfg, run_id)
        crawl_ended = threading.Event()
        _import_later_steps(crawl_ended)
        crawled.add_done_callback(lambda _: keep_big_blocks())  # given back until then
        crawled.add_done_callback(lambda _: crawl_ended.set())
        crawled.add_done_callback(lambda _: fetched.put(None))  # however the crawl ends
        seen: set[str] = set()
        batch: list[str] = []
        while (doc := fetched.get()) is not None:
            if doc in seen:
                continue
            seen.add(doc)
            batch.append(doc)
            if len(batch) >= size:
                futures.append(_submit(executor, cfg, run_id, batch))
                batch = []
        if batch:
            futures.append(_submit(executor, cfg, run_id, batch))
    executor.wait([crawled, *futures])
    fetches = crawled.result()  # a failed crawl fails the run first, as before
    counts = _counts(executor, futures)
    rest = derive_all(executor, cfg, run_id, workers, min_batch)
    from pipeline import derive

    return fetches, derive.add_counts([counts, rest])


def _location(out: str) -> str:
    """An absolute folder, or object storage as given (feeds.remote)."""
    from feeds.remote import is_remote

    return out if is_remote(out) else os.path.abspath(out)  # not resolve(): out is a symlink


def run_config(
    documents: list[str] | None = None,
    db: str | None = None,
    sources: str | None = None,
    out: str | None = None,
    base_url: str | None = None,
    trigger: str = "manual",
) -> RunConfig:
    """A run's settings: those given, the others from the environment of this process
    (POLICYWATCH_DB, POLICYWATCH_SOURCES, POLICYWATCH_OUT, POLICYWATCH_BASE_URL)."""
    env = os.environ.get
    return RunConfig(
        db_url=db or defaults.db_url(),
        sources_path=str(
            Path(sources or env("POLICYWATCH_SOURCES") or defaults.SOURCES_PATH).resolve()
        ),
        out_dir=_location(out or env("POLICYWATCH_OUT") or str(defaults.OUT_DIR)),
        base_url=base_url or env("POLICYWATCH_BASE_URL") or defaults.BASE_URL,
        documents=list(documents or []),
        trigger=trigger,
    )


def monitor_steps(executor: Executor, cfg: RunConfig) -> dict[str, Any]:
    """One run of the monitor: fetch the documents of ``cfg`` (all if none named), store
    versions and changes, the run's bookkeeping, publish, notify; the run's counts."""
    expected = len(sources_of(cfg).select(cfg.documents or None))
    adopted = head_start.adopt(cfg)  # opened, its crawl begun, by the command (and closed)
    opened: AbstractContextManager[CurrentRun] = nullcontext(adopted)
    if adopted is None:
        opened = run(cfg.db_url, cfg.trigger, tracked_documents(cfg))
    with opened as current:
        counts = current.counts
        counts["fetched"], derived = crawl_and_derive(executor, cfg, current.id, expected)
        counts.update(derived)
        counts["bodies_dropped"] = executor.call(drop_unchanged_bodies, cfg, current.id)
        counts["source_alerts"] = executor.call(check_health, cfg, current.id)
        counts.update(executor.call(check_links, cfg, current.id))
        executor.call(publish, cfg)
        counts.update(executor.call(notify, cfg, current.id))  # never raises
    return {"run_id": current.id, **counts, "out_dir": cfg.out_dir}
