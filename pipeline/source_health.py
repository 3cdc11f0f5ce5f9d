"""The source-health step: a source failing for too long is one change, its recovery another.

Forms are left out: a logged-out reader often meets a login wall there, and whether the
form works is what the link checks (pipeline/link_checks.py) report.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from changes.source_health import Failure, describe_source, source_alert
from config.run import RunConfig, sources_of
from storage.db import open_db
from storage.models import Document
from storage.source_health import (
    add_source_health_change,
    documents_fetched,
    failures_since_success,
    last_source_health,
)


def source_health(cfg: RunConfig, run_id: int) -> int:
    """Check every document fetched in this run; return the source-health changes added."""
    threshold = timedelta(hours=sources_of(cfg).crawl.alert_after_hours)
    added = 0
    with open_db(cfg.db_url).begin() as session:
        for document_id in documents_fetched(session, run_id):
            rows = failures_since_success(session, document_id)
            failures = [Failure(f.started_at, f.error or "error") for f in rows]
            last = last_source_health(session, document_id)
            down = last is not None and last.summary.get("state") == "down"
            state = source_alert(failures, down, threshold)
            if state is None:
                continue
            doc = session.get(Document, document_id)
            assert doc is not None
            now = datetime.now(UTC)
            desc = describe_source(doc.title, state, failures, now)
            add_source_health_change(session, document_id, now, run_id, desc.title, desc.summary)
            added += 1
    return added
