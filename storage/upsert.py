"""INSERT ... ON CONFLICT for the two backends: writes that two processes may race to make."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def insert(session: Session, model: Any) -> Any:
    """An ``insert(model)`` of the session's dialect, which has ``on_conflict_do_*``
    (only that dialect's module imported: PostgreSQL's is about 3 MB in every process)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(model)
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(model)
    raise NotImplementedError(f"no upsert for {dialect!r}: use SQLite or PostgreSQL")
