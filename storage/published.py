"""The reads of a publish, as plain rows: the views read only columns, and rows cost a
fraction of ORM objects at 10,000 versions (feeds/publish.py turns them into views)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Change, Fetch, LinkCheck, Version


def data_marks(session: Session) -> tuple[str, tuple[int, ...]]:
    """What a publish reads, in two values: the database (by its first version, so that
    another database is never taken for this one) and the highest ids of the changes,
    versions, fetches and link checks the site shows."""
    first = session.execute(
        select(Version.id, Version.text_hash).order_by(Version.id).limit(1)
    ).first()
    marks = session.execute(
        select(
            select(func.max(Change.id)).scalar_subquery(),
            select(func.max(Version.id)).scalar_subquery(),
            select(func.max(Fetch.id)).scalar_subquery(),
            select(func.max(LinkCheck.id)).scalar_subquery(),
        )
    ).one()
    source = f"{first[0]}:{first[1]}" if first else ""
    return source, tuple(m or 0 for m in marks)


def accepted_version_rows(session: Session) -> dict[str, list[Any]]:
    """``repo.accepted_versions`` of every document in one query, as rows, by document."""
    table = Version.__table__
    stmt = (
        select(table)
        .where(table.c.state == "accepted")
        .order_by(table.c.document_id, table.c.first_seen, table.c.id)
    )
    grouped: dict[str, list[Any]] = {}
    for row in session.execute(stmt):
        grouped.setdefault(row.document_id, []).append(row)
    return grouped


def published_change_rows(session: Session) -> Sequence[Any]:
    """``repo.published_changes`` as rows: not technical, with an alert, newest first."""
    table = Change.__table__
    return session.execute(
        select(table)
        .where(table.c.technical.is_(False), table.c.alert.is_(True))
        .order_by(table.c.detected_at.desc(), table.c.id.desc())
    ).all()
