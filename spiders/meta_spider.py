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
from spiders.retry_after import MAX_RETRIES, MAX_WAIT, RETRY_STATUSES, retry_after_seconds
from storage.repo import FetchRecord
from storage.revalidation import Validators

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
        max_wait: float = MAX_WAIT,
        validators: dict[str, Validators] | None = None,
        **kw: Any,
    ):
        super().__init__(**kw)
        self.documents = documents
        self.links = links or []
        self.feeds = feeds or {}
        self.allowed_hosts = allowed_hosts
        self.timeout = timeout
        self.max_wait = max_wait  # the longest Retry-After honoured
        # conditional requests: a document's last stored body and its ETag / Last-Modified
        self.validators = validators or {}
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
        headers = {"Accept-Language": accept_language(target.locale)}
        known = self.validators.get(target.id) if isinstance(target, DocumentSpec) else None
        if known is not None and known.url == url and target.render != "browser":
            meta["validators"] = known
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        return scrapy.Request(
            url,
            headers=headers,
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
        known: Validators | None = meta.get("validators")
        if response.status == 304 and known is not None:
            # Not Modified: the body we sent the validators of; its headers, updated (RFC 9111)
            base["headers"] = {**known.headers, **headers}
            yield self._item(meta, **base, same_body_as=known.blob_hash)
            return
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
        if response.status in RETRY_STATUSES:
            retry = self._retry_after(response)
            if isinstance(retry, scrapy.Request):
                yield retry
                return
        else:
            retry = None
        if response.status >= 400:
            kind = FetchError.HTTP_5XX if response.status >= 500 else FetchError.HTTP_4XX
            body = response.body if isinstance(meta["target"], LinkTarget) else None
            detail = f"HTTP {response.status}" + (f"; {retry}" if retry else "")
            yield self._item(meta, **base, body=body, error=kind, error_detail=detail)
            return
        yield self._item(meta, **base, body=response.body)
        target = meta["target"]
        if isinstance(target, DocumentSpec) and target.id in self.feeds:
            yield from self._follow_posts(target, response.body)

    def _retry_after(self, response: Response) -> scrapy.Request | str | None:
        """Another attempt after the wait ``Retry-After`` asks for, if within the cap and not
        retried already; else why not (for the fetch's error detail), or None."""
        value = response.headers.get("Retry-After", b"").decode("latin-1")
        wait = retry_after_seconds(value)
        if wait is None:
            return None
        meta = response.meta
        if meta.get("retries", 0) >= MAX_RETRIES:
            return f"Retry-After {value} (retried once already)"
        if wait > self.max_wait:
            return f"Retry-After {value}: longer than {self.max_wait:g} s, the next run retries"
        request = self._request(meta["target"], response.url, meta["started"], meta["hops"])
        request.meta.update(retries=meta.get("retries", 0) + 1, wait_before=wait)
        return request

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
