"""Engines and sessions: SQLite by default (WAL), any SQLAlchemy URL by --db / POLICYWATCH_DB."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from config import defaults
from storage.blobstore import STORE_KEY, open_store, store_url
from storage.clean import clean_text_parameters


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
    clean_text_parameters(engine)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions on ``engine`` whose blobs go to the store POLICYWATCH_BLOBS names (or the
    default for this database: storage.blobstore)."""
    store = open_store(store_url(engine.url.render_as_string(hide_password=False)))
    return sessionmaker(engine, expire_on_commit=False, info={STORE_KEY: store})


_OPENED: dict[str, sessionmaker[Session]] = {}
_OPENING = threading.Lock()


def _open(url: str) -> sessionmaker[Session]:
    with _OPENING:
        if url not in _OPENED:
            from storage.migrate import upgrade

            engine = make_engine(url)
            upgrade(engine)
            _OPENED[url] = make_sessionmaker(engine)
        return _OPENED[url]


def open_db(url: str | None = None) -> sessionmaker[Session]:
    """Engine + schema at the newest migration + a session factory: the one entry point.

    Cached per URL, so the migration check runs once per process and database.
    """
    return _open(url or defaults.db_url())


def close_db(url: str) -> None:
    """Dispose of the engine ``open_db(url)`` cached, if any (its database may be dropped)."""
    for cached in list(_OPENED):
        if cached == url:
            _OPENED.pop(cached).kw["bind"].dispose()
