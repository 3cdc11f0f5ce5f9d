"""`status`: what policywatch knows of each document, host and notification target."""

from __future__ import annotations

import json

from rich.table import Table

from cli.common import DbOpt, JsonOpt, console, fail
from config import defaults


def status(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Documents, their last fetch and its outcome, versions, held versions and changes; and
    when any process last sent a request to each host (kept with a crawl delay set).

    Example: [bold]policywatch status --json | jq '.[] | select(.last_error)'[/]
    """
    from cli.report import host_rows, status_rows
    from storage.db import DatabaseUrlError, check_url

    try:
        check_url(db or defaults.db_url(), must_exist=True)  # status never creates one
    except DatabaseUrlError as exc:
        raise fail(f"--db: {exc}") from exc
    rows = status_rows(db or defaults.db_url())
    if as_json:
        print(json.dumps(rows))
        return
    table = Table(title="policywatch status")
    # ids are what people copy: fold them onto more lines, never cut them
    table.add_column("document", overflow="fold", ratio=3)
    for col, ratio in (("kind", 1), ("last fetch (UTC)", 1), ("outcome", 3)):
        table.add_column(col, overflow="fold", ratio=ratio)
    for col in ("versions", "held", "changes"):
        table.add_column(col, justify="right", no_wrap=True)
    for r in rows:
        outcome = r["outcome"] or ""
        if r["failing_since"]:
            n = r["failed_fetches"]
            outcome += (
                f" since {r['failing_since'][:16].replace('T', ' ')}"
                f" ({n} failed fetch{'es' if n > 1 else ''})"
            )
        if r["error_detail"]:
            outcome += f": {r['error_detail']}"
        table.add_row(
            r["document"],
            r["kind"],
            r["last_fetch"][:16].replace("T", " ") if r["last_fetch"] else "never",
            outcome,
            str(r["versions"]),
            str(r["held"]),
            str(r["changes"]),
        )
    console.print(table)
    hosts = host_rows(db or defaults.db_url())
    if hosts:
        by_host = Table(title="politeness: last request per host, any process (UTC)")
        by_host.add_column("host", overflow="fold")
        by_host.add_column("last request (UTC)", no_wrap=True)
        for h in hosts:
            last = h["last_request"]
            by_host.add_row(h["host"], last[:19].replace("T", " ") if last else "never")
        console.print(by_host)
    _print_undelivered(db or defaults.db_url())


def _print_undelivered(db_url: str) -> None:
    """Notifications not delivered yet (pending, or given up), per target, if any."""
    from cli.report import undelivered_rows

    rows = undelivered_rows(db_url)
    if not rows:
        return
    table = Table(title="undelivered notifications")
    table.add_column("target", overflow="fold")
    table.add_column("pending", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("oldest (UTC)", no_wrap=True)
    table.add_column("last error", overflow="fold", ratio=3)
    for r in rows:
        oldest = r["oldest"][:16].replace("T", " ") if r["oldest"] else ""
        table.add_row(
            r["target"], str(r["pending"]), str(r["failed"]), oldest, r["last_error"] or ""
        )
    console.print(table)
