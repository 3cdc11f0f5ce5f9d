"""Queries and writes of the source-health step: failing fetches, source-health changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Change, Document, Fetch


def documents_fetched(session: Session, run_id: int) -> list[str]:
    """The ids of the documents this run fetched, forms left out, sorted."""
    rows = session.scalars(
        select(Fetch.document_id)
        .join(Document, Document.id == Fetch.document_id)
        .where(Fetch.run_id == run_id, Document.kind != "form")  # forms: link checks tell
        .distinct()
    ).all()
    return sorted(rows)


def failures_since_success(session: Session, document_id: str) -> Sequence[Fetch]:
    """The fetches of a document after its last successful one (all if none), oldest first."""
    last_ok = session.scalar(
        select(func.max(Fetch.id)).where(Fetch.document_id == document_id, Fetch.error.is_(None))
    )
    return session.scalars(
        select(Fetch)
        .where(Fetch.document_id == document_id, Fetch.id > (last_ok or 0))
        .order_by(Fetch.id)
    ).all()


def last_source_health(session: Session, document_id: str) -> Change | None:
    """The newest source-health change of a document."""
    return session.scalars(
        select(Change)
        .where(Change.document_id == document_id, Change.kind == "source-health")
        .order_by(Change.id.desc())
    ).first()


def add_source_health_change(
    session: Session,
    document_id: str,
    at: datetime,
    run_id: int | None,
    title: str,
    summary: dict[str, object],
) -> Change:
    """A ``source-health`` change: no versions, no diff; the source went down or came back."""
    change = Change(
        kind="source-health",
        document_id=document_id,
        detected_at=at,
        run_id=run_id,
        title=title,
        categories=["source-health"],
        summary=summary,
    )
    session.add(change)
    session.flush()
    return change
