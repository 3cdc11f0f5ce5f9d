"""The `policywatch` command line: one Typer app; each command lives in the module of its
group (running, status, scheduling, history, demo, notify, sources)."""

from __future__ import annotations

from typing import Annotated

import typer

from cli import demo, history, notify, running, scheduling, sources, status

app = typer.Typer(
    help="Watch Meta's privacy and AI pages; diff, classify and publish their changes.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"policywatch {version('policywatch')}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Watch Meta's privacy and AI pages; diff, classify and publish their changes."""


for command, name in (
    (running.crawl, None),
    (running.publish, None),
    (running.check_links, "check-links"),
    (status.status, None),
    (scheduling.serve, None),
    (scheduling.deploy, None),
    (history.replay, None),
    (history.rederive, None),
    (demo.demo, None),
    (notify.notify, None),
    (history.export, None),
    (sources.add, None),
    (sources.list_sources, "sources"),
):
    app.command(name)(command)
