"""`policywatch demo`: real Facebook policy history, served locally, crawled step by step."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from config import defaults
from demo.corpus import RecordedVersion, load_history
from demo.pages import meta_page
from demo.server import FakeMeta

HISTORY = "facebook-privacy-policy-en"
PATH = "/privacy/policy/printable/"
DOC_ID = "facebook-privacy-policy"

# Recorded versions to serve, in order (recorded_at prefixes). They cover: a start, a
# version that differs only in rotating link tokens (must raise nothing), the June 2024
# AI change, quiet months, the May 2025 "AI at Meta" legitimate-interests change, and
# the new policies of late 2025.
STEPS = (
    "2024-05-21T18:30",
    "2024-06-18T12:30",
    "2024-06-26T00:30",
    "2025-04-22T00:30",
    "2025-04-22T12:31",
    "2025-05-28T00:30",
    "2025-11-26T00:30",
    "2026-01-15T00:30",
)


OUTCOMES = {
    "new": "new version",
    "held": "held as suspect",
    "confirmed": "confirmed",
    "same": "same text (link tokens and page chrome ignored)",
    "failures": "fetch failed",
    "nothing": "nothing",
}


@dataclass(frozen=True)
class StepResult:
    version: RecordedVersion
    outcome: str
    changes: int


def pick_versions(limit: int | None = None) -> list[RecordedVersion]:
    history = load_history(HISTORY)
    chosen = []
    for prefix in STEPS[:limit]:
        match = next(v for v in history if v.recorded_at.isoformat().startswith(prefix))
        chosen.append(match)
    return chosen


def demo_sources(url: str) -> str:
    return f"""# Written by `policywatch demo`: the local stand-in for Meta.
[crawl]
download_delay = 0.0
timeout = 20.0

[[document]]
id = "{DOC_ID}"
service = "Facebook"
title = "Facebook Privacy Policy"
kind = "policy"
url = "{url}"
page_url = "https://www.facebook.com/privacy/policy/"
select = ["#root"]
"""


def run_demo(workdir: Path, console: Console, limit: int | None = None) -> int:
    """Serve each chosen version, crawl after each step, publish; print what was found."""
    from flows.crawl_now import run_monitor

    started = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    db_file = workdir / "demo.db"
    for stale in workdir.glob("demo.db*"):
        stale.unlink()
    out = workdir / "public"
    versions = pick_versions(limit)
    console.print(
        f"[bold]policywatch demo[/]: {len(versions)} recorded versions of the Facebook "
        "Privacy Policy (2024-2026), served from 127.0.0.1"
    )
    results: list[StepResult] = []
    with FakeMeta() as site:
        sources = workdir / "sources.toml"
        sources.write_text(demo_sources(site.url(PATH)), encoding="utf-8")
        for n, version in enumerate(versions, 1):
            site.page(PATH, meta_page(version.text))
            result = run_monitor(
                [],
                f"sqlite:///{db_file.resolve()}",
                sources,
                out,
                defaults.BASE_URL,
                "demo",
                show_progress=console.is_terminal,
            )
            outcome = next(
                (k for k in ("new", "held", "confirmed", "same", "failures") if result.get(k)),
                "nothing",
            )
            results.append(StepResult(version, outcome, result.get("changes", 0)))
            console.print(
                f"step {n}/{len(versions)}: Meta serves the version recorded "
                f"{version.recorded_at:%Y-%m-%d %H:%M} -> {OUTCOMES[outcome]}"
                + (f", {result['changes']} change" if result.get("changes") else "")
            )
    _report(console, workdir, results, time.monotonic() - started)
    return 0


def _report(console: Console, workdir: Path, results: list[StepResult], seconds: float) -> None:
    from storage.db import open_db
    from storage.repo import latest_changes

    table = Table(title="What policywatch found")
    for col in ("step", "recorded", "outcome", "changes"):
        table.add_column(col)
    for n, r in enumerate(results, 1):
        table.add_row(str(n), f"{r.version.recorded_at:%Y-%m-%d %H:%M}", r.outcome, str(r.changes))
    console.print(table)
    sessions = open_db(f"sqlite:///{(workdir / 'demo.db').resolve()}")
    with sessions() as session:
        for change in latest_changes(session):
            console.print(f"  • {change.title}", highlight=False)
    out = (workdir / "public").resolve()
    console.print(
        f"\nsite:  {out / 'index.html'}\natom:  {out / 'feed.atom'}\n"
        f"rss:   {out / 'feed.rss'}\ndone in {seconds:.0f} s"
    )
