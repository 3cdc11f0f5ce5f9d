"""Alembic, driven from code so that every command brings the schema up to date.

Many processes may start together on one new database (several workers, two crawls): the
migration runs under a lock, a PostgreSQL advisory lock or, for SQLite, a lock file beside
the database, and is skipped by whoever finds the schema already at the newest revision once
the lock is theirs. So N processes starting together migrate once, and none fails.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from storage.dblock import MIGRATE, database_lock

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database is at (empty for a new database)."""
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def head_revisions(engine: Engine) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def upgrade(engine: Engine, revision: str = "heads") -> bool:
    """Bring the schema to ``revision`` (default: the newest); True if this call migrated."""
    if revision == "heads" and current_revisions(engine) == head_revisions(engine):
        return False
    with database_lock(engine, MIGRATE):
        if revision == "heads" and current_revisions(engine) == head_revisions(engine):
            return False  # another process migrated while this one waited
        command.upgrade(alembic_config(engine), revision)
    engine.dispose()  # a migration may have changed connection pragmas (0003w on SQLite)
    return True
