"""Item pipeline: hand each item to storage and report it as a JSON line on stdout."""

from __future__ import annotations

import sys
from typing import Any

from scrapy import Spider
from scrapy.statscollectors import StatsCollector

from spiders.events import FetchEvent, LinkEvent, PostEvent, SpiderEvent, to_json
from spiders.items import LinkFetchItem, PostItem
from storage.blobs import put_blob
from storage.db import make_engine, make_sessionmaker
from storage.repo import FetchRecord, record_fetch, sync_documents

#: Scrapy stats keys: items stored, and items that could not be (spiders.crawl fails then).
STORED = "policywatch/items_stored"
NOT_STORED = "policywatch/items_not_stored"


def emit(event: SpiderEvent) -> None:
    sys.stdout.write(to_json(event) + "\n")
    sys.stdout.flush()


class StoragePipeline:
    """Writes every item to the database as it arrives (one commit per item).

    A document fetch becomes a Fetch row; a newsroom post found in a feed becomes a
    Document (before its fetch); a link-check fetch keeps its page as a blob and is reported
    to the parent process, which decides its outcome. Counts go to the crawler's stats.
    """

    def __init__(self, db_url: str, run_id: int | None, stats: StatsCollector) -> None:
        self.sessions = make_sessionmaker(make_engine(db_url))
        self.run_id = run_id
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> StoragePipeline:
        settings = crawler.settings
        return cls(settings["POLICYWATCH_DB"], settings.getint("POLICYWATCH_RUN"), crawler.stats)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        try:
            with self.sessions.begin() as session:
                event = self._store(session, item)
        except Exception:
            self.stats.inc_value(NOT_STORED)  # a lost fetch is never silent
            raise
        self.stats.inc_value(STORED)
        emit(event)
        return item

    def _store(self, session: Any, item: Any) -> SpiderEvent:
        if isinstance(item, PostItem):
            sync_documents(session, [item.spec])
            return PostEvent(item.spec.id, list(item.keywords))
        if isinstance(item, LinkFetchItem):
            blob = put_blob(session, item.body) if item.body is not None else None
            return LinkEvent(
                link_id=item.link_id,
                locale=item.locale,
                final_url=item.final_url,
                status=item.http_status,
                error=item.error,
                error_detail=item.error_detail,
                blob=blob,
                started_at=item.started_at.isoformat(),
            )
        assert isinstance(item, FetchRecord)
        fetch = record_fetch(session, self.run_id or None, item)
        return FetchEvent(
            fetch_id=fetch.id,
            document=item.document_id,
            status=item.http_status,
            error=item.error,
            bytes=len(item.body) if item.body is not None else None,
        )
