"""Rounds of two codes alternating, and their medians: what bench/page_bench.py and
bench/parent_bench.py print with ``--compare OLD --rounds N``.

Each round runs each side once, the order alternating (old new, new old, ...), so that
whatever the machine does meanwhile falls on both; each side's ``digests`` are printed
(equal digests, equal bytes), then the median of each timed part, old -> new.
"""

from __future__ import annotations

import gc
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: One run of one side: {"times": {part: value}, "digests": {part: digest}}.
Run = dict[str, Any]


def alternate(
    sides: dict[str, Path], rounds: int, run: Callable[[Path], Run]
) -> dict[str, list[Run]]:
    """``run`` each side's code ``rounds`` times, alternating; prints each run's times."""
    runs: dict[str, list[Run]] = {side: [] for side in sides}
    order = list(sides.items())
    for n in range(rounds):
        for side, code in order if n % 2 == 0 else order[::-1]:
            result = run(code)
            runs[side].append(result)
            cells = ", ".join(f"{k} {v:.3f}" for k, v in result["times"].items())
            print(f"round {n + 1} {side}: {cells}", flush=True)
    return runs


def report(runs: dict[str, list[Run]], title: str, width: int, unit: str = "") -> None:
    """Each side's digests, then each part's median, old -> new with their ratio (and
    their difference in ``unit``, if given)."""
    for side, results in runs.items():
        digests = {json.dumps(r["digests"], sort_keys=True) for r in results}
        print(f"{side} digests: {' | '.join(sorted(digests))}")
    print(title + (", old -> new" if "old" in runs else ""))
    for part in runs["new"][0]["times"]:
        new = statistics.median(r["times"][part] for r in runs["new"])
        if "old" not in runs:
            print(f"  {part:<{width}} {new:6.3f}")
            continue
        old = statistics.median(r["times"][part] for r in runs["old"])
        delta = f", {new - old:+.3f} {unit}" if unit else ""
        print(f"  {part:<{width}} {old:6.3f} -> {new:6.3f} ({new / old:.2f}x{delta})")


def run_side(script: str, code: Path, args: list[str], marker: str) -> Run:
    """``script`` with ``code``'s checkout in a fresh process (``--code``, ``--one`` and
    ``args``); the run it printed after ``marker``."""
    command = [sys.executable, script, f"--code={code}", *args, "--one"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.stderr.write(done.stderr)
        sys.exit(done.returncode)
    line = [ln for ln in done.stdout.splitlines() if ln.startswith(marker)][-1]
    result: Run = json.loads(line[len(marker) :])
    return result


class Hashed:
    """Stands in for ``Output.write``: each file's path and bytes go into a digest (the
    current part's, :meth:`part`) instead of a file; the file is recorded as written."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.current = hashlib.sha256()
        out.write = self.write

    def part(self) -> None:
        self.current = hashlib.sha256()

    def digest(self) -> str:
        return self.current.hexdigest()[:16]

    def write(self, rel: str, raw: str | bytes, key: str) -> None:
        data = raw.encode("utf-8") if isinstance(raw, str) else raw
        self.current.update(rel.encode() + b"\0" + data + b"\0")
        self.out.files[rel] = [key, len(data)]
        self.out.written += 1


@contextmanager
def site_read(db: Path) -> Iterator[tuple[Any, Any, Any]]:
    """The site of ``db`` read as a publish reads it (the collector paused, the views
    frozen); yields the session, the site and an Output in a temporary folder whose
    writes are :class:`Hashed` (``.hashed``). Import feeds/ after choosing the code."""
    from feeds import feed
    from feeds.incremental import Output
    from feeds.publish import collector_paused, load_site
    from storage.db import open_db

    with open_db(f"sqlite:///{db}")() as session, tempfile.TemporaryDirectory() as tmp:
        with collector_paused():
            data = load_site(session, "policywatch", feed.DEFAULT_LIMIT, None)
            gc.freeze()
        out = Output(Path(tmp) / "gen", None, "bench")
        out.hashed = Hashed(out)
        yield session, data, out
