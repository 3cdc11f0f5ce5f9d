"""Engines and sessions: SQLite by default (WAL), any SQLAlchemy URL by --db / POLICYWATCH_DB."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from config import defaults


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    """An engine for ``url``; for SQLite, creates the parent folder and sets WAL pragmas."""
    url = url or defaults.db_url()
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@functools.cache
def _open(url: str) -> sessionmaker[Session]:
    from storage.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    return make_sessionmaker(engine)


def open_db(url: str | None = None) -> sessionmaker[Session]:
    """Engine + schema at the newest migration + a session factory: the one entry point.

    Cached per URL, so the migration check runs once per process and database.
    """
    return _open(url or defaults.db_url())
