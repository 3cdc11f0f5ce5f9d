"""Plain, cleaned values the templates and feeds read, built from storage rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from feeds import text
from storage.models import Change, Document, Version


@dataclass(frozen=True)
class FeedLink:
    """One feed, by its path below the site root."""

    href: str
    type: str
    title: str


SITE_FEEDS = (
    FeedLink("feed.atom", "application/atom+xml", "All changes (Atom)"),
    FeedLink("feed.rss", "application/rss+xml", "All changes (RSS)"),
)


def category_feeds(category: str) -> list[FeedLink]:
    """The Atom and RSS feeds of one category (legal basis, opt-out links, ...)."""
    name = text.slug(category)
    return [
        FeedLink(f"categories/{name}.atom", "application/atom+xml", f"{category} (Atom)"),
        FeedLink(f"categories/{name}.rss", "application/rss+xml", f"{category} (RSS)"),
    ]


@dataclass(frozen=True)
class DocumentView:
    id: str
    slug: str
    title: str
    service: str
    kind: str
    locale: str
    url: str | None  # http(s) only: None if the stored URL is not fit to link
    url_text: str

    @classmethod
    def of(cls, doc: Document) -> DocumentView:
        shown = doc.page_url or doc.url
        return cls(
            id=text.clean(doc.id),
            slug=text.slug(doc.id),
            title=text.clean(doc.title) or text.clean(doc.id),
            service=text.clean(doc.service),
            kind=text.clean(doc.kind),
            locale=text.clean(doc.locale),
            url=text.safe_url(shown),
            url_text=text.clean(shown or ""),
        )

    def feeds(self) -> list[FeedLink]:
        return [
            FeedLink(f"documents/{self.slug}.atom", "application/atom+xml", f"{self.title} (Atom)"),
            FeedLink(f"documents/{self.slug}.rss", "application/rss+xml", f"{self.title} (RSS)"),
        ]


@dataclass(frozen=True)
class VersionView:
    id: int
    first_seen: datetime
    last_seen: datetime
    effective_date: str | None
    words: int

    @classmethod
    def of(cls, version: Version) -> VersionView:
        effective = text.clean(version.effective_date) if version.effective_date else None
        return cls(version.id, version.first_seen, version.last_seen, effective, version.words)


@dataclass(frozen=True)
class ChangeView:
    id: int
    document: DocumentView
    title: str
    detected_at: datetime
    effective_date: str | None
    previous_effective_date: str | None
    first_version: bool
    categories: list[str]
    words_added: int
    words_removed: int
    summary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, change: Change, document: DocumentView | None = None) -> ChangeView:
        doc = document or DocumentView.of(change.document)
        new, old = change.to_version, change.from_version
        return cls(
            id=change.id,
            document=doc,
            title=text.clean(change.title or "").strip() or f"{doc.title} changed",
            detected_at=change.detected_at,
            effective_date=_effective(new),
            previous_effective_date=_effective(old),
            first_version=old is None,
            categories=[name for c in change.categories or [] if (name := text.clean(c).strip())],
            words_added=change.words_added or 0,
            words_removed=change.words_removed or 0,
            summary=dict(change.summary or {}),
        )

    @property
    def path(self) -> str:
        """The change page, relative to the site root."""
        return f"changes/{self.id}.html"


def _effective(version: Version | None) -> str | None:
    if version is None or not version.effective_date:
        return None
    return text.clean(version.effective_date)
