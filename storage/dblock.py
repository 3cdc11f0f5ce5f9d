"""Locks held by one process at a time per database, across processes and machines: a
PostgreSQL advisory lock, or for SQLite a lock file beside the database (SQLite databases
are on one machine). Used around migrations and publishing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock
from sqlalchemy import Engine, text

#: Advisory lock keys (any constant 64-bit numbers): "policy" + a number.
MIGRATE = 0x706F6C6963790001
PUBLISH = 0x706F6C6963790002
_NAMES = {MIGRATE: "migrate", PUBLISH: "publish"}


@contextmanager
def database_lock(engine: Engine, key: int, timeout: float = 600) -> Iterator[None]:
    """Hold the lock ``key`` of ``engine``'s database for the duration."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
    elif engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        path = Path(engine.url.database or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{path}.{_NAMES.get(key, key)}-lock", timeout=timeout):
            yield
    else:
        yield
