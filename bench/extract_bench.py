"""Benchmark HTML -> normalised text: the lxml extractor against the BeautifulSoup +
markdownify one it replaced (tests/reference_extract.py), on the real pages in demo/data/html.

    .venv/bin/python bench/extract_bench.py [--runs 15]

Both run in this process, interleaved, on the same pages; CPU time per extraction, median
of the runs; the texts are checked equal. Target: <= 25 ms for the 260-290 KB Facebook page.
Needs the test extra (the reference uses beautifulsoup4 and markdownify).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from changes import extract as fast  # noqa: E402
from demo.corpus import load_html  # noqa: E402
from tests import reference_extract as reference  # noqa: E402

BASE = "https://www.facebook.com/privacy/policy/"
PAGES = [
    ("facebook-privacy-policy", ["#root"]),
    ("whatsapp-privacy-policy", ["#content-wrapper"]),
    ("facebook-genai", ["#root"]),
]
TARGET_MS = 25.0


def cpu_ms(fn: Callable[[], object]) -> float:
    started = time.process_time()
    fn()
    return (time.process_time() - started) * 1000


def _fields(e: object) -> tuple[object, ...]:
    return tuple(getattr(e, f) for f in ("text", "title", "links", "selector_matched"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"HTML -> normalised text, CPU ms per page, median of {args.runs} interleaved runs")
    print(f"{'page':<26} {'KB':>5} {'before (bs4)':>13} {'after (lxml)':>13} {'ratio':>7}  same")
    for name, select in PAGES:
        html = load_html(name)
        old = reference.extract(html, BASE, select)  # also warms the caches of both
        new = fast.extract(html, BASE, select)
        before: list[float] = []
        after: list[float] = []
        for _ in range(args.runs):
            before.append(cpu_ms(lambda h=html, s=select: reference.extract(h, BASE, s)))
            after.append(cpu_ms(lambda h=html, s=select: fast.extract(h, BASE, s)))
        b, a = statistics.median(before), statistics.median(after)
        print(
            f"{name:<26} {len(html.encode()) / 1024:5.0f} {b:11.1f}ms {a:11.1f}ms "
            f"{b / a:6.1f}x  {'yes' if _fields(old) == _fields(new) else 'NO'}"
        )
        if name == "facebook-privacy-policy":
            verdict = "met" if a <= TARGET_MS else "not met"
            print(f"  target <= {TARGET_MS:.0f} ms: {a / TARGET_MS:.2f}x of it ({verdict})")


if __name__ == "__main__":
    main()
