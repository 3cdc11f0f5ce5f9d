"""The spider runs in a fresh subprocess (Twisted's reactor cannot restart in-process):
``python -m spiders.crawl``, whose JSON lines on stdout are its events.

A command that knows it will crawl soon starts that subprocess ahead of time
(:func:`prewarm`: ``python -m spiders.crawl --wait``), so that its imports (Scrapy, Twisted,
the project; about a second of CPU) overlap the command's own start (Prefect's); the next
crawl of this process then hands it its arguments instead of starting one (used once: each
crawl still has a fresh process and reactor). :func:`discard_prewarmed` ends one nobody used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from config.run import RunConfig
from pipeline.processes import die_with_parent, stop
from spiders.events import FetchEvent, SpiderEvent, parse_event


class CrawlError(RuntimeError):
    """The crawl subprocess failed; its stderr tail is in the message."""


def crawl(
    cfg: RunConfig,
    run_id: int,
    on_fetch: Callable[[FetchEvent], None] | None = None,
    on_start: Callable[[subprocess.Popen[str]], None] | None = None,
) -> int:
    """Fetch the documents of ``cfg`` (all if none named) into the run ``run_id``;
    ``on_start`` is told the spider's process once it has its arguments (so that another
    thread can stop it).

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

    run_spider(cfg, args, on_event, on_start)
    return fetched


@dataclass
class _Started:
    process: subprocess.Popen[str]
    stderr: IO[str]


_prewarmed: _Started | None = None
_prewarmed_lock = threading.Lock()


def _start(args: list[str], wait: bool) -> _Started:
    err = tempfile.TemporaryFile("w+")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_root(), _pp()]))}
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "spiders.crawl", *args],
            stdin=subprocess.PIPE if wait else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
            preexec_fn=die_with_parent,
        )
    except BaseException:
        err.close()
        raise
    return _Started(proc, err)


def prewarm() -> None:
    """Start the next crawl's subprocess now, waiting for its arguments (call it from the
    main thread: the subprocess dies with the thread that starts it)."""
    global _prewarmed
    with _prewarmed_lock:
        if _prewarmed is None:
            _prewarmed = _start(["--wait"], wait=True)


def discard_prewarmed() -> None:
    """End a prewarmed subprocess no crawl used (it exits on the end of its stdin)."""
    global _prewarmed
    with _prewarmed_lock:
        started, _prewarmed = _prewarmed, None
    if started is None:
        return
    try:
        if started.process.stdin is not None:
            started.process.stdin.close()
        started.process.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        pass
    finally:
        stop(started.process)
        if started.process.stdout is not None:
            started.process.stdout.close()
        started.stderr.close()


def _take_prewarmed(args: list[str]) -> _Started | None:
    """The prewarmed subprocess, handed ``args`` (None if there is none, or it died)."""
    global _prewarmed
    with _prewarmed_lock:
        started, _prewarmed = _prewarmed, None
    if started is None:
        return None
    proc = started.process
    try:
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(args) + "\n")
        proc.stdin.close()
    except (OSError, ValueError):  # it died meanwhile: a fresh one does the crawl
        stop(proc)
        if proc.stdout is not None:
            proc.stdout.close()
        started.stderr.close()
        return None
    return started


def run_spider(
    cfg: RunConfig,
    args: list[str],
    on_event: Callable[[SpiderEvent], None],
    on_start: Callable[[subprocess.Popen[str]], None] | None = None,
) -> None:
    """``python -m spiders.crawl`` with ``args`` (in the prewarmed subprocess if there is one);
    ``on_start`` is told its process, each event it prints goes to ``on_event``.

    The subprocess dies with this one (``pipeline.processes``): killed with it (``kill -9``),
    or terminated when anything interrupts the reading here (SIGTERM, Ctrl-C, an error).
    """
    argv = ["--db", cfg.db_url, "--sources", cfg.sources_path, *args]
    started = _take_prewarmed(argv) or _start(argv, wait=False)
    proc, err = started.process, started.stderr
    with err:
        try:
            if on_start is not None:
                on_start(proc)
            assert proc.stdout is not None
            for line in proc.stdout:
                event = parse_event(line)
                if event is not None:
                    on_event(event)
            proc.wait()
        except BaseException:
            stop(proc)
            raise
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read()[-2000:]
            raise CrawlError(f"crawl failed (exit {proc.returncode}):\n{tail}")


def _root() -> str:
    return str(Path(__file__).resolve().parent.parent)


def _pp() -> str:
    return os.environ.get("PYTHONPATH", "")
