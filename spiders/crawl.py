"""Run one crawl in this process: ``python -m spiders.crawl --db URL --sources FILE [--doc ID]``.

The flow starts this module in a fresh subprocess for every crawl, because Twisted's
reactor cannot be restarted in one process (docs/decisions/0001-scrapy-in-a-subprocess.md).
Each stored fetch is reported as a JSON line on stdout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scrapy.crawler import CrawlerProcess

from spiders.meta_spider import MetaSpider
from spiders.pipelines import StoragePipeline
from spiders.sources import CrawlSettings, SourcesError, load_sources

VERSION = "0.1"


def scrapy_settings(crawl: CrawlSettings, db_url: str, run_id: int | None) -> dict[str, object]:
    """Polite defaults: one request at a time per host, a delay, a timeout, a size cap."""
    return {
        "USER_AGENT": f"policywatch/{VERSION} (+{crawl.contact_url})",
        "ROBOTSTXT_OBEY": False,
        "COOKIES_ENABLED": False,  # always logged out, as a reader without an account
        "CONCURRENT_REQUESTS": 8,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "DOWNLOAD_DELAY_JITTER": 0,
        "DOWNLOAD_TIMEOUT": crawl.timeout,
        "DOWNLOAD_MAXSIZE": crawl.max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": False,  # a failed attempt is recorded; the next run tries again
        "REDIRECT_ENABLED": False,  # the spider follows redirects itself, host by host
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "LOG_INSTALL_ROOT_HANDLER": True,
        "ITEM_PIPELINES": {"spiders.pipelines.StoragePipeline": 100},
        "POLICYWATCH_DB": db_url,
        "POLICYWATCH_RUN": run_id or 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spiders.crawl")
    parser.add_argument("--db", required=True)
    parser.add_argument("--sources", required=True, type=Path)
    parser.add_argument("--run-id", type=int, default=None)
    parser.add_argument("--doc", action="append", default=[])
    args = parser.parse_args(argv)
    try:
        sources = load_sources(args.sources)
        docs = sources.select(args.doc)
    except SourcesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    process = CrawlerProcess(scrapy_settings(sources.crawl, args.db, args.run_id))
    process.crawl(MetaSpider, documents=list(docs), allowed_hosts=sources.hosts())
    process.start()
    if StoragePipeline.failures:
        print(f"error: {StoragePipeline.failures} fetch(es) could not be stored", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
