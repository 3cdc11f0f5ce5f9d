"""Run one crawl in this process: ``python -m spiders.crawl --db URL --sources FILE [--doc ID]``.

The flow starts this module in a fresh subprocess for every crawl, because Twisted's
reactor cannot be restarted in one process (docs/decisions/0001-scrapy-in-a-subprocess.md).
Each stored item is reported as a JSON line on stdout. With ``--links FILE`` (a JSON list of
link targets) it checks those links instead of fetching documents.

``python -m spiders.crawl --wait`` starts ahead of time (pipeline/spider_process.py): it
imports what a crawl needs, then waits for its arguments, one JSON list on a line of stdin
(an empty line or the end of stdin: it exits doing nothing).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scrapy.crawler import CrawlerProcess

from config.documents import DocumentSpec
from config.sources import CrawlSettings, Sources, SourcesError, load_sources
from spiders import politeness
from spiders.items import LinkTarget
from spiders.meta_spider import MetaSpider
from spiders.pipelines import NOT_STORED
from storage.db import make_engine, make_sessionmaker
from storage.repo import posts_to_follow
from storage.revalidation import Validators, last_validators

VERSION = "0.1"

#: Scrapy extensions this crawl turns off by their settings too (TELNETCONSOLE_ENABLED,
#: REMOTE_CONTROL_ENABLED), left out of its EXTENSIONS_BASE: Scrapy imports every class its
#: component settings name, a disabled one too (aiohttp for the remote control: about 9 MB
#: of the spider's memory, decision 0018).
EXTENSIONS_OFF = (
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.telnet.TelnetConsole",
)

#: Downloader middlewares this crawl turns off by their settings too (COOKIES_ENABLED,
#: ROBOTSTXT_OBEY), left out of its DOWNLOADER_MIDDLEWARES_BASE for the same reason: the
#: cookies middleware imports tldextract, requests and urllib3 (about 3 MB).
MIDDLEWARES_OFF = (
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware",
)


def _extensions_base() -> dict[str, int]:
    from scrapy.settings import default_settings

    base: dict[str, int] = default_settings.EXTENSIONS_BASE
    return {path: order for path, order in base.items() if path not in EXTENSIONS_OFF}


def _middlewares_base() -> dict[str, int]:
    from scrapy.settings import default_settings

    base: dict[str, int] = default_settings.DOWNLOADER_MIDDLEWARES_BASE
    return {path: order for path, order in base.items() if path not in MIDDLEWARES_OFF}


def scrapy_settings(crawl: CrawlSettings, db_url: str, run_id: int | None) -> dict[str, object]:
    """Polite defaults: one request at a time per host, a delay, a timeout, a size cap
    (``max_bytes``, also after decompression: a gzip bomb is ``too-large``)."""
    if crawl.max_bytes <= 0:  # Scrapy reads 0 as "no limit"
        raise ValueError("max_bytes must be a positive number of bytes")
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
        # Scrapy 2.19's local HTTP server that runs the Python code sent to it (guarded by a
        # token written to the user's profile folder): nothing here uses it
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "LOG_INSTALL_ROOT_HANDLER": True,
        "ITEM_PIPELINES": {"spiders.pipelines.StoragePipeline": 100},
        # Retry-After waits, then the delay per host across processes and machines (a lease
        # in the database)
        "DOWNLOADER_MIDDLEWARES": {
            "spiders.retry_after.WaitBeforeMiddleware": 50,
            "spiders.politeness.HostLeaseMiddleware": politeness.ORDER,
        },
        "EXTENSIONS_BASE": _extensions_base(),
        "DOWNLOADER_MIDDLEWARES_BASE": _middlewares_base(),
        "POLICYWATCH_DB": db_url,
        "POLICYWATCH_RUN": run_id or 0,
    }


def followed_posts(
    sources: Sources, docs: tuple[DocumentSpec, ...], db_url: str
) -> list[DocumentSpec]:
    """Posts of the selected feeds still within ``follow_posts_days`` of being found."""
    feeds = [d.id for d in docs if d.id in sources.feeds]
    if not feeds:
        return []
    since = datetime.now(UTC) - timedelta(days=sources.crawl.follow_posts_days)
    with make_sessionmaker(make_engine(db_url))() as session:
        return posts_to_follow(session, feeds, since)


def validators(documents: list[DocumentSpec], db_url: str) -> dict[str, Validators]:
    """What each document's conditional request sends (not in browser mode)."""
    plain = [(d.id, d.url) for d in documents if d.render != "browser"]
    if not plain:
        return {}
    with make_sessionmaker(make_engine(db_url))() as session:
        return last_validators(session, plain)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m spiders.crawl")
    parser.add_argument("--db", required=True)
    parser.add_argument("--sources", required=True, type=Path)
    parser.add_argument("--run-id", type=int, default=None)
    parser.add_argument("--doc", action="append", default=[])
    parser.add_argument("--links", type=Path, help="check these links (JSON) instead")
    args = parser.parse_args(argv)
    try:
        sources = load_sources(args.sources)
        docs = sources.select(args.doc)
    except SourcesError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    links: list[LinkTarget] = []
    documents: list[DocumentSpec] = []
    if args.links:
        for row in json.loads(args.links.read_text(encoding="utf-8")):
            links.append(LinkTarget(**{**row, "select": tuple(row.get("select", ()))}))
    else:
        documents = [*docs, *followed_posts(sources, docs, args.db)]
    settings = scrapy_settings(sources.crawl, args.db, args.run_id)
    if any(t.render == "browser" for t in [*documents, *links]):
        from spiders import browser

        settings.update(browser.settings(sources.hosts(), sources.crawl.timeout))
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(MetaSpider)
    process.crawl(
        crawler,
        documents=documents,
        allowed_hosts=sources.hosts(),
        links=links,
        feeds={} if args.links else sources.feeds,
        timeout=sources.crawl.timeout,
        validators=validators(documents, args.db),
    )
    process.start()
    lost = crawler.stats.get_value(NOT_STORED, 0) if crawler.stats else 0
    if lost:
        print(f"error: {lost} item(s) could not be stored", file=sys.stderr)
        return 1
    return 0


