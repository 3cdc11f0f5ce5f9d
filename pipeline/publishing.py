"""The publish step: feeds and site rebuilt from the database (never diffs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from config.run import RunConfig
from feeds.publish import publish as build
from storage.db import open_db


def publish(cfg: RunConfig) -> dict[str, Any]:
    """Rebuild feeds and site into ``cfg.out_dir``; where, and how many pages and changes."""
    sessions = open_db(cfg.db_url)
    with sessions() as session:
        result = build(session, Path(cfg.out_dir), cfg.base_url)
    return {"out_dir": str(result.out_dir), "pages": result.pages, "changes": result.changes}
