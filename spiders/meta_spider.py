"""The spider: fetch every configured document once, follow redirects only to allowed hosts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.items import HEADERS_KEPT, FetchItem
from storage.repo import DocumentSpec

MAX_REDIRECTS = 5


def accept_language(locale: str) -> str:
    """``fr_FR`` -> ``fr-FR,fr;q=0.9,en;q=0.5``."""
    tag = locale.replace("_", "-")
    lang = tag.split("-")[0]
    return f"{tag},{lang};q=0.9,en;q=0.5" if lang != "en" else f"{tag},en;q=0.9"


def error_type(failure: Failure) -> str:
    """Map a download failure to the error types DESIGN.md names."""
    name = type(failure.value).__name__
    text = f"{name} {failure.value}".lower()
    if "timeout" in text or "timedout" in text:
        return "timeout"
    if name == "DownloadCancelledError" or "max size" in text:
        return "too-large"
    if "dns" in text or "resolve" in text:
        return "dns"
    if "refused" in text or "connection" in text or "lost" in text:
        return "connection"
    if "dataloss" in text:
        return "truncated"
    return "error"


class MetaSpider(scrapy.Spider):
    """Fetches documents; knows nothing of versions, diffs or feeds."""

    name = "policywatch"

    def __init__(self, documents: list[DocumentSpec], allowed_hosts: frozenset[str], **kw: Any):
        super().__init__(**kw)
        self.documents = documents
        self.allowed_hosts = allowed_hosts

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for doc in self.documents:
            if doc.render == "browser":
                self.logger.warning("%s: render=browser is fetched over plain HTTP", doc.id)
            yield self._request(doc, doc.url, datetime.now(UTC), hops=0)

    def _request(self, doc: DocumentSpec, url: str, started: datetime, hops: int) -> scrapy.Request:
        return scrapy.Request(
            url,
            headers={"Accept-Language": accept_language(doc.locale)},
            meta={
                "doc": doc,
                "origin": doc.url,
                "started": started,
                "hops": hops,
                "dont_redirect": True,
                "handle_httpstatus_all": True,
            },
            callback=self.parse,
            errback=self.on_error,
            dont_filter=True,
        )

    def _item(self, meta: dict[str, Any], **fields: Any) -> FetchItem:
        doc: DocumentSpec = meta["doc"]
        values: dict[str, Any] = {
            "final_url": None,
            "http_status": None,
            "headers": {},
            "body": None,
            "error": None,
            "error_detail": None,
        }
        values.update(fields)
        return FetchItem(
            document_id=doc.id,
            url=meta["origin"],
            started_at=meta["started"],
            finished_at=datetime.now(UTC),
            **values,
        )

    def parse(self, response: Response) -> Iterator[FetchItem | scrapy.Request]:
        meta = response.meta
        headers = {
            k: response.headers.get(k, b"").decode("latin-1")
            for k in HEADERS_KEPT
            if response.headers.get(k)
        }
        base = {"final_url": response.url, "http_status": response.status, "headers": headers}
        if 300 <= response.status < 400 and response.headers.get("Location"):
            target = urljoin(response.url, response.headers["Location"].decode("latin-1"))
            host = (urlsplit(target).hostname or "").lower()
            if urlsplit(target).scheme not in ("http", "https") or host not in self.allowed_hosts:
                yield self._item(meta, **base, error="offsite-redirect", error_detail=target)
            elif meta["hops"] >= MAX_REDIRECTS:
                yield self._item(meta, **base, error="redirect-loop", error_detail=target)
            else:
                yield self._request(meta["doc"], target, meta["started"], meta["hops"] + 1)
            return
        if response.status >= 400:
            kind = "http-5xx" if response.status >= 500 else "http-4xx"
            yield self._item(meta, **base, error=kind, error_detail=f"HTTP {response.status}")
            return
        yield self._item(meta, **base, body=response.body)

    def on_error(self, failure: Failure) -> Iterator[FetchItem]:
        request = failure.request  # type: ignore[attr-defined]
        yield self._item(
            request.meta,
            final_url=request.url,
            error=error_type(failure),
            error_detail=f"{type(failure.value).__name__}: {failure.value}"[:500],
        )
