"""`notify`: send the notifications that are due (or a test message) to the targets."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from cli.common import (
    BaseOpt,
    DbOpt,
    JsonOpt,
    SourcesOpt,
    console,
    err,
    fail,
    load_checked_sources,
    print_counts,
)
from config import defaults


def notify(
    test: Annotated[
        bool, typer.Option("--test", help="Send a test message to each target now.")
    ] = False,
    db: DbOpt = None,
    sources: SourcesOpt = defaults.SOURCES_PATH,
    base_url: BaseOpt = defaults.BASE_URL,
    as_json: JsonOpt = False,
) -> None:
    """Send the notifications that are due now to the \\[\\[notify]] targets of sources.toml.

    Every crawl does this as its last step; run it by hand to retry now, or with --test to
    check that each target receives a message. Each target's apprise URL is read from the
    environment variable its entry names (url_env), never from the file.

    Examples:

      [bold]POLICYWATCH_NOTIFY_MAIL='mailtos://user:pass@example.org' policywatch notify --test[/]

      [bold]policywatch notify --json[/]
    """
    targets = load_checked_sources(sources).notify
    if not targets:
        raise fail(f"{sources} has no [[notify]] entries")
    if test:
        from notify.deliver import send_tests

        results = send_tests(targets, base_url)
        if as_json:
            print(
                json.dumps(
                    {
                        "sent": [t for t, e in results.items() if e is None],
                        "failed": {t: e for t, e in results.items() if e},
                    }
                )
            )
        else:
            for target_id, error in results.items():
                mark = "[green]sent[/]" if error is None else f"[red]failed:[/] {error}"
                console.print(f"{target_id}: {mark}", highlight=False)
        if any(results.values()):
            raise typer.Exit(1)
        return
    from notify.deliver import deliver

    report = deliver(db or defaults.db_url(), targets, base_url)
    counts = {
        "queued": report.queued,
        "sent": report.sent,
        "failed": report.failed,
        "waiting": report.deferred,
        "released": report.released,
    }
    if as_json:
        print(json.dumps({**counts, "errors": report.errors}))
        return
    print_counts("notifications", counts)
    for target_id, error in report.errors.items():
        err.print(f"{target_id}: {error}", highlight=False)
