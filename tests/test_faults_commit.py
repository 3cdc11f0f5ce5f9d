"""Faults at each commit point of deriving, in-process: nothing lost, nothing stored twice.

Fetches are stored as the spider stores them (real pages, real SQLite or PostgreSQL by the
``db_url`` fixture); the derivation is
then failed at each point of a document's transaction (after its version is written, while
its change is written, at the commit itself, by a kill-like interrupt between documents, by
a lock held past the busy timeout). After each fault, the document's history is unchanged
and its fetch left for the next run; the next run completes it, and the database matches a
re-derivation of its stored bodies: every transition exactly once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from config.run import RunConfig
from config.sources import load_sources
from pipeline import derive, runs
from pipeline.audit import audit
from storage.db import open_db
from storage.models import Change, Document, Fetch, Run
from storage.repo import FetchRecord, record_fetch, start_run, sync_documents
from tests.conftest import write_sources

FILLER = " ".join(f"word{i}" for i in range(120))
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def page(*paragraphs: str) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in (*paragraphs, FILLER))
    return f"<html><body><div id='root'><h1>Privacy</h1>{body}</div></body></html>".encode()


V1 = page("Provide Meta Products: performance of a contract.")
V2 = page(
    "Provide Meta Products: performance of a contract.",
    "Develop and improve AI at Meta: legitimate interests.",
)


class History:
    """A database with documents ``a`` and ``b`` and a way to store fetches into it."""

    def __init__(self, tmp: Path, db_url: str) -> None:
        self.db = db_url
        self.sources = write_sources(
            tmp / "sources.toml",
            [{"id": "a", "url": "https://a.example/p"}, {"id": "b", "url": "https://b.example/p"}],
        )
        self.cfg = RunConfig(db_url=self.db, sources_path=str(self.sources))
        self.at = T0
        with open_db(self.db).begin() as s:
            sync_documents(s, load_sources(self.sources).documents)

    def run(self) -> int:
        with open_db(self.db).begin() as s:
            return start_run(s, "manual").id

    def fetch(self, run_id: int, doc: str, body: bytes) -> None:
        self.at += timedelta(hours=6)
        url = f"https://{doc}.example/p"
        headers = {"content-type": "text/html; charset=utf-8"}
        rec = FetchRecord(doc, url, url, self.at, self.at, 200, headers, body, None)
        with open_db(self.db).begin() as s:
            record_fetch(s, run_id, rec)

    def derive(self) -> dict[str, int]:
        return derive.derive_versions(self.cfg, None)

    def changes(self, doc: str) -> int:
        with open_db(self.db)() as s:
            where = (Change.document_id == doc, Change.to_version_id.is_not(None))
            return s.scalar(select(func.count()).select_from(Change).where(*where)) or 0

    def state(self, doc: str) -> tuple[int | None, int]:
        """(current version id, unprocessed fetches) of ``doc``."""
        with open_db(self.db)() as s:
            current = s.get(Document, doc).current_version_id  # type: ignore[union-attr]
            pending = s.scalar(
                select(func.count()).where(Fetch.document_id == doc, Fetch.processed.is_(False))
            )
        return current, pending or 0

    def exactly_once(self) -> None:
        report = audit(self.db, str(self.sources))
        assert report.ok, report
        assert report.expected == report.stored


@pytest.fixture
def history(tmp_path: Path, db_url: str) -> History:
    h = History(tmp_path, db_url)
    first = h.run()
    h.fetch(first, "a", V1)
    h.fetch(first, "b", V1)
    h.derive()
    second = h.run()
    h.fetch(second, "a", V2)
    h.fetch(second, "b", V2)
    return h


def _fail_once(real: Callable[..., Any], error: BaseException) -> Callable[..., Any]:
    calls = {"n": 0}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise error
        return real(*args, **kwargs)

    return wrapper


@pytest.mark.parametrize(
    "point",
    [
        "pipeline.derive.record_change",  # the version is written, the change not yet
        "storage.history.put_text",  # the change's diff is being written
        "storage.history.next_seq",  # the change is being numbered
    ],
)
def test_disk_full_inside_the_transaction_leaves_the_fetch_for_the_next_run(
    history: History, monkeypatch: pytest.MonkeyPatch, point: str
) -> None:
    before = history.state("a")
    module, name = point.rsplit(".", 1)
    import importlib

    target = importlib.import_module(module)
    monkeypatch.setattr(target, name, _fail_once(getattr(target, name), _disk_full_error()))
    counts = history.derive()
    assert counts["deferred"] == 1 and counts["changes"] == 1  # b went on
    assert history.state("a") == (before[0], 1)  # no new current version, fetch pending
    assert history.changes("a") == 0 and history.changes("b") == 1
    monkeypatch.undo()
    counts = history.derive()
    assert counts["changes"] == 1 and history.changes("a") == 1
    history.exactly_once()


def _disk_full_error() -> OperationalError:
    return OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full"))


def test_a_failed_commit_loses_nothing(history: History, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.orm import Session

    monkeypatch.setattr(Session, "commit", _fail_once(Session.commit, _disk_full_error()))
    counts = history.derive()
    assert counts["deferred"] == 1
    monkeypatch.undo()
    history.derive()
    assert history.changes("a") == 1 and history.changes("b") == 1
    history.exactly_once()


@pytest.mark.parametrize("error", [KeyboardInterrupt(), SystemExit(143)])
def test_a_kill_inside_the_transaction_is_undone_and_redone_by_the_next_run(
    history: History, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    """SIGTERM or Ctrl-C while a change is being written: the run stops, nothing half-done."""
    monkeypatch.setattr(derive, "record_change", _fail_once(derive.record_change, error))
    with pytest.raises(type(error)):
        history.derive()
    assert history.state("a")[1] == 1 and history.changes("a") == 0
    monkeypatch.undo()
    history.derive()
    history.exactly_once()


def test_a_run_that_died_between_documents_is_closed_and_its_fetches_recovered(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies after document a's commit: b's fetch waits, its run stays running."""
    real = derive.derive_document

    def die_after_a(sessions: Any, document_id: str, *args: Any) -> None:
        if document_id == "b":
            raise SystemExit(137)
        real(sessions, document_id, *args)

    monkeypatch.setattr(derive, "derive_document", die_after_a)
    with pytest.raises(SystemExit):
        history.derive()
    monkeypatch.undo()
    assert history.changes("a") == 1 and history.state("b")[1] == 1
    with open_db(history.db).begin() as s:  # the dead run: another process id, gone
        s.add(Run(trigger="manual", started_at=T0, status="running", host=_host(), pid=_dead()))
    run_id = runs.start(history.db, "manual")
    with open_db(history.db)() as s:
        assert [r.status for r in s.scalars(select(Run).where(Run.pid == _dead()))] == ["crashed"]
    counts = derive.derive_versions(history.cfg, run_id)
    assert counts["changes"] == 1 and history.changes("b") == 1
    history.exactly_once()


