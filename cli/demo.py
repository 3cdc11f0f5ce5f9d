"""`demo`: real recorded Facebook history through a local stand-in for Meta."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.common import console, fail
from config import defaults


def demo(
    workdir: Annotated[
        Path, typer.Option("--dir", help="Where the demo keeps its database and site.")
    ] = Path("demo-output"),
    steps_: Annotated[
        int | None, typer.Option("--steps", help="Only the first N recorded versions.")
    ] = None,
    base_url: Annotated[
        str, typer.Option("--base-url", help="Public URL the demo's site will be served from.")
    ] = defaults.BASE_URL,
) -> None:
    """Replay real Facebook privacy-policy history through a local stand-in for Meta.

    Serves real recorded versions (2022-2026) as Meta-shaped pages on 127.0.0.1, crawls
    after each step through the real spider and flow, publishes, prints what it found.
    Uses its own database and output folder: your sources and database are untouched.

    Example: [bold]policywatch demo --dir /tmp/pw-demo[/]
    """
    from demo.run import run_demo
    from feeds.feed import normalize_base_url

    try:
        base = normalize_base_url(base_url)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    sys.exit(run_demo(workdir, console, limit=steps_, base_url=base))
