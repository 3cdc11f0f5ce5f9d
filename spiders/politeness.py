"""Politeness for the whole installation: a downloader middleware that takes the host's lease
in the database (storage.hosts) before each request and gives it back after the response.

Scrapy's own DOWNLOAD_DELAY spaces the requests of one process; this spaces the requests of
every process and machine sharing the database. Off when the delay is 0.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from storage.db import make_engine, make_sessionmaker
from storage.hosts import release, try_lease

#: Order among Scrapy's downloader middlewares: the last before the download, so that its
#: process_response is the first after it (nothing in between can skip the release).
ORDER = 990


def lease_holder() -> str:
    """Who holds a lease: this machine, this process, this crawl."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class HostLeaseMiddleware:
    def __init__(self, db_url: str, delay: float, timeout: float) -> None:
        self.sessions = make_sessionmaker(make_engine(db_url))
        self.delay = delay
        self.hold_for = timedelta(seconds=timeout + 30)
        self.holder = lease_holder()
        self.held: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Any) -> HostLeaseMiddleware:
        settings = crawler.settings
        delay = settings.getfloat("DOWNLOAD_DELAY")
        if delay <= 0:
            raise NotConfigured("no delay to keep")
        mw = cls(settings["POLICYWATCH_DB"], delay, settings.getfloat("DOWNLOAD_TIMEOUT"))
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    async def process_request(self, request: Request) -> None:
        host = urlsplit(request.url).hostname or ""
        while True:
            with self.sessions.begin() as session:
                wait = try_lease(session, host, self.holder, datetime.now(UTC), self.hold_for)
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        self.held.add(host)
        request.meta["policywatch_lease"] = host

    def process_response(self, request: Request, response: Response) -> Response:
        self._release(request)
        return response

    def process_exception(self, request: Request, exception: BaseException) -> None:
        self._release(request)

    def _release(self, request: Request) -> None:
        host = request.meta.pop("policywatch_lease", None)
        if host is None:
            return
        with self.sessions.begin() as session:
            release(session, host, self.holder, datetime.now(UTC), self.delay)
        self.held.discard(host)

    def spider_closed(self) -> None:
        """Give back whatever is still held (a request that never came back)."""
        for host in list(self.held):
            with self.sessions.begin() as session:
                release(session, host, self.holder, datetime.now(UTC), self.delay)
        self.held.clear()
