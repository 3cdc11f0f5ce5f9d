"""Replay every history that has a gold file and say how true and how useful the changes are.

Run: ``python bench/eval_meaning.py [--jobs N] [--details] [--category C] [DOCUMENT ...]``.
Prints, per document and in total: precision and recall per category (legal-basis, opt-out,
dates, ai), legal-basis claims published and how many the gold file or the texts contradict, claims
found of those labelled, alerts on noise, missed alerts and the share of vague titles.
``--details`` lists every false claim, noise alert, missed alert and vague title;
``--category opt-out`` (repeatable) every day that category is missed or wrongly found.
Gold: eval/gold/*.toml; histories: demo/data and eval/corpus (Platform Governance Archive,
ODC-BY 1.0, see demo/data/ATTRIBUTION.md).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from eval.meaning import (  # noqa: E402
    CATEGORIES,
    DocumentScore,
    Score,
    evaluate,
    gold_documents,
    total,
)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _row(name: str, s: Score) -> list[str]:
    cells = [name, str(s.changes), str(s.alerts)]
    for c in CATEGORIES:
        k = s.categories[c]
        cells.append(f"{_pct(k.precision)} / {_pct(k.recall)}")
    cells += [
        f"{len(s.false_claims)}/{s.claims}",
        f"{s.found_claims}/{s.gold_claims}",
        f"{len(s.noise_alerts)} ({_pct(s.noise_share)})",
        str(len(s.missed_alerts)),
        f"{len(s.vague_titles)} ({_pct(s.vague_share)})",
        str(len(s.unlabelled_days)),
    ]
    return cells


def table(scores: list[DocumentScore]) -> Table:
    t = Table(title="What policywatch says, against the gold labels (P / R per category)")
    heads = ["document", "changes", "alerts", *CATEGORIES]
    heads += [
        "false claims",
        "claims found",
        "noise alerts",
        "missed",
        "vague titles",
        "unlabelled",
    ]
    for h in heads:
        t.add_column(h, justify="left" if h == "document" else "right", no_wrap=h == "document")
    for s in scores:
        t.add_row(*_row(s.document, s.score))
    t.add_row(*_row("TOTAL", total(scores)), style="bold")
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("documents", nargs="*", help="archive stems (default: all with gold)")
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--details", action="store_true", help="list every failure")
    parser.add_argument(
        "--category",
        choices=CATEGORIES,
        action="append",
        default=[],
        help="list that category's misses and false hits (repeatable)",
    )
    args = parser.parse_args()
    known = gold_documents()
    unknown = [d for d in args.documents if d not in known]
    if unknown:
        print(f"error: no gold file for {', '.join(unknown)} (have: {', '.join(known)})")
        sys.exit(2)
    started = time.perf_counter()
    scores = evaluate(args.documents or known, args.jobs)
    console = Console(width=max(Console().width, 200))
    console.print(table(scores))
    if args.details:
        t = total(scores)
        for heading, items in (
            ("false claims", t.false_claims),
            ("noise alerts", t.noise_alerts),
            ("missed alerts", t.missed_alerts),
            ("vague titles", t.vague_titles),
            ("unlabelled days", t.unlabelled_days),
        ):
            console.print(f"[bold]{heading}[/] ({len(items)})")
            for item in items:
                console.print(f"  {item}", markup=False, highlight=False)
    for name in args.category:
        counts = total(scores).categories[name]
        for heading, items in (("missed", counts.misses), ("found wrongly", counts.false_hits)):
            console.print(f"[bold]{name} {heading}[/] ({len(items)})")
            for item in items:
                console.print(f"  {item}", markup=False, highlight=False)
    console.print(f"{len(scores)} histories in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
