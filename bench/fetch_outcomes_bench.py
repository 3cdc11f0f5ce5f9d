"""Benchmark what a publish reads of the fetches: every fetch (as before) or the failures
and the fetch after each (``storage/repo.py: fetch_outcomes``), as the fetch table grows.

    .venv/bin/python bench/fetch_outcomes_bench.py                 # 100 documents x 3,000 runs
    .venv/bin/python bench/fetch_outcomes_bench.py --documents 20 --runs 500

Builds a temporary SQLite database (migrated, so with the index of each document's
fetches in time order) holding one fetch per document per run, 0.2% of them starting a
run of 1-20 failures; times reading every fetch and folding it into runs of failures
(``feeds/timeline.py``), then the same through ``fetch_outcomes``, in the same command,
and checks both give the same runs and the same documents failing now.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from feeds import timeline  # noqa: E402
from storage.db import open_db  # noqa: E402
from storage.models import Document, Fetch  # noqa: E402
from storage.repo import fetch_outcomes  # noqa: E402


def build(url: str, documents: int, runs: int) -> None:
    sessions = open_db(url)
    rng = random.Random(14)
    with sessions.begin() as session:
        for d in range(documents):
            session.add(
                Document(
                    id=f"doc-{d:03d}",
                    service="s",
                    title=f"Document {d}",
                    kind="policy",
                    url=f"https://example.org/{d}",
                    locale="en_US",
                    render="http",
                )
            )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    failing: dict[int, int] = {}
    rows: list[dict[str, object]] = []
    with sessions.begin() as session:
        for run in range(runs):
            for d in range(documents):
                if failing.get(d, 0) > 0:
                    failing[d] -= 1
                    error: str | None = "http-error"
                elif rng.random() < 0.002:
                    failing[d] = rng.randrange(1, 20)
                    error = "timeout"
                else:
                    error = None
                rows.append(
                    {
                        "document_id": f"doc-{d:03d}",
                        "url": "u",
                        "headers": {},
                        "started_at": start + timedelta(hours=run, seconds=d),
                        "error": error,
                        "http_status": 500 if error else 200,
                        "error_detail": "failed" if error else None,
                    }
                )
            if len(rows) >= 20_000:
                session.execute(insert(Fetch), rows)
                rows = []
        if rows:
            session.execute(insert(Fetch), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3000, help="fetches per document")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="policywatch-fetches-") as work:
        url = f"sqlite:///{Path(work) / 'fetches.db'}"
        started = time.perf_counter()
        build(url, args.documents, args.runs)
        total = args.documents * args.runs
        print(f"{total} fetches built in {time.perf_counter() - started:.1f} s", flush=True)
        sessions = open_db(url)
        with sessions() as session:
            every = select(
                Fetch.document_id,
                Fetch.started_at,
                Fetch.error,
                Fetch.http_status,
                Fetch.error_detail,
            ).order_by(Fetch.document_id, Fetch.started_at, Fetch.id)
            timings = {}
            for name, read in (
                ("every fetch (before)", lambda: session.execute(every).all()),
                ("fetch_outcomes (now)", lambda: fetch_outcomes(session)),
            ):
                best = float("inf")
                for _ in range(3):
                    started = time.perf_counter()
                    rows = read()
                    folded = (timeline.failure_runs(rows), timeline.failing_now(rows))
                    best = min(best, time.perf_counter() - started)
                timings[name] = (best, len(rows), folded)
                print(f"  {name:<22} {best:7.3f} s  ({len(rows)} rows read)", flush=True)
        (old, _, before), (new, _, now) = timings.values()
        assert before == now, "the runs of failures differ"
        print(f"  same runs of failures and documents failing now; now / before: {new / old:.3f}")


if __name__ == "__main__":
    main()
