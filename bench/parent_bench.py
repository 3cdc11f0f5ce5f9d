"""CPU of what the publishing process itself renders in a full build: the document,
category, links and index pages, the Atom/RSS feeds and the outputs of feeds/outputs/.

    .venv/bin/python bench/parent_bench.py --db DIR/synthetic.db
    .venv/bin/python bench/parent_bench.py --db DIR/synthetic.db --compare OLD --rounds 3
        # OLD: another checkout (git worktree add --detach OLD <commit>): its code and
        # this one's, alternating, each round in a fresh process; prints new / old

In a full build the workers render the pages of changes and versions on other cores while
the publishing process writes these (feeds/site.py: write_site): each CPU second saved here
is about half a second of a full build's wall time on two cores. Each round reads the site
once (not timed), then times each part with ``time.process_time`` in that order, as a full
build into an empty folder runs them (nothing to reuse; caches cold). The files are not
written: their bytes are hashed (one digest per part, printed), so two codes that print the
same digests wrote the same bytes, and the disk's noise is left out.
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
BASE = "https://example.org/policywatch/"
RESULT = "parent_bench result: "


def one_round(db: Path) -> dict[str, Any]:
    """Read the site of ``db`` and time each part the publishing process renders."""
    from feeds import feed, outputs, render
    from feeds import site as site_mod
    from feeds.outputs import Publication
    from feeds.publish import StoredData

    times: dict[str, float] = {}
    digests: dict[str, str] = {}
    with site_read(db) as (session, data, out):
        stored = StoredData(session)
        render.warm(("document.html", "category.html", "index.html", "links.html"))
        hashed = out.hashed
        pages = site_mod._Pages(out, data, stored)
        specs = feed.feed_specs("policywatch", data.documents, data.categories, "tag:x,2024:pw")

        def feeds() -> None:
            entry = feed.Entries(out, BASE, "tag:x,2024:pw", stored.hunks, stored.prepare)
            listing = feed.listed(specs, data.changes, feed.DEFAULT_LIMIT)
            feed.write_feeds(
                out,
                BASE,
                specs,
                data.changes,
                entry,
                feed.DEFAULT_LIMIT,
                entry.prepare,
                listing=listing,
            )
            times["feeds (Atom, RSS)"] = time.process_time() - started
            publication = Publication(
                out, data, BASE, specs, entry, entry.prepare, feed.DEFAULT_LIMIT, listing=listing
            )
            for write_output in outputs.registered().values():
                write_output(publication)
            entry.keep(specs, data.changes, feed.DEFAULT_LIMIT, listing)
            assert out.entries is not None
            for fp, content in out.entries[1]:
                hashed.current.update(fp.encode() + b"\0" + content + b"\0")

        parts = (
            ("documents", pages.documents),
            ("categories", pages.categories),
            ("links", pages.links),
            ("index", pages.index),
            ("feeds", feeds),
        )
        gc.collect()
        for name, run in parts:
            hashed.part()
            started = time.process_time()
            run()
            times[name] = time.process_time() - started
            digests[name] = hashed.digest()
        if "feeds (Atom, RSS)" in times:
            times["outputs (JSON Feed) + entries kept"] = (
                times["feeds"] - times["feeds (Atom, RSS)"]
            )
        times["total"] = sum(times[name] for name, _ in parts)
    return {"times": times, "digests": digests, "code": str(Path(feed.__file__).parent.parent)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a synthetic.db (not written)")
    parser.add_argument("--compare", type=Path, help="another checkout: its code, then this one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        sys.path.insert(0, str(args.code or ROOT))
        print(RESULT + json.dumps(one_round(args.db.resolve())), flush=True)
        return
    sides = {"old": args.compare.resolve(), "new": ROOT} if args.compare else {"new": ROOT}
    script, more = str(Path(__file__).resolve()), [f"--db={args.db.resolve()}"]
    runs = alternate(sides, args.rounds, lambda code: run_side(script, code, more, RESULT))
    report(runs, "median CPU s (process time)", 36, unit="s")


if __name__ == "__main__":
    main()
