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
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULT = "page_bench result: "


def one_round(db: Path, count: int) -> dict[str, Any]:
    """Read the site of ``db``, render ``count`` pages of each kind; CPU ms a page."""
    from feeds import feed, render
    from feeds import site as site_mod
    from feeds.incremental import Output
    from feeds.publish import StoredData, collector_paused, load_site
    from storage.db import open_db

    sessions = open_db(f"sqlite:///{db}")
    times: dict[str, float] = {}
    digests: dict[str, str] = {}
    with sessions() as session, tempfile.TemporaryDirectory(prefix="page-bench-") as tmp:
        with collector_paused():
            data = load_site(session, "policywatch", feed.DEFAULT_LIMIT, None)
            gc.freeze()
        out = Output(Path(tmp) / "gen", None, "bench")
        current = hashlib.sha256()

        def write(rel: str, raw: str | bytes, key: str) -> None:
            data_ = raw.encode("utf-8") if isinstance(raw, str) else raw
            current.update(rel.encode() + b"\0" + data_ + b"\0")
            out.files[rel] = [key, len(data_)]

        out.write = write  # type: ignore[method-assign]
        pages = site_mod._Pages(out, data, StoredData(session))
        pages.changes()
        pages.versions()
        render.warm(("change.html", "version.html"))
        # the workers of this code run without the cyclic collector (feeds/parallel.py)
        worker_gc = getattr(site_mod.feeds_parallel, "_start_worker", None) is not None
        for kind in ("change", "version"):
            jobs = [job for job in pages.todo if job[0] == kind][:count]
            current = hashlib.sha256()
            if worker_gc:
                gc.disable()
            started = time.process_time()
            for chunk in site_mod.feeds_parallel.chunked(jobs):
                pages._render_chunk(chunk)
            times[f"{kind} page (ms)"] = (time.process_time() - started) / len(jobs) * 1000
            gc.enable()
            digests[kind] = current.hexdigest()[:16]
    return {"times": times, "digests": digests}


def run_side(code: Path, db: Path, count: int) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), f"--code={code}", f"--db={db}"]
    command += [f"--pages={count}", "--one"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.stderr.write(done.stderr)
        sys.exit(done.returncode)
    line = [ln for ln in done.stdout.splitlines() if ln.startswith(RESULT)][-1]
    result: dict[str, Any] = json.loads(line[len(RESULT) :])
    return result


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
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    for n in range(args.rounds):
        order = list(sides.items())
        for side, code in order if n % 2 == 0 else order[::-1]:  # both meet the same noise
            result = run_side(code, args.db.resolve(), args.pages)
            runs[side].append(result)
            cells = ", ".join(f"{k} {v:.3f}" for k, v in result["times"].items())
            print(f"round {n + 1} {side}: {cells}", flush=True)
    for side, results in runs.items():
        digests = {json.dumps(r["digests"], sort_keys=True) for r in results}
        print(f"{side} digests: {' | '.join(sorted(digests))}")
    print("median CPU per page (process time)" + (", old -> new" if args.compare else ""))
    for part in runs["new"][0]["times"]:
        new = statistics.median(r["times"][part] for r in runs["new"])
        if "old" in runs:
            old = statistics.median(r["times"][part] for r in runs["old"])
            print(f"  {part:<18} {old:6.3f} -> {new:6.3f} ({new / old:.2f}x)")
        else:
            print(f"  {part:<18} {new:6.3f}")


if __name__ == "__main__":
    main()
