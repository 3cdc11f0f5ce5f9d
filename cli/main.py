"""The ``policywatch`` console script."""

from __future__ import annotations

import sys

from cli.app import app
from cli.common import err


def main() -> None:
    """The ``policywatch`` command: SIGTERM and SIGHUP stop it as Ctrl-C does (the run is
    closed, the spider and Prefect's temporary server end with it), exit 128 + signal."""
    from pipeline.processes import Terminated, stop_on_signals

    try:
        with stop_on_signals():
            app()
    except Terminated as exc:
        err.print(f"policywatch: {exc}", highlight=False)
        sys.exit(exc.exit_code)