def _host() -> str:
    from storage.runs import this_host

    return this_host()


def _dead() -> int:
    """A process id that no process has (the pid space's top)."""
    return int(Path("/proc/sys/kernel/pid_max").read_text()) - 1


@pytest.mark.sqlite_only  # SQLite's busy timeout; PostgreSQL waits on the row lock
def test_a_lock_held_past_the_busy_timeout_defers_the_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.db

    real = storage.db._sqlite_pragmas

    def short_timeout(conn: Any, record: Any) -> None:
        real(conn, record)
        conn.execute("PRAGMA busy_timeout=200")

    monkeypatch.setattr(storage.db, "_sqlite_pragmas", short_timeout)
    h = History(tmp_path, f"sqlite:///{tmp_path / 'pw.db'}")
    first = h.run()
    h.fetch(first, "a", V1)
    h.derive()
    h.fetch(h.run(), "a", V2)
    blocker = sqlite3.connect(tmp_path / "pw.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer, for longer than the timeout
    try:
        counts = h.derive()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert counts["deferred"] == 1 and h.state("a")[1] == 1
    assert h.derive()["changes"] == 1
    h.exactly_once()


def test_a_transition_cannot_be_stored_twice(history: History) -> None:
    """The uniqueness rule: a second change with the same number is refused by the database."""
    from sqlalchemy.exc import IntegrityError

    history.derive()
    with open_db(history.db)() as s:
        change = s.scalars(select(Change).where(Change.document_id == "a")).one()
        s.add(
            Change(
                document_id="a",
                from_version_id=change.from_version_id,
                to_version_id=change.to_version_id,
                detected_at=change.detected_at,
                title="again",
                seq=change.seq,
            )  # fmt: skip
        )
        with pytest.raises(IntegrityError):
            s.flush()


def test_the_audit_sees_a_lost_and_a_doubled_transition(history: History) -> None:
    """The check itself can fail: a change deleted is lost, a change copied is doubled."""
    history.derive()
    with open_db(history.db).begin() as s:
        a = s.scalars(select(Change).where(Change.document_id == "a")).one()
        b = s.scalars(select(Change).where(Change.document_id == "b")).one()
        s.add(
            Change(
                document_id="a",
                from_version_id=a.from_version_id,
                to_version_id=a.to_version_id,
                detected_at=a.detected_at,
                title="again",
                seq=a.seq + 1,
            )  # fmt: skip
        )
        s.delete(b)
    report = audit(history.db, str(history.sources))
    assert not report.ok
    assert [t[0] for t in report.duplicated] == ["a"] and [t[0] for t in report.lost] == ["b"]
