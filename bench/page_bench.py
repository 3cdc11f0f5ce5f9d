"""CPU of what the workers of a full build render: pages of changes and of versions.

    .venv/bin/python bench/page_bench.py --db DIR/synthetic.db
    .venv/bin/python bench/page_bench.py --db DIR/synthetic.db --compare OLD --rounds 3
        # OLD: another checkout (git worktree add --detach OLD <commit>): its code and
        # this one's, alternating, each round in a fresh process; prints new / old

A full build hands the pages of changes and versions to forked workers (feeds/site.py:
_Pages.rendering), 250 a chunk: each chunk reads its blobs, renders its pages and writes
them. Each round here reads the site once (not timed), then renders the first ``--pages``
pages of each kind chunk by chunk as a worker does (its diffs and texts read from the
database and the blob folder, the collector as the worker has it), timing
``time.process_time``. The pages are not written: their bytes are hashed (one digest per
kind, printed), so two codes that print the same digests rendered the same bytes, and
the disk's noise (file creation, see bench/site_bench.py) is left out.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

from alternate import alternate, report, run_side, site_read

ROOT = Path(__file__).resolve().parent.parent
RESULT = "page_bench result: "


def one_round(db: Path, count: int) -> dict[str, Any]:
    """Read the site of ``db``, render ``count`` pages of each kind; CPU ms a page."""
    from feeds import render
    from feeds import site as site_mod
    from feeds.publish import StoredData

    times: dict[str, float] = {}
    digests: dict[str, str] = {}
    with site_read(db) as (session, data, out):
        hashed = out.hashed
        pages = site_mod._Pages(out, data, StoredData(session))
        pages.changes()
        pages.versions()
        render.warm(("change.html", "version.html"))
        # the workers of this code run without the cyclic collector (feeds/parallel.py)
        worker_gc = getattr(site_mod.feeds_parallel, "_start_worker", None) is not None
        for kind in ("change", "version"):
            jobs = [job for job in pages.todo if job[0] == kind][:count]
            hashed.part()
            if worker_gc:
                gc.disable()
            started = time.process_time()
            for chunk in site_mod.feeds_parallel.chunked(jobs):
                pages._render_chunk(chunk)
            times[f"{kind} page (ms)"] = (time.process_time() - started) / len(jobs) * 1000
            gc.enable()
            digests[kind] = hashed.digest()
    return {"times": times, "digests": digests}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a synthetic.db (not written)")
    parser.add_argument("--compare", type=Path, help="another checkout: its code, then this one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pages", type=int, default=3000, help="pages of each kind a round")
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pages < 1 or args.rounds < 1:
        parser.error("--pages and --rounds must be at least 1")
    if args.one:
        sys.path.insert(0, str(args.code or ROOT))
        print(RESULT + json.dumps(one_round(args.db.resolve(), args.pages)), flush=True)
        return
    sides = {"old": args.compare.resolve(), "new": ROOT} if args.compare else {"new": ROOT}
    script, more = (
        str(Path(__file__).resolve()),
        [f"--db={args.db.resolve()}", f"--pages={args.pages}"],
    )
    runs = alternate(sides, args.rounds, lambda code: run_side(script, code, more, RESULT))
    report(runs, "median CPU per page (process time)", 18)


if __name__ == "__main__":
    main()
