"""Run the monitor flow now from a terminal (``policywatch crawl``, the demo), with a Rich
progress bar fed by the crawl's fetch events."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from config.sources import load_sources
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
    """Run the Prefect flow now; the progress bar goes to stderr (hidden if not wanted).

    What a run needs starts at once, side by side: the spider's subprocess (pipeline/
    spider_process.py: ``prewarm``) and, without a configured Prefect server, Prefect's
    temporary one (flows/temporary_api.py), while this process imports the flow."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from pipeline import spider_process

    spider_process.prewarm()
    from flows import temporary_api

    temporary_api.start()
    from flows import progress
    from flows.monitor import monitor

    total = len(load_sources(sources).select(documents or None))
    with Progress(
        TextColumn("[bold]crawl[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not show_progress,
        transient=True,
    ) as bar:
        task_id = bar.add_task("starting Prefect…", total=total)

        def on_fetch(event: FetchEvent) -> None:
            outcome = event.error or event.status
            bar.update(task_id, advance=1, description=f"{event.document}: {outcome}")

        progress.set_listener(on_fetch)
        try:
            temporary_api.ready()
            with temporary_api.flow_settings():
                return monitor(
                    documents=documents or None,
                    db=db,
                    sources=str(sources),
                    out=str(out),
                    base_url=base_url,
                    trigger=trigger,
                )
        finally:
            progress.set_listener(None)
            spider_process.discard_prewarmed()
