"""Plain, cleaned values the templates and feeds read, built from storage rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any, TypeVar

from feeds import summary as summaries
from feeds import text
from feeds.incremental import digest, quick_digest
from storage.models import Change, Document, Version

V = TypeVar("V")


def _made(cls: type[V], **values: Any) -> V:
    """``cls(**values)`` for the views read by the thousand: the ``__init__`` of a frozen
    dataclass sets each field through ``object.__setattr__`` (14 us a change view, 0.15 s
    at 10,000 changes); this fills the instance's dict at once. Every field must be given
    (checked), and the view is the one ``cls(**values)`` makes: equal, same ``repr``."""
    if values.keys() != _FIELDS[cls]:
        raise TypeError(f"{cls.__name__} needs exactly {sorted(_FIELDS[cls])}")
    view = object.__new__(cls)
    view.__dict__.update(values)
    return view


@lru_cache(maxsize=1024)
def _clean_categories(categories: tuple[str, ...]) -> list[str]:
    return [name for c in categories if (name := text.clean(c).strip())]


def _categories(categories: list[str] | None) -> list[str]:
    """The categories as shown, cleaned once per distinct list (a few dozen at most)."""
    return list(_clean_categories(tuple(categories or ())))


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


def category_page(category: str) -> str:
    """The page listing one category's changes, relative to the site root."""
    return f"categories/{text.slug(category)}.html"


@dataclass(frozen=True)
class DocumentView:
    id: str
    slug: str
    title: str
    service: str
    kind: str
    locale: str
    language_tag: str  # BCP 47 tag of ``locale`` for the text and diff containers ("" if unknown)
    url: str | None  # http(s) only: None if the stored URL is not fit to link
    url_text: str
    current_version_id: int | None = None

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
            language_tag=text.language_tag(doc.locale),
            url=text.safe_url(shown),
            url_text=text.clean(shown or ""),
            current_version_id=doc.current_version_id,
        )

    @property
    def path(self) -> str:
        return f"documents/{self.slug}.html"

    def feeds(self) -> list[FeedLink]:
        return [
            FeedLink(f"documents/{self.slug}.atom", "application/atom+xml", f"{self.title} (Atom)"),
            FeedLink(f"documents/{self.slug}.rss", "application/rss+xml", f"{self.title} (RSS)"),
        ]

    @cached_property
    def fingerprint(self) -> str:
        """What pages show of the document: not its current version, which moves with every
        new version (the document page has it in its own key)."""
        return digest(replace(self, current_version_id=None))


@dataclass(frozen=True)
class VersionView:
    id: int
    first_seen: datetime
    last_seen: datetime
    effective_date: str | None
    words: int
    document_id: str = ""
    text_hash: str = ""
    text_blob: str = ""

    @classmethod
    def of(cls, version: Version) -> VersionView:
        effective = text.clean(version.effective_date) if version.effective_date else None
        return _made(
            cls,
            id=version.id,
            first_seen=version.first_seen,
            last_seen=version.last_seen,
            effective_date=effective,
            words=version.words,
            document_id=version.document_id,
            text_hash=version.text_hash,
            text_blob=version.text_blob,
        )

    @property
    def path(self) -> str:
        """The archived full text, relative to the site root."""
        return f"versions/{self.id}.html"

    @property
    def markdown_path(self) -> str:
        """The archived text as Markdown, for download, relative to the site root."""
        return f"versions/{self.id}.md"

    @cached_property
    def fingerprint(self) -> str:
        """Its fields as a tuple: a dataclass's own ``repr`` runs in Python, 10,000 times a
        publish."""
        return quick_digest("version", *(getattr(self, name) for name in _VERSION_FIELDS))

    @cached_property
    def fingerprint_without_last_seen(self) -> str:
        """:attr:`fingerprint` without ``last_seen``, which moves at every check of an
        unchanged page: what the page of a document's current version shows of it, and more
        than the pages of its changes do (the document's page shows the last sighting)."""
        return quick_digest("current version", *(getattr(self, n) for n in _CURRENT_FIELDS))


