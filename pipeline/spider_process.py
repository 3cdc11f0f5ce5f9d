"""The spider runs in a fresh subprocess (Twisted's reactor cannot restart in-process):
``python -m spiders.crawl``, whose JSON lines on stdout are its events."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from config.run import RunConfig
from spiders.events import FetchEvent, SpiderEvent, parse_event


class CrawlError(RuntimeError):
    """The crawl subprocess failed; its stderr tail is in the message."""


def crawl(cfg: RunConfig, run_id: int, on_fetch: Callable[[FetchEvent], None] | None = None) -> int:
    """Fetch the documents of ``cfg`` (all if none named) into the run ``run_id``.

    Returns the number of fetches stored; raises CrawlError if the subprocess failed.
    """
    args = ["--run-id", str(run_id)]
    for doc_id in cfg.documents:
        args += ["--doc", doc_id]
    fetched = 0

    def on_event(event: SpiderEvent) -> None:
        nonlocal fetched
        if isinstance(event, FetchEvent):
            fetched += 1
            if on_fetch:
                on_fetch(event)

    run_spider(cfg, args, on_event)
    return fetched


def run_spider(cfg: RunConfig, args: list[str], on_event: Callable[[SpiderEvent], None]) -> None:
    """``python -m spiders.crawl`` with ``args``; each event it prints goes to ``on_event``."""
    cmd = [sys.executable, "-m", "spiders.crawl", "--db", cfg.db_url]
    cmd += ["--sources", cfg.sources_path, *args]
    with tempfile.TemporaryFile("w+") as err:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_root(), _pp()]))}
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                event = parse_event(line)
                if event is not None:
                    on_event(event)
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read()[-2000:]
            raise CrawlError(f"crawl failed (exit {proc.returncode}):\n{tail}")


def _root() -> str:
    return str(Path(__file__).resolve().parent.parent)


def _pp() -> str:
    return os.environ.get("PYTHONPATH", "")
