"""What every command shares: the consoles, the common options, one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from changes import categories
from config import defaults
from config.run import RunConfig
from config.sources import Sources, SourcesError, load_sources

console = Console()
err = Console(stderr=True)


def checked_db(value: str | None) -> str | None:
    """--db (or POLICYWATCH_DB, or the default) must name a database that can work."""
    from storage.db import DatabaseUrlError, check_url

    try:
        check_url(value or defaults.db_url())
    except DatabaseUrlError as exc:
        raise fail(f"--db: {exc}") from exc
    return value


DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="POLICYWATCH_DB",
        help="SQLAlchemy URL [default: sqlite:///var/policywatch.db]",
        callback=checked_db,
    ),
]
SourcesOpt = Annotated[
    Path, typer.Option("--sources", envvar="POLICYWATCH_SOURCES", help="The sources file.")
]
OutOpt = Annotated[
    str,
    typer.Option(
        "--out",
        envvar="POLICYWATCH_OUT",
        help="Folder for feeds and site, or object storage (s3://bucket/prefix).",
    ),
]
BaseOpt = Annotated[
    str,
    typer.Option("--base-url", envvar="POLICYWATCH_BASE_URL", help="Public URL of --out."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

EXIT_ALL_FAILED = 3  # `crawl`: every fetch of the run failed (README, "Exit codes")


def progress_bar(label: str, disable: bool = False) -> Progress:
    """A bar on stderr for long work: ``label``, done/total, what is being done, time."""
    return Progress(
        TextColumn(f"[bold]{escape(label)}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        disable=disable,
        transient=True,
    )


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as one ``error:`` line on stderr (taken literally: brackets from a
    file name or a TOML table are not Rich markup) and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def print_counts(title: str, counts: dict[str, Any]) -> None:
    """A one-row table of counts: one right-aligned column per key, in order."""
    table = Table(title=title)
    for key in counts:
        table.add_column(key, justify="right")
    table.add_row(*(str(value) for value in counts.values()))
    console.print(table)


def publish_now(db: str | None, out: str, base_url: str) -> dict[str, Any]:
    """Rebuild the feeds and the site from the database (no sources needed)."""
    from pipeline.publishing import publish

    return publish(
        RunConfig(
            db_url=db or defaults.db_url(), sources_path="", out_dir=str(out), base_url=base_url
        )
    )


def load_checked_sources(path: Path) -> Sources:
    """The sources file at ``path``, with the categories its ``[[notify]]`` targets name
    checked against changes/categories/; a one-line error (exit 2) if it cannot be used."""
    try:
        sources = load_sources(path)
        sources.check_categories(categories.names())
    except SourcesError as exc:
        raise fail(str(exc)) from exc
    return sources


def check_sources(path: Path, documents: list[str] | None = None) -> None:
    try:
        load_checked_sources(path).select(documents or None)
    except SourcesError as exc:
        raise fail(str(exc)) from exc
