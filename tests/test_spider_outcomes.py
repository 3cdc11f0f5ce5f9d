"""Typed fetch outcomes, spider events and the spider's stats: real exception classes,
real JSON lines, a real crawl subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.async_api import Error as BrowserError
from playwright.async_api import TimeoutError as BrowserTimeout
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from twisted.internet import error as tx

from demo.server import FakeMeta
from spiders.events import FetchEvent, LinkEvent, PostEvent, SpiderEvent, parse_event, to_json
from spiders.outcomes import FetchError, fetch_error
from storage.db import open_db
from tests.conftest import write_sources

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (DownloadTimeoutError("Getting http://x took longer than 3.0 seconds."), "timeout"),
        (tx.TimeoutError(), "timeout"),
        (tx.TCPTimedOutError(), "timeout"),
        (DownloadCancelledError("Cancelling download of http://x: expected 9 > 1"), "too-large"),
        (CannotResolveHostError("DNS lookup failed: no results for hostname lookup"), "dns"),
        (tx.DNSLookupError("nowhere.invalid"), "dns"),
        (DownloadConnectionRefusedError("Connection was refused by other side"), "connection"),
        (tx.ConnectionRefusedError(), "connection"),
        (tx.ConnectionLost(), "connection"),
        (ResponseDataLossError(), "truncated"),
        # Scrapy's catch-all wraps Twisted's ResponseFailed: its message says what failed
        (DownloadFailedError("[<Failure twisted.internet.error.ConnectionLost>]"), "connection"),
        (ValueError("something else"), "error"),
    ],
)
def test_download_failures_are_typed_by_their_class(exc: BaseException, kind: str) -> None:
    assert fetch_error(exc) == kind
    assert isinstance(fetch_error(exc), FetchError)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (BrowserTimeout("Timeout 30000ms exceeded."), "timeout"),
        (BrowserError("net::ERR_NAME_NOT_RESOLVED at https://x.invalid/"), "dns"),
        (BrowserError("net::ERR_CONNECTION_REFUSED at http://127.0.0.1:9/"), "connection"),
        (BrowserError("net::ERR_ABORTED"), "error"),
    ],
)
def test_browser_failures_fall_back_to_their_message(exc: BaseException, kind: str) -> None:
    assert fetch_error(exc) == kind


EVENTS: list[SpiderEvent] = [
    FetchEvent(fetch_id=7, document="fb", status=200, error=None, bytes=1234),
    FetchEvent(fetch_id=8, document="fb.fr_FR", status=None, error="timeout", bytes=None),
    LinkEvent(
        link_id=3,
        locale="fr_FR",
        final_url="https://www.facebook.com/help/contact/1",
        status=200,
        error=None,
        error_detail=None,
        blob="ab" * 32,
        started_at="2026-11-23T21:00:00+00:00",
    ),
    PostEvent(document="newsroom.ai-at-meta", keywords=["AI", "privac"]),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_events_survive_a_json_round_trip(event: SpiderEvent) -> None:
    line = to_json(event)
    assert line.startswith('{"event": "' + event.kind + '"')
    assert parse_event(line) == event


@pytest.mark.parametrize(
    "line",
    ["", "not json", "[1, 2]", '{"event": "other"}', '{"event": "fetch", "document": "fb"}'],
)
def test_a_line_that_is_not_an_event_is_skipped(line: str) -> None:
    assert parse_event(line) is None


def test_items_that_cannot_be_stored_fail_the_crawl_through_the_stats(
    tmp_path: Path, site: FakeMeta, db_url: str
) -> None:
    """The documents were never synced (as a parent process would): every fetch's row
    breaks a foreign key, the stats count it, and the process says so and exits 1."""
    site.page("/p", "<html><body><div id='root'>A policy.</div></body></html>")
    sources = write_sources(tmp_path / "sources.toml", [{"id": "p", "url": site.url("/p")}])
    db = db_url
    open_db(db)  # the schema, no documents
    crawl = subprocess.run(
        [sys.executable, "-m", "spiders.crawl", "--db", db, "--sources", str(sources)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert crawl.returncode == 1
    assert "error: 1 item(s) could not be stored" in crawl.stderr
    assert not [line for line in crawl.stdout.splitlines() if parse_event(line)]
