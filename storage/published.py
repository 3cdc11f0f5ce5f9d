"""The reads of a publish, as plain rows: the views read only columns, and rows cost a
fraction of ORM objects at 10,000 versions (feeds/publish.py turns them into views).

Only the columns the views show are read, and the JSON and datetime columns are decoded
here rather than by their SQLAlchemy types (whose Python hooks ran 60,000 times a publish):
JSON by orjson, datetimes by :func:`datetime.fromisoformat`, to the values those types give
(``utc`` and ``json_value``; tests/test_publish_rows.py compares them with the ORM's).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from storage.models import Change, Fetch, LinkCheck, Version


class VersionRow(NamedTuple):
    """The columns of a version the site shows."""

    id: int
    document_id: str
    text_hash: str
    text_blob: str
    words: int
    first_seen: datetime
    last_seen: datetime
    effective_date: str | None


class ChangeRow(NamedTuple):
    """The columns of a change the site shows."""

    id: int
    document_id: str
    kind: str | None
    title: str | None
    detected_at: datetime
    from_version_id: int | None
    to_version_id: int | None
    link_id: int | None
    diff_blob: str | None
    words_added: int | None
    words_removed: int | None
    categories: Any
    summary: Any


def utc(value: Any) -> Any:
    """A datetime column's value as ``storage.models.UTCDateTime`` gives it: aware, in UTC.
    SQLite hands over the stored text (``2024-01-01 00:10:00.000000``, read as UTC in one
    call), other databases a datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[19] == ".":  # how SQLAlchemy stores one in SQLite
            return datetime.fromisoformat(value + "+00:00")
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def json_value(value: Any) -> Any:
    """A JSON column's value as SQLAlchemy's ``JSON`` type gives it: SQLite hands over the
    stored text, PostgreSQL's driver the decoded value."""
    if not isinstance(value, (str, bytes)):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:  # NaN, or an integer over 64 bits: the stdlib reads them
        return json.loads(value)


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


def _raw(column: Any) -> Any:
    """The column as the driver hands it over: no Python hook of its type per row."""
    return type_coerce(column, String)


def accepted_version_rows(session: Session) -> dict[str, list[VersionRow]]:
    """``repo.accepted_versions`` of every document in one query, as rows, by document."""
    c = Version.__table__.c
    stmt = select(
        c.id,
        c.document_id,
        c.text_hash,
        c.text_blob,
        c.words,
        _raw(c.first_seen),
        _raw(c.last_seen),
        c.effective_date,
    ).where(c.state == "accepted")
    # sorted here, not by the database: SQLite read the table through its document index
    # and sorted in a temporary b-tree, twice as long as scanning it (34 -> 15 ms for
    # 10,000 versions) when sorting the rows here takes 2-3 ms
    found = [
        VersionRow(i, doc, text_hash, blob, words, utc(first), utc(last), effective)
        for i, doc, text_hash, blob, words, first, last, effective in session.execute(stmt).all()
    ]
    found.sort(key=lambda v: (v.document_id, v.first_seen, v.id))
    grouped: dict[str, list[VersionRow]] = {}
    for row in found:
        grouped.setdefault(row.document_id, []).append(row)
    return grouped


def published_change_rows(session: Session) -> Sequence[ChangeRow]:
    """``repo.published_changes`` as rows: not technical, with an alert, newest first."""
    c = Change.__table__.c
    stmt = select(
        c.id,
        c.document_id,
        c.kind,
        c.title,
        _raw(c.detected_at),
        c.from_version_id,
        c.to_version_id,
        c.link_id,
        c.diff_blob,
        c.words_added,
        c.words_removed,
        _raw(c.categories),
        _raw(c.summary),
    ).where(c.technical.is_(False), c.alert.is_(True))
    make, loads = ChangeRow._make, json_value
    found = [
        make((*r[:4], utc(r[4]), *r[5:11], loads(r[11]), loads(r[12])))
        for r in session.execute(stmt).all()  # fetched at once, not row by row
    ]
    # sorted here: quicker than SQLite reading the table in the order of its detected_at
    # index (accepted_version_rows)
    found.sort(key=lambda row: (row.detected_at, row.id), reverse=True)
    return found
