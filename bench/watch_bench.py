"""Benchmark the watch: a link check of every opt-out link, and one browser-mode fetch.

Run: ``python bench/watch_bench.py [--links N] [--runs R]``. Everything is served on
127.0.0.1 by demo.server.FakeMeta, through the real spider subprocess:

- link check: N objection-form pages (Meta-sized: the real recorded Facebook generative-AI
  page, 40 KB, with a form added), checked by ``pipeline.link_checks.check_links`` with no
  download delay; the figure includes the subprocess start. With the shipped politeness
  (``download_delay`` per host) a real check costs about links-per-host x delay more.
- browser mode: the real recorded Facebook privacy policy page (printable, about 290 KB of
  HTML) served as a JavaScript-only page (the policy inserted by a script after load), one
  document with ``render = "browser"``: the crawl's wall time (Chromium start included) and
  the page's own fetch time (request to rendered DOM, from the Fetch row).

Data: demo/data/html (Platform Governance Archive, ODC-BY 1.0, see demo/data/ATTRIBUTION.md).
"""

from __future__ import annotations

import argparse
import json
import lzma
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from config.run import (
    RunConfig,  # noqa: E402
    tracked_documents,  # noqa: E402
)
from demo.server import FakeMeta  # noqa: E402
from pipeline import (
    link_checks,  # noqa: E402
    spider_process,  # noqa: E402
    versions,  # noqa: E402
)
from storage.db import open_db  # noqa: E402
from storage.models import Fetch  # noqa: E402
from tests.conftest import write_sources  # noqa: E402

HTML = Path(__file__).resolve().parent.parent / "demo" / "data" / "html"
FORM = "<form action='/submit'><input type=email name=email><textarea name=why></textarea></form>"


def real_page(name: str) -> str:
    return lzma.decompress((HTML / f"{name}.html.xz").read_bytes()).decode("utf-8")


def js_only(html: str) -> str:
    """The page with its body moved into a script that writes it after load."""
    start, end = html.index("<body"), html.rindex("</body>")
    body = html[html.index(">", start) + 1 : end]
    return (
        html[:start]
        + "<body><script>window.addEventListener('load', function () {"
        + f"document.body.innerHTML = {json.dumps(body)};"
        + "});</script></body></html>"
    )


def bench_links(site: FakeMeta, tmp: Path, n: int, runs: int) -> list[float]:
    form_page = real_page("facebook-genai").replace("</body>", FORM + "</body>")
    docs: list[dict[str, object]] = []
    for i in range(n):
        site.page(f"/help/contact/{i}", form_page)
        docs.append({"id": f"form-{i}", "kind": "form", "url": site.url(f"/help/contact/{i}")})
    sources = write_sources(tmp / "links.toml", docs, timeout=30.0)
    cfg = RunConfig(db_url=f"sqlite:///{tmp / 'links.db'}", sources_path=str(sources))
    times = []
    for _ in range(runs):
        run_id = runs.start(cfg.db_url, cfg.trigger, tracked_documents(cfg))
        t0 = time.perf_counter()
        counts = link_checks.check_links(cfg, run_id)
        times.append(time.perf_counter() - t0)
        assert counts["checked"] == n, counts
    return times


def bench_browser(site: FakeMeta, tmp: Path, runs: int) -> tuple[list[float], list[float], int]:
    html = js_only(real_page("facebook-privacy-policy"))
    site.page("/privacy/policy/printable/", html)
    sources = write_sources(
        tmp / "browser.toml",
        [{"id": "fb", "url": site.url("/privacy/policy/printable/"), "render": "browser"}],
        timeout=60.0,
    )
    cfg = RunConfig(db_url=f"sqlite:///{tmp / 'browser.db'}", sources_path=str(sources))
    crawl_times, page_times = [], []
    for _ in range(runs):
        run_id = runs.start(cfg.db_url, cfg.trigger, tracked_documents(cfg))
        t0 = time.perf_counter()
        spider_process.crawl(cfg, run_id)
        crawl_times.append(time.perf_counter() - t0)
        counts, _ = versions.derive_versions(cfg, run_id)
        assert counts["failures"] == 0, counts
        with open_db(cfg.db_url)() as s:
            fetch = s.scalars(select(Fetch).where(Fetch.run_id == run_id)).one()
            assert fetch.finished_at is not None
            page_times.append((fetch.finished_at - fetch.started_at).total_seconds())
    return crawl_times, page_times, len(html)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, FakeMeta() as site:
        links = bench_links(site, Path(tmp), args.links, args.runs)
        crawl, page, size = bench_browser(site, Path(tmp), args.runs)
    med = statistics.median
    print(f"link check, {args.links} links, median of {args.runs}: {med(links):.2f} s")
    print(f"  ({med(links) / args.links * 1000:.0f} ms per link, subprocess start included;")
    print(f"   add download_delay x links-per-host for the real hosts: 5 s x {args.links} here)")
    print(f"browser mode, 1 page ({size // 1024} KB of HTML), median of {args.runs}:")
    print(f"  crawl {med(crawl):.2f} s (Chromium start included), page fetch {med(page):.2f} s")


if __name__ == "__main__":
    main()
