"""Run the monitor now from a terminal (``policywatch crawl``, the demo), with a Rich
progress bar fed by the crawl's fetch events.

With a configured Prefect server (PREFECT_API_URL), the run is the ``monitor`` flow, seen
and recorded by that server. Without one, it is the same steps (flows/steps.py) on a plain
thread pool (flows/direct.py), Prefect not even imported: Prefect's temporary API server
would keep nothing beyond the command, and its slots would guard nothing across processes
(decision 0018). ``POLICYWATCH_PREFECT_FLOW=1`` runs the flow on such a temporary
server anyway (flows/prefect_api.py: flow_wanted).
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from config.sources import load_sources
from flows import progress
from flows.prefect_api import flow_wanted
from spiders.events import FetchEvent


def run_monitor(
    documents: list[str],
    db: str,
    sources: Path,
    out: str,
    base_url: str,
    trigger: str,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Run the monitor now; the progress bar goes to stderr (hidden if not wanted).

    The spider's subprocess starts at once (pipeline/spider_process.py: ``prewarm``), and,
    for the flow without a configured server, Prefect's temporary one
    (flows/temporary_api.py), while this process imports what the run needs."""
    from pipeline import spider_process

    spider_process.prewarm()
    total = len(load_sources(sources).select(documents or None))
    try:
        if flow_wanted():
            return _on_prefect(documents, db, sources, out, base_url, trigger, total, show_progress)
        from flows import steps
        from flows.direct import monitor_direct

        cfg = steps.run_config(documents or None, db, str(sources), str(out), base_url, trigger)
        with _progress_bar(total, "starting…", show_progress):
            return monitor_direct(cfg)
    finally:
        spider_process.discard_prewarmed()


def _on_prefect(
    documents: list[str],
    db: str,
    sources: Path,
    out: str,
    base_url: str,
    trigger: str,
    total: int,
    show_progress: bool,
) -> dict[str, Any]:
    """The ``monitor`` flow, with a head start (flows/head_start.py): the run opened and its
    crawl under way before Prefect is imported, so that the spider fetches meanwhile."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from flows import head_start, steps

    cfg = steps.run_config(documents or None, db, str(sources), str(out), base_url, trigger)
    with _progress_bar(total, "starting Prefect…", show_progress), head_start.head_start(cfg):
        with _signals_after_import():
            from flows import temporary_api  # imports Prefect (its settings)

            temporary_api.start()
            from flows.monitor import monitor

        temporary_api.ready()
        with temporary_api.flow_settings(), _terminal_heartbeats():
            return monitor(
                documents=documents or None,
                db=db,
                sources=str(sources),
                out=str(out),
                base_url=base_url,
                trigger=trigger,
            )


@contextmanager
def _signals_after_import() -> Iterator[None]:
    """SIGTERM and SIGHUP that come during the block (Prefect's import, 1.5-2 s, while the
    head start's spider fetches) are acted on when it ends, by the handler in place then
    (pipeline/processes.py: ``stop_on_signals``): raised inside the import, the handler's
    exception can come out as another (from pydantic's serializer, a
    PydanticSerializationError and a traceback instead of exit code 143)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def note(signum: int, frame: object) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, note) for sig in _STOPS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received:
            signal.raise_signal(received[0])


_STOPS = (signal.SIGTERM, signal.SIGHUP)

#: Set either to keep Prefect's flow-run heartbeats in a `crawl` run from the terminal.
HEARTBEAT_SETTINGS = ("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "PREFECT_RUNNER_HEARTBEAT_FREQUENCY")


@contextmanager
def _terminal_heartbeats() -> Iterator[None]:
    """A run started from the terminal sends no flow-run heartbeats, unless the environment
    sets their frequency: the end of every run waited 0.6-0.9 s for Prefect's heartbeat
    thread (it sleeps in one-second steps) to send one heartbeat, at the start, that only
    an automation watching for missing heartbeats reads (decision 0018). policywatch's own
    run heartbeat (pipeline/runs.py) still marks a killed run crashed; runs of `serve`
    and of workers keep Prefect's heartbeats."""
    if any(os.environ.get(name) for name in HEARTBEAT_SETTINGS):
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@contextmanager
def _progress_bar(total: int, starting: str, show: bool) -> Iterator[None]:
    """A progress bar on stderr that each fetch of the crawl advances (flows/progress.py)."""
    with Progress(
        TextColumn("[bold]crawl[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not show,
        transient=True,
    ) as bar:
        task_id = bar.add_task(starting, total=total)

        def on_fetch(event: FetchEvent) -> None:
            outcome = event.error or event.status
            bar.update(task_id, advance=1, description=f"{event.document}: {outcome}")

        progress.set_listener(on_fetch)
        try:
            yield
        finally:
            progress.set_listener(None)
