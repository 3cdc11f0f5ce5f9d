"""Read-only queries for exports: each document's text history, every change, every version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Change, Document, Version

__all__ = ["Step", "all_changes", "all_versions", "text_history"]


@dataclass(frozen=True)
class Step:
    """The document showed the text of ``version`` from ``at`` on; ``change`` led to it
    (None for the first text)."""

    at: datetime
    version: Version
    change: Change | None


def text_history(session: Session, doc: Document) -> list[Step]:
    """The texts a document showed, in order: its first accepted text, then the text each
    change led to (a text can come back). Held and dropped texts are not history, unless a
    change told what a held one added (decision 0013 §15): it was shown, and a replay of the
    export holds it and tells it again."""
    changes = session.scalars(
        select(Change)
        .where(
            Change.document_id == doc.id,
            Change.kind == "text",
            Change.to_version_id.is_not(None),
        )
        .order_by(Change.detected_at, Change.id)
    ).all()
    steps: list[Step] = []
    if changes and changes[0].from_version_id is not None:
        first = session.get(Version, changes[0].from_version_id)
        if first is not None:
            steps.append(Step(first.first_seen, first, None))
    elif not changes:
        first = session.scalars(
            select(Version)
            .where(Version.document_id == doc.id, Version.state == "accepted")
            .order_by(Version.first_seen, Version.id)
            .limit(1)
        ).first()
        if first is not None:
            steps.append(Step(first.first_seen, first, None))
    for change in changes:
        version = session.get(Version, change.to_version_id)
        if version is not None:
            steps.append(Step(change.detected_at, version, change))
    return steps


def all_changes(session: Session) -> Sequence[Change]:
    return session.scalars(select(Change).order_by(Change.detected_at, Change.id)).all()


def all_versions(session: Session) -> Sequence[Version]:
    return session.scalars(
        select(Version).order_by(Version.document_id, Version.first_seen, Version.id)
    ).all()
