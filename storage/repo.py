"""Queries and writes that the flows and feeds share. No diffing happens here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, tuple_, union_all
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.orm.util import identity_key

from config.documents import DocumentSpec
from storage import upsert
from storage.blobs import put_blob
from storage.models import (
    Blob,
    Change,
    Document,
    Fetch,
    Link,
    LinkCheck,
    LinkSighting,
    Run,
    Version,
)
from storage.runs import own


def now() -> datetime:
    return datetime.now(UTC)


def sync_documents(session: Session, specs: Iterable[DocumentSpec]) -> None:
    """Insert or update documents from the sources file; history is never deleted.

    One upsert per document (INSERT ... ON CONFLICT DO UPDATE): two processes starting
    together on new documents both succeed, whichever writes first.
    """
    session.flush()
    for spec in specs:
        values = {
            "service": spec.service,
            "title": spec.title,
            "kind": spec.kind,
            "url": spec.url,
            "page_url": spec.page_url,
            "locale": spec.locale,
            "render": spec.render,
            "select": list(spec.select),
            "remove": list(spec.remove),
            "group_id": spec.group_id,
            "profile": spec.profile,
        }
        stmt = upsert.insert(session, Document).values(id=spec.id, **values)
        session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=values))
        loaded = session.identity_map.get(identity_key(Document, spec.id))
        if loaded is not None:
            session.expire(loaded)


def spec_of(doc: Document) -> DocumentSpec:
    """The spec of a stored document (a newsroom post has no entry in sources.toml)."""
    return DocumentSpec(
        id=doc.id,
        service=doc.service,
        title=doc.title,
        kind=doc.kind,
        url=doc.url,
        page_url=doc.page_url,
        locale=doc.locale,
        render=doc.render,
        select=tuple(doc.select or ()),
        remove=tuple(doc.remove or ()),
        group_id=doc.group_id,
        profile=doc.profile,
    )


def posts_to_follow(
    session: Session, feed_ids: Iterable[str], since: datetime
) -> list[DocumentSpec]:
    """Newsroom posts of these feeds first fetched after ``since`` (newest feeds drop them)."""
    first = (
        select(Fetch.document_id, func.min(Fetch.started_at).label("first"))
        .group_by(Fetch.document_id)
        .subquery()
    )
    stmt = (
        select(Document)
        .join(first, first.c.document_id == Document.id)
        .where(Document.group_id.in_(list(feed_ids)), Document.kind == "newsroom")
        .where(first.c.first >= since)
        .order_by(Document.id)
    )
    return [spec_of(d) for d in session.scalars(stmt)]


def start_run(session: Session, trigger: str, at: datetime | None = None) -> Run:
    run = Run(trigger=trigger, started_at=at or now(), status="running", counts={})
    own(run)
    session.add(run)
    session.flush()
    return run


def finish_run(session: Session, run_id: int, status: str, counts: dict[str, int]) -> None:
    run = session.get(Run, run_id)
    if run is None:
        raise KeyError(f"no run {run_id}")
    run.status, run.counts, run.finished_at = status, counts, now()


@dataclass(frozen=True)
class FetchRecord:
    """One fetch attempt as a spider reports it (and yields it as its item): a body, or a typed
    error (timeout, dns, http-4xx, offsite-redirect...)."""

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
    # 304 Not Modified: no body came, the server says it is this stored one (its blob hash)
    same_body_as: str | None = None


def record_fetch(session: Session, run_id: int | None, rec: FetchRecord) -> Fetch:
    """Store a fetch; its body (if any) goes to a blob, stored once."""
    blob_hash = put_blob(session, rec.body) if rec.body is not None else rec.same_body_as
    if rec.body is None and blob_hash and session.get(Blob, blob_hash) is None:
        blob_hash = None  # dropped meanwhile by another run's retention: a failed fetch then
    fetch = Fetch(
        run_id=run_id,
        document_id=rec.document_id,
        url=rec.url,
        final_url=rec.final_url,
        started_at=rec.started_at,
        finished_at=rec.finished_at,
        http_status=rec.http_status,
        headers=rec.headers,
        blob_hash=blob_hash,
        error=rec.error,
        error_detail=rec.error_detail,
        processed=False,
    )
    session.add(fetch)
    session.flush()
    return fetch


def first_fetch_run(session: Session, document_id: str, ok: bool = False) -> int | None:
    """The first run that fetched ``document_id`` (with ``ok``: successfully), or None."""
    stmt = select(func.min(Fetch.run_id)).where(Fetch.document_id == document_id)
    if ok:
        stmt = stmt.where(Fetch.error.is_(None))
    return session.scalar(stmt)


def fetched_documents(session: Session, run_id: int) -> Sequence[str]:
    """The documents run ``run_id`` fetched (or tried to)."""
    return session.scalars(select(Fetch.document_id).where(Fetch.run_id == run_id).distinct()).all()


def pending_documents(session: Session, documents: Iterable[str] | None = None) -> list[str]:
    """Documents with unprocessed fetches (of any run), in the order of their oldest one."""
    stmt = select(Fetch.document_id, Fetch.id).where(Fetch.processed.is_(False))
    if documents is not None:
        stmt = stmt.where(Fetch.document_id.in_(list(documents)))
    order: dict[str, None] = {}
    for doc_id, _ in session.execute(stmt.order_by(Fetch.id)):
        order.setdefault(doc_id, None)
    return list(order)


_NEXT_UNPROCESSED = (  # built once: run for every fetch of every crawl
    select(Fetch)
    .where(Fetch.document_id == bindparam("p_document"), Fetch.processed.is_(False))
    .order_by(Fetch.id)
    .limit(1)
)


def next_unprocessed_fetch(session: Session, document_id: str) -> Fetch | None:
    """The document's oldest unprocessed fetch."""
    return session.scalars(_NEXT_UNPROCESSED, {"p_document": document_id}).first()


