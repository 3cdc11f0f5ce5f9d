"""A run's head start: the run opened and its crawl under way before Prefect is imported.

With Prefect, ``policywatch crawl`` runs the ``monitor`` flow; importing Prefect (1.5-2 s of
CPU) and starting a flow run (about 0.5 s) came before the crawl, which the flow started.
Now :func:`head_start` opens the run (pipeline/runs.py) and hands the prewarmed spider its
arguments first; the command then imports Prefect and calls the flow with the same
settings, whose steps (flows/steps.py: ``monitor_steps``) adopt that run instead of
opening one (:func:`adopt`), and whose crawl task follows the crawl under way (the
documents fetched so far, then each as it is stored: :func:`early_crawl`) instead of
starting one. The spider fetches while this process starts Prefect (decision 0018).

The run is closed by :func:`head_start` when the flow returns (``completed``) or raises,
however early (``failed``: Prefect's import interrupted, its API unreachable, the flow
failed); then the spider is stopped first. Nothing here imports Prefect.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager

from config.run import RunConfig, tracked_documents
from flows import progress
from pipeline import spider_process
from pipeline.processes import stop
from pipeline.runs import CurrentRun, run
from spiders.events import FetchEvent


class EarlyCrawl:
    """The spider's crawl of a run, read in a thread of its own from now on; the
    documents it stores wait for a listener (:meth:`follow`)."""

    def __init__(self, cfg: RunConfig, run_id: int) -> None:
        self._lock = threading.Lock()
        self._backlog: list[str] = []
        self._listener: Callable[[str], None] | None = None
        self._process: subprocess.Popen[str] | None = None
        self._stopped = False
        self._fetches: Future[int] = Future()
        self._thread = threading.Thread(
            target=self._crawl, args=(cfg, run_id), name=f"policywatch-run-{run_id}-crawl"
        )
        self._thread.daemon = True
        self._thread.start()

    def _crawl(self, cfg: RunConfig, run_id: int) -> None:
        try:
            fetches = spider_process.crawl(cfg, run_id, self._on_fetch, self._on_start)
        except BaseException as exc:
            self._fetches.set_exception(exc)
        else:
            self._fetches.set_result(fetches)

    def _on_start(self, process: subprocess.Popen[str]) -> None:
        with self._lock:
            self._process = process
            stopped = self._stopped
        if stopped:
            stop(process)

    def _on_fetch(self, event: FetchEvent) -> None:
        progress.emit(event)
        with self._lock:
            if self._listener is None:
                self._backlog.append(event.document)
            else:
                self._listener(event.document)

    def follow(self, listener: Callable[[str], None]) -> int:
        """Tell ``listener`` each document stored so far, then each as it is stored, in
        order; the fetches stored, once the crawl has ended (its CrawlError raised)."""
        with self._lock:
            for document in self._backlog:
                listener(document)
            self._backlog.clear()
            self._listener = listener
        return self._fetches.result()

    def stop(self) -> None:
        """Terminate the spider if it still runs, and wait for the crawl's end."""
        with self._lock:
            self._stopped = True
            process = self._process
        if process is not None:
            stop(process)
        self._thread.join()


_lock = threading.Lock()
#: The run a command opened and the flow it calls next adopts, with its settings.
_waiting: tuple[RunConfig, CurrentRun] | None = None
#: The crawls under way, by run id.
_crawls: dict[int, EarlyCrawl] = {}


@contextmanager
def head_start(cfg: RunConfig) -> Iterator[int]:
    """Open the run of ``cfg`` and start its crawl; the block calls the flow, which adopts
    both. The run is closed when the block ends (``failed`` if it raises, the spider
    stopped first). The run's id."""
    global _waiting
    with run(cfg.db_url, cfg.trigger, tracked_documents(cfg)) as current:
        crawl = EarlyCrawl(cfg, current.id)
        with _lock:
            _waiting = (cfg, current)
            _crawls[current.id] = crawl
        try:
            yield current.id
        except BaseException:
            crawl.stop()
            raise
        finally:
            with _lock:
                _waiting = None
                _crawls.pop(current.id, None)
        crawl.follow(lambda document: None)  # a crawl nobody followed: its end, or its error


def adopt(cfg: RunConfig) -> CurrentRun | None:
    """The run a head start opened for ``cfg`` (once), or None: the caller opens its own."""
    global _waiting
    with _lock:
        if _waiting is None or _waiting[0] != cfg:
            return None
        current, _waiting = _waiting[1], None
        return current


def early_crawl(run_id: int) -> EarlyCrawl | None:
    """The crawl under way for ``run_id``, if a head start began it."""
    with _lock:
        return _crawls.get(run_id)
