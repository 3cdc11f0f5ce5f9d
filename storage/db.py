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
from storage.revisions import schema_is_current


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class DatabaseUrlError(ValueError):
    """A database URL that cannot work; the message says why and what to write instead."""


_EXAMPLES = "sqlite:///var/policywatch.db or postgresql+psycopg://user:pass@host/policywatch"


def check_url(url: str, must_exist: bool = False) -> None:
    """Raise :class:`DatabaseUrlError` unless ``url`` names a database policywatch can open:
    a URL SQLAlchemy reads, a dialect and driver that are installed, and for SQLite a file
    path that is not a folder (and exists, with ``must_exist``). Touches nothing on disk."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUrlError(f"{url!r} is not a database URL; use {_EXAMPLES}") from exc
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError as exc:
        raise DatabaseUrlError(
            f"unknown database kind {parsed.drivername!r} in {url!r}; use {_EXAMPLES}"
        ) from exc
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        if dialect.name == "postgresql":
            raise DatabaseUrlError(
                f"the PostgreSQL driver for {parsed.drivername!r} is not installed: "
                "pip install -e '.[postgres]' and use postgresql+psycopg://..."
            ) from exc
        raise DatabaseUrlError(f"the driver for {parsed.drivername!r} is not installed") from exc
    if dialect.name == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if path.is_dir():
            raise DatabaseUrlError(f"{path} is a folder, not a database file; name a file in it")
        if must_exist and not path.is_file():
            raise DatabaseUrlError(
                f"no database at {path}: check the path (or run `policywatch crawl` to create it)"
            )


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
            engine = make_engine(url)
            if not schema_is_current(engine):  # Alembic is imported only then
                from storage.migrate import upgrade

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