def unprocessed_fetches(session: Session, run_id: int | None = None) -> Sequence[Fetch]:
    """Fetches not yet turned into versions, oldest first."""
    stmt = select(Fetch).where(Fetch.processed.is_(False)).order_by(Fetch.id)
    if run_id is not None:
        stmt = stmt.where(Fetch.run_id == run_id)
    return session.scalars(stmt).all()


def version_by_hash(session: Session, document_id: str, text_hash: str) -> Version | None:
    return session.scalars(
        select(Version).where(Version.document_id == document_id, Version.text_hash == text_hash)
    ).first()


def held_versions(session: Session, document_id: str) -> Sequence[Version]:
    return session.scalars(
        select(Version).where(Version.document_id == document_id, Version.state == "held")
    ).all()


def latest_changes(
    session: Session,
    limit: int | None = None,
    document_id: str | None = None,
    include_technical: bool = False,
    include_silent: bool = False,
) -> Sequence[Change]:
    """Changes newest first, with their document and versions loaded.

    Technical changes and changes kept without an alert are left out unless asked for.
    """
    stmt = (
        select(Change)
        .options(
            selectinload(Change.document),
            selectinload(Change.from_version),
            selectinload(Change.to_version),
        )
        .order_by(Change.detected_at.desc(), Change.id.desc())
    )
    if document_id is not None:
        stmt = stmt.where(Change.document_id == document_id)
    if not include_technical:
        stmt = stmt.where(Change.technical.is_(False))
    if not include_silent:
        stmt = stmt.where(Change.alert.is_(True))
    if limit is not None:
        stmt = stmt.limit(limit)
    return session.scalars(stmt).all()


def documents(session: Session) -> Sequence[Document]:
    return session.scalars(select(Document).order_by(Document.id)).all()


def last_fetch(session: Session, document_id: str) -> Fetch | None:
    return session.scalars(
        select(Fetch).where(Fetch.document_id == document_id).order_by(Fetch.id.desc()).limit(1)
    ).first()


def failed_fetches(session: Session, run_id: int) -> Sequence[Fetch]:
    """The failed fetches of one run, by document then id."""
    return session.scalars(
        select(Fetch)
        .where(Fetch.run_id == run_id, Fetch.error.is_not(None))
        .order_by(Fetch.document_id, Fetch.id)
    ).all()


def count_by_document(session: Session, model: Any) -> dict[str, int]:
    """Rows of ``model`` (Version, Change, Fetch) per document id."""
    rows = session.execute(
        select(model.document_id, func.count()).group_by(model.document_id)
    ).all()
    return {doc_id: n for doc_id, n in rows}


