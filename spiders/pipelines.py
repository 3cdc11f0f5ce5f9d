"""Item pipeline: hand each fetch to storage and report progress as a JSON line on stdout."""

from __future__ import annotations

import json
import sys
from typing import Any

from scrapy import Spider

from spiders.items import FetchItem
from storage.db import make_engine, make_sessionmaker
from storage.repo import FetchRecord, record_fetch


class StoragePipeline:
    """Writes every FetchItem to the database as it arrives (one commit per fetch)."""

    failures = 0  # read by spiders.crawl to fail the process: a lost fetch is never silent

    def __init__(self, db_url: str, run_id: int | None) -> None:
        self.sessions = make_sessionmaker(make_engine(db_url))
        self.run_id = run_id

    @classmethod
    def from_crawler(cls, crawler: Any) -> StoragePipeline:
        return cls(crawler.settings["POLICYWATCH_DB"], crawler.settings.getint("POLICYWATCH_RUN"))

    def process_item(self, item: FetchItem, spider: Spider | None = None) -> FetchItem:
        try:
            with self.sessions.begin() as session:
                fetch = record_fetch(session, self.run_id or None, FetchRecord(**vars(item)))
                fetch_id = fetch.id
        except Exception:
            StoragePipeline.failures += 1
            raise
        event = {
            "event": "fetch",
            "fetch_id": fetch_id,
            "document": item.document_id,
            "status": item.http_status,
            "error": item.error,
            "bytes": len(item.body) if item.body is not None else None,
        }
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()
        return item
