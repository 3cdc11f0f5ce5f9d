"""Replay every real history in demo/data and say what policywatch made of it.

Run: ``python bench/replay_corpus.py [--db sqlite:///path.db]`` (default: a temporary
SQLite file). Each document is replayed in-process through the same steps a crawl uses
(pipeline.replay -> pipeline.versions.apply_text / pipeline.detect.record_change), then a
table shows per document:
recorded versions, distinct texts, changes stored, alerts raised and by category, versions
that differ from the one before only in link targets and whether any of them alerted, held
partial renders, changes kept without alert (and why), stated dates that moved (and how
many were flagged "dates"), and the known events with the categories they got; then
timings. Data: demo/data (Platform Governance Archive, ODC-BY 1.0, see
demo/data/ATTRIBUTION.md).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from demo.replays import CORPUS, DocumentReport, replay_document  # noqa: E402


def _table(reports: list[DocumentReport]) -> Table:
    table = Table(title="Replay of the real Meta histories (demo/data)", show_lines=True)
    columns = (
        "document",
        "versions",
        "distinct",
        "changes",
        "alerts",
        "alerts by category",
        "link-token-only versions (alerted)",
        "held partial renders",
        "kept quiet",
        "dates moved (flagged)",
        "seconds",
    )
    for name in columns:
        left = name in ("document", "kept quiet")
        table.add_column(name, justify="left" if left else "right", no_wrap=name == "document")
    for r in reports:
        res = r.result
        table.add_row(
            r.document.archive,
            str(res.versions),
            str(res.distinct_texts),
            str(res.changes),
            str(res.alerts),
            "\n".join(f"{k} {v}" for k, v in r.by_category.items()) or "-",
            f"{r.token_only_versions} ({r.token_only_alerts})",
            "\n".join(r.held_partial_renders) or "-",
            "\n".join(f"{k} {v}" for k, v in sorted(r.quiet.items())) or "-",
            f"{r.date_moves} ({r.date_moves_flagged})",
            f"{res.seconds:.1f}",
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="SQLAlchemy URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 180))
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or f"sqlite:///{Path(tmp) / 'replay.db'}"
        started = time.perf_counter()
        reports = [replay_document(db, doc) for doc in CORPUS]
        total = time.perf_counter() - started
    console.print(_table(reports))
    for r in reports:
        for event, ok, categories in r.events:
            mark = "[green]flagged[/]" if ok else "[red]MISSED[/]"
            console.print(
                f"{r.document.archive} {event.day}: {mark} {'+'.join(event.categories)}"
                f" (got: {', '.join(categories) or 'no change'}) - {event.what}"
            )
        for day, held, as_removal in r.partial_render_alerts:
            verdict = "held" if held else "[red]not held[/]"
            removal = "[red]alerted as a removal[/]" if as_removal else "not alerted as a removal"
            console.print(f"{r.document.archive} {day}: partial render {verdict}, {removal}")
        stable = {frozenset(b) for b in r.stated_bases}
        if r.document.spec.locale.startswith("fr"):
            named = sorted(next(iter(stable))) if len(stable) == 1 else stable
            console.print(
                f"{r.document.archive}: legal bases recognised in French on "
                f"{sum(1 for b in r.stated_bases if b)}/{len(r.stated_bases)} versions: {named}"
            )
    versions = sum(r.result.versions for r in reports)
    console.print(
        f"total: {versions} recorded versions replayed in {total:.1f} s"
        f" ({1000 * total / versions:.0f} ms per version, wall clock)"
    )


if __name__ == "__main__":
    main()
