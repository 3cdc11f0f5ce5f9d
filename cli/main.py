"""The ``policywatch`` console script."""

from __future__ import annotations

import gc
import sys


def _crawls_now(argv: list[str]) -> bool:
    """Whether the command line is a crawl (``policywatch crawl ...``, not its help)."""
    return argv[:1] == ["crawl"] and "--help" not in argv


def main() -> None:
    """The ``policywatch`` command: SIGTERM and SIGHUP stop it as Ctrl-C does (the run is
    closed, the spider and Prefect's temporary server end with it), exit 128 + signal.

    A crawl's spider subprocess starts first, before the command line itself is imported
    (typer, rich, the commands: about 0.4 s), so that its own imports are done by the time
    the run hands it its arguments (pipeline/spider_process.py: ``prewarm``; decision
    0018). Unused (a bad sources.toml, an unknown document), it dies with the command."""
    from pipeline.processes import Terminated, return_big_blocks, stop_on_signals

    return_big_blocks()
    if _crawls_now(sys.argv[1:]):
        from pipeline import spider_process

        spider_process.prewarm()
    from cli.app import app
    from cli.common import err

    try:
        with stop_on_signals():
            app()
    except Terminated as exc:
        err.print(f"policywatch: {exc}", highlight=False)
        sys.exit(exc.exit_code)
    finally:
        # Whatever is alive now is freed by the process's exit. Without this, Python's
        # finalization runs the garbage collector over it all (every module of Prefect,
        # SQLAlchemy, Scrapy... imported) several times: 0.3-1.5 s after a `crawl` had
        # printed its result (decision 0018). Exit handlers and finalizers still run.
        gc.freeze()