_VERSION_FIELDS = tuple(f.name for f in fields(VersionView))
_CURRENT_FIELDS = tuple(name for name in _VERSION_FIELDS if name != "last_seen")


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
    kind: str = "text"  # text | link-health | source-health
    link_id: int | None = None
    from_version_id: int | None = None
    to_version_id: int | None = None
    diff_blob: str | None = None  # content hash of the stored diff: it names the diff

    @classmethod
    def of(
        cls,
        change: Change,
        document: DocumentView | None = None,
        versions: Mapping[int, VersionView] | None = None,
    ) -> ChangeView:
        """The view of ``change``; with ``versions`` (by id) its version rows are not read."""
        doc = document or DocumentView.of(change.document)
        kind = text.clean(change.kind or "text")
        if versions is None:
            new, old = _effective(change.to_version), _effective(change.from_version)
        else:
            new = _known(versions, change.to_version_id)
            old = _known(versions, change.from_version_id)
        return _made(
            cls,
            id=change.id,
            document=doc,
            title=text.clean(change.title or "").strip() or f"{doc.title} changed",
            detected_at=change.detected_at,
            effective_date=new,
            previous_effective_date=old,
            first_version=kind == "text" and change.from_version_id is None,
            categories=_categories(change.categories),
            words_added=change.words_added or 0,
            words_removed=change.words_removed or 0,
            summary=dict(change.summary or {}),
            kind=kind,
            link_id=change.link_id,
            from_version_id=change.from_version_id,
            to_version_id=change.to_version_id,
            diff_blob=change.diff_blob,
        )

    @property
    def path(self) -> str:
        """The change page, relative to the site root."""
        return f"changes/{self.id}.html"

    @property
    def has_diff(self) -> bool:
        return self.diff_blob is not None

    @cached_property
    def one_line(self) -> str:
        """The one-line summary shown under the title in lists."""
        return summaries.one_line(self.summary, self.kind)

    @cached_property
    def fingerprint(self) -> str:
        """Changes whenever anything a page shows of this change changes."""
        shown = [getattr(self, name) for name in _CHANGE_FIELDS]
        return quick_digest("change", self.document.fingerprint, shown)


_CHANGE_FIELDS = tuple(f.name for f in fields(ChangeView) if f.name != "document")
_FIELDS: dict[type, set[str]] = {
    cls: {f.name for f in fields(cls)} for cls in (VersionView, ChangeView)
}


def version_views(rows: Iterable[Any]) -> list[VersionView]:
    """``VersionView.of`` of each row (a version or a row of its columns, such as
    ``storage.published.VersionRow``), in one loop: no call per view but this one, and
    each view's fingerprint made at once (the same :attr:`VersionView.fingerprint`)."""
    views = []
    new, clean = object.__new__, text.clean
    for row in rows:
        view = new(VersionView)
        shown = (
            row.id,
            row.first_seen,
            row.last_seen,
            clean(row.effective_date) if row.effective_date else None,
            row.words,
            row.document_id,
            row.text_hash,
            row.text_blob,
        )
        view.__dict__.update(zip(_VERSION_FIELDS, shown, strict=True))
        view.__dict__["fingerprint"] = quick_digest("version", *shown)
        views.append(view)
    return views


def change_views(
    rows: Iterable[Any], docs: Mapping[str, DocumentView], versions: Mapping[int, VersionView]
) -> list[ChangeView]:
    """``ChangeView.of(row, docs[row.document_id], versions)`` of each row (a change or a
    row of its columns, such as ``storage.published.ChangeRow``), in one loop, each
    view's fingerprint made at once (the same :attr:`ChangeView.fingerprint`): 10,000
    views a publish."""
    views = []
    new, clean = object.__new__, text.clean
    for row in rows:
        doc = docs[row.document_id]
        kind = clean(row.kind or "text")
        old_id, new_id = row.from_version_id, row.to_version_id
        shown = (
            row.id,
            clean(row.title or "").strip() or f"{doc.title} changed",
            row.detected_at,
            _known(versions, new_id),
            _known(versions, old_id),
            kind == "text" and old_id is None,
            _categories(row.categories),
            row.words_added or 0,
            row.words_removed or 0,
            dict(row.summary or {}),
            kind,
            row.link_id,
            old_id,
            new_id,
            row.diff_blob,
        )
        view = new(ChangeView)
        view.__dict__.update(zip(_CHANGE_FIELDS, shown, strict=True))
        view.__dict__["document"] = doc
        view.__dict__["fingerprint"] = quick_digest("change", doc.fingerprint, list(shown))
        views.append(view)
    return views


def _known(versions: Mapping[int, VersionView], version_id: int | None) -> str | None:
    view = versions.get(version_id) if version_id is not None else None
    return view.effective_date if view is not None else None


def _effective(version: Version | None) -> str | None:
    if version is None or not version.effective_date:
        return None
    return text.clean(version.effective_date)
