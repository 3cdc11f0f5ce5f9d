"""Read-only summaries for the CLI (status)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from feeds.timeline import failing_now
from storage.db import open_db
from storage.hosts import last_requests
from storage.models import Change, Version
from storage.repo import (
    count_by_document,
    documents,
    failed_fetches,
    fetch_outcomes,
    held_by_document,
    last_fetch,
)


def status_rows(db_url: str) -> list[dict[str, Any]]:
    sessions = open_db(db_url)
    with sessions() as session:
        versions = count_by_document(session, Version)
        changes = count_by_document(session, Change)
        held = held_by_document(session)
        hosts = dict(last_requests(session))
        failing = failing_now(fetch_outcomes(session))
        rows = []
        for doc in documents(session):
            fail = failing.get(doc.id)
            host = urlsplit(doc.url).hostname or ""
            last_request = hosts.get(host)
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
                    "error_detail": fetch.error_detail if fetch and fetch.error else None,
                    "failing_since": fail.since.isoformat(timespec="seconds") if fail else None,
                    "failed_fetches": fail.count if fail else 0,
                    "versions": versions.get(doc.id, 0),
                    "held": held.get(doc.id, 0),
                    "changes": changes.get(doc.id, 0),
                    "host": host,
                    # the last request to the host by any process (with a crawl delay set)
                    "host_last_request": last_request.isoformat(timespec="seconds")
                    if last_request
                    else None,
                }
            )
        return rows


def host_rows(db_url: str) -> list[dict[str, Any]]:
    """Each host crawled with a delay, and when any process last started a request to it."""
    with open_db(db_url)() as session:
        return [
            {"host": host, "last_request": at.isoformat(timespec="seconds") if at else None}
            for host, at in last_requests(session)
        ]


def run_failures(db_url: str, run_id: int) -> list[dict[str, Any]]:
    """The failed fetches of one run: document, error type, HTTP status and detail."""
    with open_db(db_url)() as session:
        rows = failed_fetches(session, run_id)
        return [
            {
                "document": f.document_id,
                "url": f.url,
                "error": f.error,
                "http_status": f.http_status,
                "detail": f.error_detail,
            }
            for f in rows
        ]


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
