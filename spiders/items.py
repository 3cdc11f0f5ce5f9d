"""What a spider yields: one item per fetch attempt.

A document fetch is yielded as ``storage.repo.FetchRecord`` (one definition, in storage).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from config.documents import DocumentSpec

HEADERS_KEPT = ("etag", "last-modified", "content-type", "content-length", "content-language")


@dataclass(frozen=True)
class LinkTarget:
    """A link to check: its id in storage, its URL and the locale it is read in."""

    link_id: int
    url: str
    locale: str
    render: str = "http"
    select: tuple[str, ...] = ()  # browser mode waits for these (the form), else for <body>


@dataclass
class LinkFetchItem:
    """A link-check attempt: the page seen (body) or a typed error. Never a document fetch."""

    link_id: int
    locale: str
    url: str
    final_url: str | None
    started_at: datetime
    finished_at: datetime
    http_status: int | None
    body: bytes | None
    error: str | None
    error_detail: str | None = None


@dataclass
class PostItem:
    """A newsroom post found in a feed and kept: stored as a document before it is fetched."""

    spec: DocumentSpec
    keywords: list[str]
