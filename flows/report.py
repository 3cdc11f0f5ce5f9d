"""Read-only summaries for the CLI (status)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from storage.db import open_db
from storage.models import Change, Version
from storage.repo import count_by_document, documents, last_fetch


def status_rows(db_url: str) -> list[dict[str, Any]]:
    sessions = open_db(db_url)
    with sessions() as session:
        versions = count_by_document(session, Version)
        changes = count_by_document(session, Change)
        held = dict(
            session.execute(
                select(Version.document_id, func.count())
                .where(Version.state == "held")
                .group_by(Version.document_id)
            ).all()
        )
        rows = []
        for doc in documents(session):
            fetch = last_fetch(session, doc.id)
            outcome = None
            if fetch is not None:
                outcome = fetch.error or (f"HTTP {fetch.http_status}" if fetch.http_status else "")
            rows.append(
                {
                    "document": doc.id,
                    "kind": doc.kind,
                    "last_fetch": fetch.started_at.isoformat(timespec="seconds") if fetch else None,
                    "outcome": outcome,
                    "last_error": fetch.error if fetch else None,
                    "versions": versions.get(doc.id, 0),
                    "held": held.get(doc.id, 0),
                    "changes": changes.get(doc.id, 0),
                }
            )
        return rows


def undelivered_rows(db_url: str) -> list[dict[str, Any]]:
    """Per notification target: messages not delivered yet, given up, the last error."""
    from storage.outbox import undelivered

    with open_db(db_url)() as session:
        return [
            {
                "target": u.target_id,
                "pending": u.pending,
                "failed": u.failed,
                "oldest": u.oldest.isoformat(timespec="seconds") if u.oldest else None,
                "last_error": u.last_error,
            }
            for u in undelivered(session)
        ]
