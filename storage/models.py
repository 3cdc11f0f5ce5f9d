"""SQLAlchemy models: what policywatch keeps.

Raw bodies (Blob) are kept apart from the text derived from them (Version), so that
extraction can be re-run over history (docs/decisions/0003-what-counts-as-noise.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from config.documents import language
from config.noise import DEFAULT_PROFILE


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Document(Base):
    """A tracked page, as named in sources.toml (kept in sync on every run)."""

    __tablename__ = "document"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    service: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(Text)
    page_url: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(20))
    render: Mapped[str] = mapped_column(String(10))
    group_id: Mapped[str | None] = mapped_column(String(200))  # same document, other locales
    select: Mapped[list[str]] = mapped_column(JSON, default=list)
    remove: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Its noise profile (config/profiles/<name>.toml), used for the changes derived from now on.
    profile: Mapped[str] = mapped_column(
        String(100), default=DEFAULT_PROFILE, server_default=DEFAULT_PROFILE
    )
    # Plain integer, not a foreign key: document <-> version would be a cycle of constraints.
    current_version_id: Mapped[int | None] = mapped_column(Integer)

    current_version: Mapped[Version | None] = relationship(
        primaryjoin="foreign(Document.current_version_id) == Version.id", viewonly=True
    )

    @property
    def language(self) -> str:
        """The language of the locale, for classification: ``fr_FR`` -> ``fr``."""
        return language(self.locale)


class Run(Base):
    """One run of the pipeline: scheduled, manual, replay or demo."""

    __tablename__ = "run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trigger: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # running, completed, failed, or crashed (closed by a later run: its process was gone)
    status: Mapped[str] = mapped_column(String(20), default="running")
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # Who runs it, so that the next run can tell a dead run (closed as ``crashed``) from a
    # live one: the host and process id, and when it last showed it was alive.
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Blob(Base):
    """Content-addressed bytes (sha256 of the raw bytes), stored compressed, once: in ``data``,
    or in the blob store (storage.blobstore) when ``data`` is None."""

    __tablename__ = "blob"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    codec: Mapped[str] = mapped_column(String(10))
    data: Mapped[bytes | None] = mapped_column(LargeBinary)  # None: in the blob store


class Fetch(Base):
    """One attempt to fetch a document; either a body (blob) or a typed error."""

    __tablename__ = "fetch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    http_status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    blob_hash: Mapped[str | None] = mapped_column(ForeignKey("blob.hash"))
    error: Mapped[str | None] = mapped_column(String(30))
    error_detail: Mapped[str | None] = mapped_column(Text)
    processed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("version.id"))
    # its body was dropped by the retention rule (storage.retention): same text as kept ones
    body_pruned: Mapped[bool] = mapped_column(Boolean, default=False)
    region_hash: Mapped[str | None] = mapped_column(String(64))  # changes/region.py

    document: Mapped[Document] = relationship()

    # a document's fetches in time order: the one after a failure is found by one search
    # (storage/repo.py: fetch_outcomes), not by reading every fetch
    __table_args__ = (Index("ix_fetch_document_time", "document_id", "started_at", "id"),)


class Version(Base):
    """A distinct normalised Markdown text of a document.

    ``state`` is ``accepted`` (part of the history), ``held`` (suspect: waiting for a
    second fetch to confirm it) or ``dropped`` (held, then not confirmed).
    """

    __tablename__ = "version"
    __table_args__ = (UniqueConstraint("document_id", "text_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"), index=True)
    text_hash: Mapped[str] = mapped_column(String(64))
    text_blob: Mapped[str] = mapped_column(ForeignKey("blob.hash"))
    words: Mapped[int] = mapped_column(Integer)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    fetch_id: Mapped[int | None] = mapped_column(Integer)  # the fetch it first came from
    extractor_version: Mapped[str] = mapped_column(String(20))
    effective_date: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(10), default="accepted")
    hold_reason: Mapped[str | None] = mapped_column(Text)
    # changes/region.py: the fingerprint of the last fetch that showed this text
    region_hash: Mapped[str | None] = mapped_column(String(64))

    document: Mapped[Document] = relationship(foreign_keys=[document_id])


class Change(Base):
    """Something subscribers hear about, stored once.

    ``kind`` is ``text`` (two accepted versions, with their diff stored once), ``link-health``
    (an opt-out link's checked outcome changed; ``link_id`` set, no versions or diff) or
    ``source-health`` (a source kept failing, or recovered). ``alert`` is False for changes
    kept for the record but not announced (a flapping page coming back, for instance);
    ``technical`` ones (extractor upgrades) are never news either.
    """

    __tablename__ = "change"
    # A document's text transitions are numbered 1, 2, 3...: two runs deriving the same
    # transition at once cannot both store it (docs/decisions/0012-durable-transitions.md).
    __table_args__ = (UniqueConstraint("document_id", "seq", name="uq_change_document_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="text")
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"), index=True)
    from_version_id: Mapped[int | None] = mapped_column(ForeignKey("version.id"))
    to_version_id: Mapped[int | None] = mapped_column(ForeignKey("version.id"))
    link_id: Mapped[int | None] = mapped_column(ForeignKey("link.id"))
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id"))
    diff_blob: Mapped[str | None] = mapped_column(ForeignKey("blob.hash"))
    words_added: Mapped[int] = mapped_column(Integer, default=0)
    words_removed: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    technical: Mapped[bool] = mapped_column(Boolean, default=False)
    alert: Mapped[bool] = mapped_column(Boolean, default=True)
    seq: Mapped[int | None] = mapped_column(Integer)  # text changes only: nth of its document
    fetch_id: Mapped[int | None] = mapped_column(Integer)  # the fetch that showed the new text

    document: Mapped[Document] = relationship()
    from_version: Mapped[Version | None] = relationship(foreign_keys=[from_version_id])
    to_version: Mapped[Version | None] = relationship(foreign_keys=[to_version_id])
    link: Mapped[Link | None] = relationship()


class Link(Base):
    """An opt-out / objection / settings link, by canonical URL and the locale it is read in.

    The same URL in a French and an English document is two links: Meta may answer a
    French reader differently, and each has its own check history and outcome.
    """

    __tablename__ = "link"
    __table_args__ = (UniqueConstraint("url", "locale", name="uq_link_url_locale"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    locale: Mapped[str] = mapped_column(String(20), default="en_US")
    kind: Mapped[str] = mapped_column(String(20))  # objection | opt-out | consent | settings | form
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))  # last confirmed check outcome
    outcome_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LinkSighting(Base):
    """Where a link appears: which document, with which anchor text and sentence."""

    __tablename__ = "link_sighting"
    __table_args__ = (UniqueConstraint("link_id", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("link.id"), index=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("document.id"), index=True)
    anchor: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[str] = mapped_column(Text, default="")
    version_id: Mapped[int | None] = mapped_column(ForeignKey("version.id"))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    present: Mapped[bool] = mapped_column(Boolean, default=True)

    link: Mapped[Link] = relationship()


class LinkCheck(Base):
    """One health check of a link, logged out, with the source's locale."""

    __tablename__ = "link_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("link.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("run.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locale: Mapped[str] = mapped_column(String(20), default="en_US")
    http_status: Mapped[int | None] = mapped_column(Integer)
    final_url: Mapped[str | None] = mapped_column(Text)
    # form, login-required, unavailable, not-found or error
    outcome: Mapped[str] = mapped_column(String(20))
    evidence: Mapped[str | None] = mapped_column(Text)
    blob_hash: Mapped[str | None] = mapped_column(ForeignKey("blob.hash"))  # the page, kept

    link: Mapped[Link] = relationship()


class HostLease(Base):
    """Politeness for the whole installation: one request at a time to a host, and at least
    the crawl delay between the end of one and the start of the next, whichever process or
    machine sends them (storage.hosts)."""

    __tablename__ = "host_lease"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200))  # who sends a request now
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a crashed holder's end
    free_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the next request may start then
    last_request_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Installation(Base):
    """Values this installation chose once and keeps for ever (one row, id 1).

    ``tag_authority`` is the ``host,YYYY-MM-DD`` of the RFC 4151 tag URIs naming its feeds
    and entries, and ``tag_prefix`` a random token that tells apart two installations on the
    same host and day: readers then never mix up their entries, and moving the site to
    another URL keeps every id.
    """

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tag_authority: Mapped[str] = mapped_column(String(300))
    tag_prefix: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NotifyTarget(Base):
    """A ``[[notify]]`` entry of sources.toml, as first seen, and its delivery back-off.

    Changes stored before a target was first seen are never sent to it (no backlog flood
    when a target is added): only changes with an id above ``since_change_id``.
    """

    __tablename__ = "notify_target"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    since_change_id: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive failed sends
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # back-off: not before


class Notification(Base):
    """The outbox: one row per change and notification target.

    ``status``: ``pending`` (to send at ``next_try_at``), ``sending`` (claimed by the process
    ``claimed_by``), ``sent``, ``failed`` (gave up after its attempts; ``error`` says why) or
    ``skipped`` (the target's filters leave the change out).
    """

    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("target_id", "change_id", name="uq_notification_target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    target_id: Mapped[str] = mapped_column(ForeignKey("notify_target.id"))
    change_id: Mapped[int] = mapped_column(ForeignKey("change.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)

    change: Mapped[Change] = relationship()
