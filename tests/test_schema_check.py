"""Opening a database whose schema is current does not import Alembic (storage/revisions.py):
the heads read from the migration files are Alembic's own, a database behind them is still
migrated, and a new one is made."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from storage.db import make_engine
from storage.migrate import head_revisions, upgrade
from storage.revisions import declared_heads, schema_is_current

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import sys
from storage.db import open_db
with open_db(sys.argv[1])() as session:
    heads = sorted(session.execute(__import__("sqlalchemy").text(
        "SELECT version_num FROM alembic_version")).scalars())
print(heads, "alembic" in sys.modules)
"""


def test_the_heads_read_from_the_files_are_alembics(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pw.db'}")
    assert declared_heads() == head_revisions(engine)


def test_a_current_database_is_opened_without_alembic_and_an_old_one_is_migrated(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'pw.db'}"
    engine = make_engine(url)
    assert not schema_is_current(engine)  # a new database: no alembic_version table
    upgrade(engine, "0002")
    assert not schema_is_current(engine)

    def probe() -> str:
        done = subprocess.run(
            [sys.executable, "-c", PROBE, url], cwd=ROOT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip()

    heads = sorted(head_revisions(engine))
    assert probe() == f"{heads} True"  # behind: migrated, Alembic imported to do it
    assert schema_is_current(engine)
    assert probe() == f"{heads} False"  # current: Alembic never imported
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0002'"))
    assert not schema_is_current(engine)
