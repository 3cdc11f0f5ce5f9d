"""The source-health step: a source failing for too long is one change, its recovery another.

Forms are left out: a logged-out reader often meets a login wall there, and whether the
form works is what the link checks (pipeline/link_checks.py) report.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from changes.source_health import Failure, describe_source, source_alert
from config.run import RunConfig, sources_of
from storage.db import open_db
from storage.models import Change, Document, Fetch


def source_health(cfg: RunConfig, run_id: int) -> int:
    """Check every document fetched in this run; return the source-health changes added."""
    threshold = timedelta(hours=sources_of(cfg).crawl.alert_after_hours)
    added = 0
    with open_db(cfg.db_url).begin() as session:
        fetched = session.scalars(
            select(Fetch.document_id)
            .join(Document, Document.id == Fetch.document_id)
            .where(Fetch.run_id == run_id, Document.kind != "form")  # forms: see check_links
            .distinct()
        ).all()
        for document_id in sorted(fetched):
            last_ok = session.scalar(
                select(func.max(Fetch.id)).where(
                    Fetch.document_id == document_id, Fetch.error.is_(None)
                )
            )
            rows = session.scalars(
                select(Fetch)
                .where(Fetch.document_id == document_id, Fetch.id > (last_ok or 0))
                .order_by(Fetch.id)
            ).all()
            failures = [Failure(f.started_at, f.error or "error") for f in rows]
            last = session.scalars(
                select(Change)
                .where(Change.document_id == document_id, Change.kind == "source-health")
                .order_by(Change.id.desc())
            ).first()
            down = last is not None and last.summary.get("state") == "down"
            state = source_alert(failures, down, threshold)
            if state is None:
                continue
            doc = session.get(Document, document_id)
            assert doc is not None
            now = datetime.now(UTC)
            desc = describe_source(doc.title, state, failures, now)
            session.add(
                Change(
                    kind="source-health",
                    document_id=document_id,
                    detected_at=now,
                    run_id=run_id,
                    title=desc.title,
                    categories=["source-health"],
                    summary=desc.summary,
                )
            )
            added += 1
    return added
