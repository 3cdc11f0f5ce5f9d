"""Shared fixtures: a database (SQLite, or PostgreSQL by POLICYWATCH_TEST_DB), a local
stand-in for Meta, a sources file for it, one Prefect harness."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# pytest-xdist's workers inherit COLUMNS=80 and LINES from execnet; Rich would freeze the
# CLI's console at that width when cli/ is imported, and tests that pass a wider COLUMNS to
# one command would get a table cut at 80 columns.
for _size in ("COLUMNS", "LINES"):
    os.environ.pop(_size, None)

from demo.server import FakeMeta  # noqa: E402

#: ``postgresql+psycopg://user@host:port/dbname`` runs the database tests on that server, each
#: in a database of its own (created, then dropped); unset or ``sqlite``: a SQLite file each.
TEST_DB = os.environ.get("POLICYWATCH_TEST_DB", "").strip()


def on_postgres() -> bool:
    return TEST_DB.startswith("postgresql")


@contextmanager
def fresh_db_url(folder: Path) -> Iterator[str]:
    """The URL of a new, empty database: a SQLite file in ``folder``, or a PostgreSQL database
    made on the POLICYWATCH_TEST_DB server for the duration (dropped afterwards)."""
    if not on_postgres():
        yield f"sqlite:///{folder / 'pw.db'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from storage.db import close_db

    server = make_url(TEST_DB)
    name = f"pw_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        close_db(url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    """A new, empty database for one test (see :func:`fresh_db_url`)."""
    with fresh_db_url(tmp_path) as url:
        yield url


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: tests SQLite itself (PRAGMAs, files); skipped on PostgreSQL"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not on_postgres():
        return
    skip = pytest.mark.skip(reason="SQLite only (POLICYWATCH_TEST_DB is PostgreSQL)")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def prefect() -> Iterator[None]:
    """One temporary Prefect API for the whole session (it costs ~17 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def site() -> Iterator[FakeMeta]:
    with FakeMeta() as fake:
        yield fake


def write_sources(
    path: Path, docs: list[dict[str, object]], timeout: float = 3.0, min_words: int = 30
) -> Path:
    """A sources.toml for documents served by the local stand-in."""
    lines = [
        "[crawl]",
        "download_delay = 0.0",
        f"timeout = {timeout}",
        f"min_words = {min_words}",
        "",
    ]
    for doc in docs:
        lines.append("[[document]]")
        entry = {"service": "Test", "kind": "policy", "select": ["#root"], **doc}
        entry.setdefault("title", str(entry["id"]).replace("-", " ").title())
        for key, value in entry.items():
            if isinstance(value, list):
                lines.append(f"{key} = [{', '.join(repr(v) for v in value)}]")
            else:
                lines.append(f"{key} = {value!r}")
        lines.append("")
    path.write_text("\n".join(lines).replace("'", '"'), encoding="utf-8")
    return path
