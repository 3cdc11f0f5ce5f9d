"""The reads and copies of an audit (pipeline/audit.py): a database's text transitions,
what it cannot rebuild, and a copy of its documents, runs and fetches to derive again."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from storage.blobs import get_blob
from storage.models import Change, Document, Fetch, Run, Version
from storage.repo import FetchRecord, record_fetch, spec_of, sync_documents

Transition = tuple[str, str | None, str]  # document id, old text hash (None: first), new


def transitions(session: Session) -> dict[str, list[Transition]]:
    """Text transitions per document, in order (``seq``), as text hashes."""
    old, new = aliased(Version), aliased(Version)
    stmt = (
        select(Change.document_id, old.text_hash, new.text_hash)
        .join(new, new.id == Change.to_version_id)
        .outerjoin(old, old.id == Change.from_version_id)
        .where(Change.to_version_id.is_not(None))
        .order_by(Change.document_id, Change.seq, Change.id)
    )
    out: dict[str, list[Transition]] = {}
    for doc_id, before, after in session.execute(stmt):
        out.setdefault(doc_id, []).append((doc_id, before, after))
    return out


def replayed_documents(session: Session) -> set[str]:
    """Documents with versions from an archive (a replay): no stored bodies to rebuild from."""
    stmt = select(Version.document_id).where(Version.extractor_version.like("archive%"))
    return set(session.scalars(stmt.distinct()))


def unfinished(session: Session) -> tuple[int, int]:
    """Fetches no run has derived yet, and runs still marked running."""
    pending = session.scalar(select(func.count(Fetch.id)).where(Fetch.processed.is_(False)))
    running = session.scalar(select(func.count(Run.id)).where(Run.status == "running"))
    return int(pending or 0), int(running or 0)


def copy_history(source: Session, copy: Session) -> None:
    """Documents, runs (as completed) and fetches (bodies included, not derived) of
    ``source`` into the empty database of ``copy``, with the same ids."""
    sync_documents(copy, [spec_of(d) for d in source.scalars(select(Document))])
    for run in source.scalars(select(Run).order_by(Run.id)):
        copy.add(Run(id=run.id, trigger=run.trigger, started_at=run.started_at,
                     finished_at=run.finished_at, status="completed", counts={}))  # fmt: skip
    copy.flush()
    for fetch in source.scalars(select(Fetch).order_by(Fetch.id)):
        body = get_blob(source, fetch.blob_hash) if fetch.blob_hash else None
        stored = record_fetch(copy, fetch.run_id, _record(fetch, body))
        # derive-time failures are the derivation's to find again
        if fetch.blob_hash is not None:
            stored.error = stored.error_detail = None


def _record(fetch: Fetch, body: bytes | None) -> FetchRecord:
    return FetchRecord(
        document_id=fetch.document_id,
        url=fetch.url,
        final_url=fetch.final_url,
        started_at=fetch.started_at,
        finished_at=fetch.finished_at or fetch.started_at,
        http_status=fetch.http_status,
        headers=dict(fetch.headers or {}),
        body=body,
        error=fetch.error,
        error_detail=fetch.error_detail,
    )
