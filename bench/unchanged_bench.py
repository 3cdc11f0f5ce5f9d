"""Benchmark the unchanged-page fast path: CPU of deriving one re-fetch of an unchanged page.

    .venv/bin/python bench/unchanged_bench.py [--runs 15]

The real Facebook privacy policy page (demo/data/html, ODC-BY 1.0) with every absolute
link's ``h=`` token drawn anew per fetch, as Meta's link shim does, is stored as a fetch
(not timed: that is the spider's work), then derived (timed: CPU of ``derive_versions`` in
this process, database work included) in two SQLite databases, interleaved:

- before: the fast path turned off (``check_region`` answers nothing), so every fetch is
  decoded, extracted and found unchanged by its text, as before decision 0014;
- after: the fast path (changes/region.py, pipeline/unchanged.py).

Two sizes of run: one document (the run's own costs, reading sources.toml and finding the
pending documents, all charged to its one page) and ``--pages`` documents (default 10),
each re-fetched once, where those costs are shared as in a real run; CPU per page is the
run's CPU divided by its pages. Also the fingerprint alone against extraction alone.
Target: <= 10 ms CPU per unchanged page beyond the fetch (in a run of many pages).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from changes.decode import decode_page  # noqa: E402
from changes.extract import extract  # noqa: E402
from changes.region import region_hash  # noqa: E402
from config.documents import DocumentSpec  # noqa: E402
from config.run import RunConfig  # noqa: E402
from demo.corpus import load_html  # noqa: E402
from pipeline import derive, unchanged  # noqa: E402
from storage.db import open_db  # noqa: E402
from storage.repo import FetchRecord, record_fetch, sync_documents  # noqa: E402

URL = "https://www.facebook.com/privacy/policy/"
TARGET_MS = 10.0
_HREF = re.compile(r'href="(https?://[^"#]*)')


def rotating(html: str) -> Callable[[], bytes]:
    """The page with a fresh ``h=`` token in every absolute link, per call."""
    parts = _HREF.split(html)

    def page() -> bytes:
        rng = random.Random()
        out = [parts[0]]
        for i in range(1, len(parts), 2):
            joiner = "&amp;" if "?" in parts[i] else "?"
            out.append(f'href="{parts[i]}{joiner}h=AT{rng.getrandbits(64):016x}')
            out.append(parts[i + 1])
        return "".join(out).encode("utf-8")

    return page


class Database:
    """A database watching ``pages`` documents, each the Facebook policy page."""

    def __init__(self, folder: Path, pages: int = 1) -> None:
        folder.mkdir()
        self.ids = [f"fb{i}" for i in range(pages)]
        self.sources = folder / "sources.toml"
        self.sources.write_text(
            "".join(
                f'[[document]]\nid = "{doc_id}"\nservice = "Facebook"\ntitle = "Policy"\n'
                f'kind = "policy"\nurl = "{URL}"\nselect = ["#root"]\n\n'
                for doc_id in self.ids
            ),
            encoding="utf-8",
        )
        self.cfg = RunConfig(f"sqlite:///{folder / 'pw.db'}", str(self.sources))
        specs = [
            DocumentSpec(
                doc_id, "Facebook", "Policy", "policy", URL, None, "en_US", "http", ("#root",), ()
            )
            for doc_id in self.ids
        ]
        with open_db(self.cfg.db_url).begin() as session:
            sync_documents(session, specs)

    def fetched(self, page: Callable[[], bytes]) -> None:
        """One new fetch of every document, each with its own tokens."""
        now = datetime.now(UTC)
        headers = {"content-type": "text/html; charset=utf-8"}
        with open_db(self.cfg.db_url).begin() as session:
            for doc_id in self.ids:
                record = FetchRecord(doc_id, URL, URL, now, now, 200, headers, page(), None)
                record_fetch(session, None, record)

    def derive(self) -> dict[str, int]:
        return derive.derive_versions(self.cfg, None)


def cpu_ms(fn: Callable[[], object]) -> float:
    started = time.process_time()
    fn()
    return (time.process_time() - started) * 1000


def per_page_ms(page: Callable[[], bytes], pages: int, runs: int) -> tuple[float, float]:
    """Median CPU ms per page of a run deriving one re-fetch of each of ``pages`` documents,
    with the fast path off (before) and on (after), interleaved."""
    real_check = unchanged.check_region
    before: list[float] = []
    after: list[float] = []
    with tempfile.TemporaryDirectory(prefix="pw-unchanged-") as tmp:
        dbs = {
            "before": Database(Path(tmp) / "before", pages),
            "after": Database(Path(tmp) / "after", pages),
        }
        for db in dbs.values():  # the first visit: a new version each (not timed)
            db.fetched(page)
            assert db.derive()["new"] == pages
        try:
            for _ in range(runs):
                for name, db in dbs.items():
                    derive.check_region = real_check if name == "after" else (lambda *a: None)
                    db.fetched(page)
                    counts: dict[str, int] = {}
                    ms = cpu_ms(lambda db=db, c=counts: c.update(db.derive()))
                    assert counts["same"] == pages and counts["changes"] == 0, counts
                    (after if name == "after" else before).append(ms / pages)
        finally:
            derive.check_region = real_check
    return statistics.median(before), statistics.median(after)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--pages", type=int, default=10, help="documents in the larger run")
    args = parser.parse_args()
    if args.runs < 1 or args.pages < 2:
        parser.error("--runs must be at least 1 and --pages at least 2")
    html = load_html("facebook-privacy-policy")
    page = rotating(html)
    b1, a1 = per_page_ms(page, 1, args.runs)
    bn, an = per_page_ms(page, args.pages, args.runs)
    body = page()
    text = decode_page(body, "text/html; charset=utf-8").text
    extract_ms = statistics.median(
        cpu_ms(lambda: extract(text, URL, ["#root"])) for _ in range(args.runs)
    )
    region_ms = statistics.median(
        cpu_ms(lambda: region_hash(text, URL, ["#root"])) for _ in range(args.runs)
    )
    print(
        f"derive unchanged re-fetches ({len(body) // 1024} KB page, rotating tokens), "
        f"CPU ms per page, median of {args.runs} interleaved runs"
    )
    print(f"  {'':44} {'1 page':>9} {f'{args.pages} pages':>9}")
    print(f"  {'before (extracted, compared by text):':44} {b1:9.1f} {bn:9.1f}")
    print(f"  {'after  (region fingerprint):':44} {a1:9.1f} {an:9.1f}")
    print(f"  {'faster by':44} {b1 / a1:8.1f}x {bn / an:8.1f}x")
    print(f"  of which: extraction alone {extract_ms:.1f} ms, fingerprint alone {region_ms:.1f} ms")
    verdict = "met" if an <= TARGET_MS else "not met"
    print(
        f"  target <= {TARGET_MS:.0f} ms per page beyond the fetch, in a run of {args.pages}: "
        f"{an / TARGET_MS:.2f}x of it ({verdict}); a run of one page pays the run's own "
        f"costs too ({a1:.1f} ms)"
    )


if __name__ == "__main__":
    main()
