"""The publish step: feeds and site rebuilt from the database (never diffs), one publisher
at a time; to a folder, or to object storage (``s3://``) through a local staging folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from config.run import RunConfig
from feeds import remote
from feeds.publish import publish as build
from storage.db import open_db
from storage.dblock import PUBLISH, database_lock


def publish(cfg: RunConfig) -> dict[str, Any]:
    """Rebuild feeds and site into ``cfg.out_dir``; where, and how many pages and changes.

    An ``s3://`` output is built in a local staging folder (feeds.remote), then mirrored.
    """
    sessions = open_db(cfg.db_url)
    to_bucket = remote.is_remote(cfg.out_dir)
    folder = remote.staging_folder(cfg.out_dir) if to_bucket else Path(cfg.out_dir)
    with database_lock(sessions.kw["bind"], PUBLISH), sessions() as session:
        result = build(session, folder, cfg.base_url)
        if to_bucket:
            remote.mirror(result.out_dir, cfg.out_dir)
    out_dir = cfg.out_dir if to_bucket else str(result.out_dir)
    return {"out_dir": out_dir, "pages": result.pages, "changes": result.changes}
