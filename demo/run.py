"""`policywatch demo`: real Facebook policy history, served locally, crawled step by step."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from config import defaults
from demo.corpus import RecordedVersion, load_history
from demo.pages import FORMS, meta_page
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


DEFAULT_BASE_URL = defaults.BASE_URL
ATTRIBUTION = (
    "Recorded texts: Platform Governance Archive, Dataset PGA v2 (Katzenbach et al. 2023, "
    "https://doi.org/10.26092/elib/2373), ODC-BY 1.0."
)


def demo_sources(url: str, form_url: dict[str, str] | None = None) -> str:
    """The demo's sources.toml: the policy and the stand-in's three forms (``form_url`` by
    form id), whose link checks show a working form, an unavailable one and a login wall."""
    forms = "".join(
        f"""
[[document]]
id = "{form.id}"
service = "Facebook"
title = "{form.title}"
kind = "form"
url = "{(form_url or {}).get(form.id, form.path)}"
"""
        for form in FORMS
    )
    return f"""# Written by `policywatch demo`: the local stand-in for Meta.
[crawl]
download_delay = 0.0
timeout = 20.0

[[document]]
id = "{DOC_ID}"
service = "Facebook"
title = "Facebook Privacy Policy"
kind = "policy"
profile = "meta"
url = "{url}"
page_url = "https://www.facebook.com/privacy/policy/"
select = ["#root"]
{forms}"""


def run_demo(
    workdir: Path,
    console: Console,
    limit: int | None = None,
    base_url: str = DEFAULT_BASE_URL,
) -> int:
    """Serve each chosen version, crawl after each step, publish; print what was found.

    Each step is dated at the moment its version was recorded (storage/restamp.py), so the site
    shows the history's own dates; ``base_url`` is where the site will be served from.
    """
    from feeds.publish import publish
    from flows.crawl_now import run_monitor
    from storage.db import open_db
    from storage.restamp import restamp

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
        for form in FORMS:
            site.page(form.path, form.html)
        form_urls = {form.id: site.url(form.path) for form in FORMS}
        sources.write_text(demo_sources(site.url(PATH), form_urls), encoding="utf-8")
        db_url = f"sqlite:///{db_file.resolve()}"
        for n, version in enumerate(versions, 1):
            site.page(PATH, meta_page(version.text))
            step_started = datetime.now(UTC)
            result = run_monitor(
                [], db_url, sources, out, base_url, "demo", show_progress=console.is_terminal
            )
            with open_db(db_url).begin() as session:
                restamp(session, step_started, version.recorded_at)
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
        if results:
            console.print(
                f"links: {result.get('checked', 0)} stand-in form(s) checked each step; "
                f"{result.get('skipped', 0)} opt-out link(s) on Meta's real hosts left "
                "unchecked on purpose (the demo fetches nothing but its stand-in)"
            )
    with open_db(db_url)() as session:  # once more, with the recorded dates
        publish(session, out, base_url, attribution=ATTRIBUTION)
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
    out = Path(os.path.abspath(workdir / "public"))  # the link, not a generation
    console.print(
        f"\nsite:  {out / 'index.html'}\natom:  {out / 'feed.atom'}\n"
        f"rss:   {out / 'feed.rss'}\ndone in {seconds:.0f} s"
    )
