"""The retention step: raw bodies of the documents this run fetched that showed an unchanged
text are dropped, but for the first and last of each unchanged run (storage.retention)."""

from __future__ import annotations

from config.run import RunConfig
from storage.db import open_db
from storage.repo import fetched_documents
from storage.retention import prune_unchanged_bodies


def drop_unchanged_bodies(cfg: RunConfig, run_id: int) -> int:
    """The retention rule for the documents run ``run_id`` fetched; bodies dropped."""
    with open_db(cfg.db_url).begin() as session:
        return prune_unchanged_bodies(session, fetched_documents(session, run_id))
