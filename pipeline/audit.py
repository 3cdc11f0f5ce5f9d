"""Check a database's history against a re-derivation from its stored bodies.

Every fetch keeps its raw body, so the history a database should hold can be rebuilt:
copy its documents, runs and fetches (bodies included) into a fresh SQLite database and
derive them there, one at a time, oldest first, with nothing else running. Comparing the
text transitions (old text -> new text, per document, in order) of the two says what
faults and concurrency did: a transition the rebuild has and the database lacks was
lost; one the database has more often than the rebuild was stored twice.

Used by the fault-injection tests (tests/test_faults_*.py) and ``bench/chaos.py``.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from storage.blobs import get_blob
from storage.db import open_db
from storage.models import Change, Document, Fetch, Run, Version
from storage.repo import FetchRecord, record_fetch, spec_of, sync_documents

Transition = tuple[str, str | None, str]  # document id, old text hash (None: first), new


@dataclass
class AuditReport:
    expected: int = 0  # transitions the re-derivation stores
    stored: int = 0  # text transitions in the database
    lost: list[Transition] = field(default_factory=list)
    duplicated: list[Transition] = field(default_factory=list)
    out_of_order: list[str] = field(default_factory=list)  # documents whose order differs
    unprocessed: int = 0  # fetches no run has derived yet
    running: int = 0  # runs still marked running
    skipped: list[str] = field(default_factory=list)  # documents with replayed history

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.out_of_order or self.unprocessed)


def transitions(session: Session) -> dict[str, list[Transition]]:
    """Text transitions per document, in order (``seq``), as text hashes."""
    old, new = aliased(Version), aliased(Version)
    stmt = (
        select(Change.document_id, old.text_hash, new.text_hash)
        .join(new, new.id == Change.to_version_id)
        .outerjoin(old, old.id == Change.from_version_id)
        .where(Change.to_version_id.is_not(None))
        .order_by(Change.document_id, Change.seq, Change.id)
    )
    out: dict[str, list[Transition]] = {}
    for doc_id, before, after in session.execute(stmt):
        out.setdefault(doc_id, []).append((doc_id, before, after))
    return out


def replayed_documents(session: Session) -> set[str]:
    """Documents with versions from an archive (a replay): no stored bodies to rebuild from."""
    stmt = select(Version.document_id).where(Version.extractor_version.like("archive%"))
    return set(session.scalars(stmt.distinct()))


def rederive_copy(db_url: str, sources_path: str, scratch: Path) -> str:
    """A fresh SQLite database at ``scratch`` with the documents, runs and fetches of
    ``db_url``, derived there from the stored bodies; its URL."""
    from config.run import RunConfig
    from pipeline.derive import derive_versions

    target = f"sqlite:///{scratch}"
    with open_db(db_url)() as source, open_db(target).begin() as copy:
        sync_documents(copy, [spec_of(d) for d in source.scalars(select(Document))])
        for run in source.scalars(select(Run).order_by(Run.id)):
            copy.add(Run(id=run.id, trigger=run.trigger, started_at=run.started_at,
                         finished_at=run.finished_at, status="completed", counts={}))  # fmt: skip
        copy.flush()
        for fetch in source.scalars(select(Fetch).order_by(Fetch.id)):
            body = get_blob(source, fetch.blob_hash) if fetch.blob_hash else None
            stored = record_fetch(copy, fetch.run_id, _record(fetch, body))
            # derive-time failures are the derivation's to find again
            if fetch.blob_hash is not None:
                stored.error = stored.error_detail = None
    derive_versions(RunConfig(db_url=target, sources_path=sources_path), None)
    return target


def _record(fetch: Fetch, body: bytes | None) -> FetchRecord:
    return FetchRecord(
        document_id=fetch.document_id,
        url=fetch.url,
        final_url=fetch.final_url,
        started_at=fetch.started_at,
        finished_at=fetch.finished_at or fetch.started_at,
        http_status=fetch.http_status,
        headers=dict(fetch.headers or {}),
        body=body,
        error=fetch.error,
        error_detail=fetch.error_detail,
    )


def audit(db_url: str, sources_path: str) -> AuditReport:
    """Compare ``db_url``'s text transitions with a re-derivation of its stored bodies."""
    report = AuditReport()
    with open_db(db_url)() as session:
        actual = transitions(session)
        report.skipped = sorted(replayed_documents(session))
        pending = select(Fetch.id).where(Fetch.processed.is_(False))
        report.unprocessed = len(session.scalars(pending).all())
        report.running = len(session.scalars(select(Run.id).where(Run.status == "running")).all())
    with tempfile.TemporaryDirectory() as tmp:
        scratch_url = rederive_copy(db_url, sources_path, Path(tmp) / "rederived.db")
        with open_db(scratch_url)() as session:
            expected = transitions(session)
        open_db(scratch_url).kw["bind"].dispose()
    for doc_id in sorted((set(actual) | set(expected)) - set(report.skipped)):
        want, have = expected.get(doc_id, []), actual.get(doc_id, [])
        report.expected += len(want)
        report.stored += len(have)
        lost = Counter(want) - Counter(have)
        extra = Counter(have) - Counter(want)
        report.lost += list(lost.elements())
        report.duplicated += list(extra.elements())
        if not lost and not extra and want != have:
            report.out_of_order.append(doc_id)
    return report