def held_by_document(session: Session) -> dict[str, int]:
    """Held (suspect) versions per document id."""
    rows = session.execute(
        select(Version.document_id, func.count())
        .where(Version.state == "held")
        .group_by(Version.document_id)
    ).all()
    return {doc_id: n for doc_id, n in rows}


def versions_seen_since(
    session: Session, document_id: str, since: datetime, exclude: Iterable[int] = ()
) -> Sequence[Version]:
    """Accepted versions of a document last seen at or after ``since``, newest first."""
    stmt = (
        select(Version)
        .where(
            Version.document_id == document_id,
            Version.state == "accepted",
            Version.last_seen >= since,
        )
        .order_by(Version.last_seen.desc(), Version.id.desc())
    )
    skip = set(exclude)
    return [v for v in session.scalars(stmt) if v.id not in skip]


def accepted_versions(session: Session, document_id: str) -> Sequence[Version]:
    return session.scalars(
        select(Version)
        .where(Version.document_id == document_id, Version.state == "accepted")
        .order_by(Version.first_seen, Version.id)
    ).all()


# --- read-only queries for the static site (feeds/) ------------------------------------------


def fetch_outcomes(session: Session) -> Sequence[Any]:
    """The fetches that make runs of failures, as (document_id, started_at, error,
    http_status, error_detail), by document then time: every failed fetch, and each fetch
    that ended a run of them (the first one after a failure, if it succeeded).

    The site folds these into its timelines (feeds/timeline.py), whose runs and documents
    failing now are those every fetch would give: a success after a success changes
    nothing there. Reading every fetch grew with each run (2.1 s at 300,000 fetches);
    failures are few, and the fetch after each is one search of ``ix_fetch_document_time``.
    """
    failed, after = aliased(Fetch), aliased(Fetch)
    is_failure = func.coalesce(failed.error, "") != ""
    following = (  # the id of the fetch after ``failed``, of the same document
        select(after.id)
        .where(
            after.document_id == failed.document_id,
            tuple_(after.started_at, after.id) > tuple_(failed.started_at, failed.id),
        )
        .order_by(after.started_at, after.id)
        .limit(1)
        .correlate(failed)
        .scalar_subquery()
    )
    columns = (Fetch.document_id, Fetch.started_at, Fetch.error, Fetch.http_status)
    both = union_all(
        select(*columns, Fetch.error_detail, Fetch.id).where(func.coalesce(Fetch.error, "") != ""),
        select(*columns, Fetch.error_detail, Fetch.id).where(
            Fetch.id.in_(select(following).where(is_failure)),
            func.coalesce(Fetch.error, "") == "",
        ),
    ).subquery()
    c = both.c
    return session.execute(
        select(c.document_id, c.started_at, c.error, c.http_status, c.error_detail).order_by(
            c.document_id, c.started_at, c.id
        )
    ).all()


def published_changes(session: Session) -> Sequence[Change]:
    """The changes ``latest_changes()`` returns (not technical, with an alert; newest first),
    without loading their documents or versions: the site has those already."""
    return session.scalars(
        select(Change)
        .where(Change.technical.is_(False), Change.alert.is_(True))
        .order_by(Change.detected_at.desc(), Change.id.desc())
    ).all()


def versions_by_id(session: Session, ids: Iterable[int]) -> Sequence[Version]:
    """The versions with these ids (any state), in id order."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    return session.scalars(select(Version).where(Version.id.in_(wanted)).order_by(Version.id)).all()


def links(session: Session) -> Sequence[Link]:
    """Every opt-out / objection link, in id order."""
    return session.scalars(select(Link).order_by(Link.id)).all()


def link_sightings(session: Session) -> Sequence[LinkSighting]:
    """Where each link appears, by link then document."""
    return session.scalars(
        select(LinkSighting).order_by(LinkSighting.link_id, LinkSighting.document_id)
    ).all()


def link_checks(session: Session) -> Sequence[LinkCheck]:
    """Every health check of every link, newest first within each link."""
    return session.scalars(
        select(LinkCheck).order_by(
            LinkCheck.link_id, LinkCheck.checked_at.desc(), LinkCheck.id.desc()
        )
    ).all()
