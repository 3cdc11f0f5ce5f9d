"""The ``policywatch`` console script."""

from __future__ import annotations

import gc
import sys

from cli.app import app
from cli.common import err


def main() -> None:
    """The ``policywatch`` command: SIGTERM and SIGHUP stop it as Ctrl-C does (the run is
    closed, the spider and Prefect's temporary server end with it), exit 128 + signal."""
    from pipeline.processes import Terminated, return_big_blocks, stop_on_signals

    return_big_blocks()
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
