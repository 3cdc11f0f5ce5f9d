"""The spider: fetch every configured document (or link to check) once, follow redirects only
to allowed hosts, and follow the relevant posts of newsroom feeds."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from config.documents import DocumentSpec, FeedSettings
from spiders.items import HEADERS_KEPT, LinkFetchItem, LinkTarget, PostItem
from spiders.newsroom import matched_keywords, parse_feed, post_spec
from spiders.outcomes import FetchError, fetch_error
from storage.repo import FetchRecord

MAX_REDIRECTS = 5
Target = DocumentSpec | LinkTarget


def accept_language(locale: str) -> str:
    """``fr_FR`` -> ``fr-FR,fr;q=0.9,en;q=0.5``."""
    tag = locale.replace("_", "-")
    lang = tag.split("-")[0]
    return f"{tag},{lang};q=0.9,en;q=0.5" if lang != "en" else f"{tag},en;q=0.9"


class MetaSpider(scrapy.Spider):
    """Fetches documents and links; knows nothing of versions, diffs, outcomes or feeds' news."""

    name = "policywatch"

    def __init__(
        self,
        documents: list[DocumentSpec],
        allowed_hosts: frozenset[str],
        links: list[LinkTarget] | None = None,
        feeds: dict[str, FeedSettings] | None = None,
        timeout: float = 30.0,
        **kw: Any,
    ):
        super().__init__(**kw)
        self.documents = documents
        self.links = links or []
        self.feeds = feeds or {}
        self.allowed_hosts = allowed_hosts
        self.timeout = timeout
        self.requested: set[str] = set()  # document ids, so a post is fetched once per crawl
        self.refused: dict[str, str] = {}  # browser mode: first URL -> refused navigation

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for doc in self.documents:
            self.requested.add(doc.id)
            yield self._request(doc, doc.url, datetime.now(UTC), hops=0)
        for link in self.links:
            yield self._request(link, link.url, datetime.now(UTC), hops=0)

    def _request(self, target: Target, url: str, started: datetime, hops: int) -> scrapy.Request:
        meta: dict[str, Any] = {
            "target": target,
            "origin": target.url,
            "started": started,
            "hops": hops,
            "dont_redirect": True,
            "handle_httpstatus_all": True,
        }
        if target.render == "browser":
            from spiders.browser import request_meta

            on_request = self._watch_navigation(target.url)
            meta.update(request_meta(target.select, target.locale, self.timeout, on_request))
        return scrapy.Request(
            url,
            headers={"Accept-Language": accept_language(target.locale)},
            meta=meta,
            callback=self.parse,
            errback=self.on_error,
            dont_filter=True,
        )

    def _watch_navigation(self, origin: str) -> Callable[[Any], None]:
        """Browser mode: remember a main-frame navigation to a host not named (a redirect)."""

        def on_request(request: Any) -> None:
            if not request.is_navigation_request() or request.frame.parent_frame is not None:
                return
            if (urlsplit(request.url).hostname or "").lower() not in self.allowed_hosts:
                self.refused.setdefault(origin, request.url)

        return on_request

    def _item(self, meta: dict[str, Any], **fields: Any) -> FetchRecord | LinkFetchItem:
        target: Target = meta["target"]
        values: dict[str, Any] = {
            "url": meta["origin"],
            "started_at": meta["started"],
            "finished_at": datetime.now(UTC),
            "final_url": None,
            "http_status": None,
            "body": None,
            "error": None,
            "error_detail": None,
        }
        headers = fields.pop("headers", {})
        values.update(fields)
        if values["error"] is not None:
            values["error"] = str(values["error"])  # stored as its plain value
        if isinstance(target, LinkTarget):
            return LinkFetchItem(link_id=target.link_id, locale=target.locale, **values)
        return FetchRecord(document_id=target.id, headers=headers, **values)

    def parse(self, response: Response) -> Iterator[Any]:
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
                yield self._item(
                    meta, **base, error=FetchError.OFFSITE_REDIRECT, error_detail=target
                )
            elif meta["hops"] >= MAX_REDIRECTS:
                yield self._item(meta, **base, error=FetchError.REDIRECT_LOOP, error_detail=target)
            else:
                yield self._request(meta["target"], target, meta["started"], meta["hops"] + 1)
            return
        if response.status >= 400:
            kind = FetchError.HTTP_5XX if response.status >= 500 else FetchError.HTTP_4XX
            body = response.body if isinstance(meta["target"], LinkTarget) else None
            detail = f"HTTP {response.status}"
            yield self._item(meta, **base, body=body, error=kind, error_detail=detail)
            return
        yield self._item(meta, **base, body=response.body)
        target = meta["target"]
        if isinstance(target, DocumentSpec) and target.id in self.feeds:
            yield from self._follow_posts(target, response.body)

    def _follow_posts(self, feed: DocumentSpec, body: bytes) -> Iterator[Any]:
        """Keep the feed's posts that name a keyword: a document each, fetched in this crawl."""
        settings = self.feeds[feed.id]
        for post in parse_feed(body):
            keywords = matched_keywords(post, settings.keywords)
            if not keywords:
                continue
            spec = post_spec(feed, settings, post)
            if (urlsplit(spec.url).hostname or "").lower() not in self.allowed_hosts:
                self.logger.warning("%s: post on a host not in sources: %s", feed.id, spec.url)
                continue
            yield PostItem(spec=spec, keywords=keywords)  # stored before its fetch
            if spec.id not in self.requested:
                self.requested.add(spec.id)
                yield self._request(spec, spec.url, datetime.now(UTC), hops=0)

    def on_error(self, failure: Failure) -> Iterator[FetchRecord | LinkFetchItem]:
        request = failure.request  # type: ignore[attr-defined]
        refused = self.refused.get(request.meta["origin"])
        if refused:
            yield self._item(
                request.meta,
                final_url=request.url,
                error=FetchError.OFFSITE_REDIRECT,
                error_detail=refused,
            )
            return
        yield self._item(
            request.meta,
            final_url=request.url,
            error=fetch_error(failure.value),
            error_detail=f"{type(failure.value).__name__}: {failure.value}"[:500],
        )