#: Settings naming classes that only a feature this crawl leaves off loads: feed exports
#: (no FEEDS), the HTTP cache (HTTPCACHE_ENABLED), robots.txt (ROBOTSTXT_OBEY), `scrapy
#: check`'s contracts (unittest). Prewarming them imported what the crawl itself never does
#: (pydantic, through itemadapter: about 7 MB of the spider's memory, decision 0018).
NOT_PREWARMED = frozenset(
    {
        "FEED_EXPORTERS_BASE",
        "FEED_STORAGES_BASE",
        "HTTPCACHE_POLICY",
        "HTTPCACHE_STORAGE",
        "ROBOTSTXT_PARSER",
        "SPIDER_CONTRACTS_BASE",
    }
)


def components() -> set[str]:
    """The classes Scrapy's settings name for a crawl with this module's settings (each a
    dotted path; a disabled component's too, as Scrapy imports it)."""
    from scrapy.settings import default_settings

    ours = scrapy_settings(CrawlSettings(), "sqlite://", None)
    paths: set[str] = set()
    for name in dir(default_settings):
        if name in NOT_PREWARMED:
            continue
        value = ours.get(name, getattr(default_settings, name))
        if name.endswith("_BASE") and isinstance(value, dict):  # classes, by key or by value
            paths.update(x for x in (*value, *value.values()) if isinstance(x, str))
        elif isinstance(value, str) and value.startswith("scrapy.") and value[-1:].isalnum():
            paths.add(value)
    for key in ("ITEM_PIPELINES", "DOWNLOADER_MIDDLEWARES"):
        paths.update(ours[key])  # type: ignore[call-overload]
    return {
        path
        for path in paths
        if "." in path and not path.rsplit(".", 1)[1][:1].islower()  # not a module or value
    }


def import_components() -> None:
    """Import every class Scrapy loads for a crawl (:func:`components`): a crawl's start
    imports each of them, even a disabled one (its settings are keyed by the class), about
    0.5-1 s of CPU (the HTTP handler's deprecation shims walking the stack...). Done by the
    ``--wait`` mode before its arguments come, while the caller prepares the run, so that
    a prewarmed crawl starts fetching at once. A class that does not import is left to the
    crawl, which reports it as it did."""
    from scrapy.utils.misc import load_object

    for path in sorted(components()):
        try:
            load_object(path)
        except Exception:  # an optional dependency missing: the crawl says so, if it is used
            continue


def wait_for_arguments() -> int:
    """The ``--wait`` mode: the crawl's arguments come on stdin when the caller is ready."""
    import_components()
    line = sys.stdin.readline().strip()
    if not line:
        return 0
    argv = json.loads(line)
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        print("error: --wait takes a JSON list of arguments on stdin", file=sys.stderr)
        return 2
    return main(argv)


if __name__ == "__main__":
    sys.exit(wait_for_arguments() if sys.argv[1:] == ["--wait"] else main())
