"""Every default of policywatch, in one place: the CLI, the flows and the demo read them here."""

from __future__ import annotations

import os
from pathlib import Path

#: The SQLite file used when neither --db nor POLICYWATCH_DB names a database.
DB_PATH = Path("var") / "policywatch.db"
#: The sources file read when --sources is not given.
SOURCES_PATH = Path("sources.toml")
#: The folder feeds and site are published to.
OUT_DIR = Path("public")
#: The public URL of OUT_DIR, as feeds and pages link to it.
BASE_URL = "http://localhost:8000/"
#: When `policywatch serve` runs the monitor flow (cron, UTC): every six hours.
CRON = "0 */6 * * *"
#: A text that returns within this window after the document last showed it is a page
#: flipping back (no alert), not news; partial-render blocks coming back within it are
#: restored, not added.
FLAP_WINDOW_DAYS = 60.0


def db_url() -> str:
    """POLICYWATCH_DB if set, else the SQLite file ``var/policywatch.db`` below the cwd."""
    return os.environ.get("POLICYWATCH_DB") or f"sqlite:///{DB_PATH}"
