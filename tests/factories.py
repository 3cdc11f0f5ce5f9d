"""Building a real database for tests (``db_url``: SQLite, or PostgreSQL): one factory per
model a test writes directly (documents, runs, fetches, versions and their blobs, changes,
health changes, links with their sightings and checks), or one whole monitoring run over a
fake site (``run_steps``). The other tables (host leases, the installation, the
notification outbox) are written through their own storage functions, as in production.

A test module takes the ``session`` fixture with ``session = factories.session``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from changes.diff import ops_to_json, word_diff
from config.documents import DocumentSpec
from config.run import RunConfig, tracked_documents
from pipeline import derive, publishing, runs, spider_process
from storage import repo
from storage.blobs import put_text, sha256
from storage.db import open_db
from storage.models import Change, Fetch, Link, LinkCheck, LinkSighting, Run, Version
from storage.repo import sync_documents

T1 = datetime(2024, 6, 10, 9, 0, tzinfo=UTC)
T2 = datetime(2024, 6, 26, 14, 30, tzinfo=UTC)
T3 = datetime(2024, 7, 1, 8, 15, tzinfo=UTC)


def add_document(
    session: Session, doc_id: str, title: str, url: str = "https://www.facebook.com/privacy"
) -> None:
    spec = DocumentSpec(
        id=doc_id,
        service="facebook",
        title=title,
        kind="policy",
        url=url,
        page_url=None,
        locale="en",
        render="http",
        select=(),
        remove=(),
    )
    sync_documents(session, [spec])


def add_version(
    session: Session, doc_id: str, body: str, seen: datetime, effective: str | None = None
) -> Version:
    version = Version(
        document_id=doc_id,
        text_hash=sha256(body.encode()),
        text_blob=put_text(session, body),
        words=len(body.split()),
        first_seen=seen,
        last_seen=seen,
        extractor_version="1",
        effective_date=effective,
        state="accepted",
    )
    session.add(version)
    session.flush()
    return version


def add_change(
    session: Session,
    old: Version | None,
    new: Version,
    old_text: str,
    new_text: str,
    at: datetime,
    title: str,
    categories: list[str],
    summary: dict[str, object] | None = None,
    technical: bool = False,
) -> Change:
    ops = word_diff(old_text, new_text)
    change = Change(
        document_id=new.document_id,
        from_version_id=old.id if old else None,
        to_version_id=new.id,
        detected_at=at,
        diff_blob=put_text(session, ops_to_json(ops)),
        words_added=sum(len(t.split()) for op, t in ops if op == "+"),
        words_removed=sum(len(t.split()) for op, t in ops if op == "-"),
        title=title,
        categories=categories,
        summary=summary or {},
        technical=technical,
    )
    session.add(change)
    session.flush()
    return change


def add_run(
    session: Session, trigger: str = "manual", at: datetime = T1, status: str = "running"
) -> Run:
    """A run of this process, still running (``storage.repo.finish_run`` ends it), or
    already ended with ``status`` (completed, failed, crashed) at ``at``."""
    run = repo.start_run(session, trigger, at)
    if status != "running":
        run.status, run.finished_at = status, at
    return run


def add_fetch(
    session: Session,
    doc_id: str,
    started: datetime,
    error: str | None = None,
    http_status: int | None = None,
    error_detail: str | None = None,
    url: str = "https://x",
) -> Fetch:
    """A fetch attempt without a body: a failure (``error``) or a bare status."""
    fetch = Fetch(
        document_id=doc_id,
        url=url,
        started_at=started,
        error=error,
        http_status=http_status,
        error_detail=error_detail,
    )
    session.add(fetch)
    session.flush()
    return fetch


def add_link(
    session: Session,
    url: str,
    kind: str,
    outcome: str | None,
    outcome_since: datetime | None,
    first_seen: datetime = T1,
    last_seen: datetime = T3,
) -> Link:
    """An opt-out / objection link and its confirmed outcome."""
    link = Link(
        url=url,
        kind=kind,
        first_seen=first_seen,
        last_seen=last_seen,
        outcome=outcome,
        outcome_since=outcome_since,
    )
    session.add(link)
    session.flush()
    return link


def add_sighting(
    session: Session,
    link: Link,
    doc_id: str,
    anchor: str,
    context: str,
    last_seen: datetime = T3,
    present: bool = True,
    first_seen: datetime = T1,
) -> LinkSighting:
    """Where a link appears: its document, anchor text and context."""
    sighting = LinkSighting(
        link_id=link.id,
        document_id=doc_id,
        anchor=anchor,
        context=context,
        first_seen=first_seen,
        last_seen=last_seen,
        present=present,
    )
    session.add(sighting)
    session.flush()
    return sighting


def add_check(
    session: Session,
    link: Link,
    at: datetime,
    outcome: str,
    evidence: str | None,
    http_status: int | None = 200,
    final_url: str | None = None,
) -> LinkCheck:
    """One check of a link."""
    check = LinkCheck(
        link_id=link.id,
        checked_at=at,
        http_status=http_status,
        final_url=final_url,
        outcome=outcome,
        evidence=evidence,
    )
    session.add(check)
    session.flush()
    return check


def add_health_change(
    session: Session,
    kind: str,
    doc_id: str,
    at: datetime,
    title: str,
    categories: list[str],
    summary: dict[str, object],
    link: Link | None = None,
    alert: bool = True,
) -> Change:
    """A ``link-health`` or ``source-health`` change: no versions, no diff."""
    change = Change(
        kind=kind,
        document_id=doc_id,
        link_id=link.id if link else None,
        detected_at=at,
        title=title,
        categories=categories,
        summary=summary,
        alert=alert,
    )
    session.add(change)
    session.flush()
    return change


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    """A session on a fresh database (``db_url``), rolled back at the end."""
    maker = open_db(db_url)
    with maker() as s:
        yield s
        s.rollback()


def start_run(cfg: RunConfig) -> int:
    """Sync the documents of ``cfg`` and open a run, as ``pipeline.runs.run`` does; its id."""
    return runs.start(cfg.db_url, cfg.trigger, tracked_documents(cfg))


def run_steps(cfg: RunConfig) -> dict[str, int]:
    """One monitoring run, step by step: crawl, versions, changes, publish; its counts."""
    run_id = start_run(cfg)
    spider_process.crawl(cfg, run_id)
    counts = derive.derive_versions(cfg, run_id)
    publishing.publish(cfg)
    return counts
