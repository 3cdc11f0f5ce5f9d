"""Benchmark the unchanged-page fast path: CPU of deriving one re-fetch of an unchanged page.

    .venv/bin/python bench/unchanged_bench.py [--runs 15]

The real Facebook privacy policy page (demo/data/html, ODC-BY 1.0) with every absolute
link's ``h=`` token drawn anew per fetch, as Meta's link shim does, is stored as a fetch
(not timed: that is the spider's work), then derived (timed: CPU of ``derive_versions`` in
this process, database work included) in two SQLite databases, interleaved:

- before: the fast path turned off (``check_region`` answers nothing), so every fetch is
  decoded, extracted and found unchanged by its text, as before decision 0014;
- after: the fast path (changes/region.py, pipeline/unchanged.py).

Also the fingerprint alone against extraction alone. Target: <= 10 ms CPU per unchanged
page beyond the fetch.
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
    def __init__(self, folder: Path) -> None:
        folder.mkdir()
        self.sources = folder / "sources.toml"
        self.sources.write_text(
            f'[[document]]\nid = "fb"\nservice = "Facebook"\ntitle = "Policy"\n'
            f'kind = "policy"\nurl = "{URL}"\nselect = ["#root"]\n',
            encoding="utf-8",
        )
        self.cfg = RunConfig(f"sqlite:///{folder / 'pw.db'}", str(self.sources))
        spec = DocumentSpec(
            "fb", "Facebook", "Policy", "policy", URL, None, "en_US", "http", ("#root",), ()
        )
        with open_db(self.cfg.db_url).begin() as session:
            sync_documents(session, [spec])

    def fetched(self, body: bytes) -> None:
        now = datetime.now(UTC)
        headers = {"content-type": "text/html; charset=utf-8"}
        record = FetchRecord("fb", URL, URL, now, now, 200, headers, body, None)
        with open_db(self.cfg.db_url).begin() as session:
            record_fetch(session, None, record)

    def derive(self) -> dict[str, int]:
        return derive.derive_versions(self.cfg, None)


def cpu_ms(fn: Callable[[], object]) -> float:
    started = time.process_time()
    fn()
    return (time.process_time() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    html = load_html("facebook-privacy-policy")
    page = rotating(html)
    real_check = unchanged.check_region
    before: list[float] = []
    after: list[float] = []
    with tempfile.TemporaryDirectory(prefix="pw-unchanged-") as tmp:
        dbs = {"before": Database(Path(tmp) / "before"), "after": Database(Path(tmp) / "after")}
        for db in dbs.values():  # the first visit: a new version (not timed)
            db.fetched(page())
            assert db.derive()["new"] == 1
        for _ in range(args.runs):
            for name, db in dbs.items():
                derive.check_region = real_check if name == "after" else (lambda *a: None)
                db.fetched(page())
                counts: dict[str, int] = {}
                ms = cpu_ms(lambda db=db, c=counts: c.update(db.derive()))
                assert counts["same"] == 1 and counts["changes"] == 0, counts
                (after if name == "after" else before).append(ms)
        derive.check_region = real_check
    b, a = statistics.median(before), statistics.median(after)
    body = page()
    text = decode_page(body, "text/html; charset=utf-8").text
    extract_ms = statistics.median(
        cpu_ms(lambda: extract(text, URL, ["#root"])) for _ in range(args.runs)
    )
    region_ms = statistics.median(
        cpu_ms(lambda: region_hash(text, URL, ["#root"])) for _ in range(args.runs)
    )
    print(
        f"derive one unchanged re-fetch ({len(body) // 1024} KB page, rotating tokens), "
        f"CPU ms, median of {args.runs} interleaved runs"
    )
    print(f"  before (extracted, compared by text): {b:7.1f} ms")
    print(f"  after  (region fingerprint):          {a:7.1f} ms   {b / a:5.1f}x faster")
    print(f"  of which: extraction alone {extract_ms:.1f} ms, fingerprint alone {region_ms:.1f} ms")
    verdict = "met" if a <= TARGET_MS else "not met"
    print(
        f"  target <= {TARGET_MS:.0f} ms beyond the fetch: {a / TARGET_MS:.2f}x of it ({verdict})"
    )


if __name__ == "__main__":
    main()
