"""What a spider yields: one item per fetch attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

HEADERS_KEPT = ("etag", "last-modified", "content-type", "content-length", "content-language")


@dataclass
class FetchItem:
    """A fetch attempt: a body, or a typed error (timeout, dns, http-4xx, offsite-redirect...)."""

    document_id: str
    url: str
    final_url: str | None
    started_at: datetime
    finished_at: datetime
    http_status: int | None
    headers: dict[str, str]
    body: bytes | None
    error: str | None
    error_detail: str | None = None
