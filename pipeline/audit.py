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

from storage.audit import (
    Transition,
    copy_history,
    replayed_documents,
    transitions,
    unfinished,
)
from storage.db import open_db


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


def rederive_copy(db_url: str, sources_path: str, scratch: Path) -> str:
    """A fresh SQLite database at ``scratch`` with the documents, runs and fetches of
    ``db_url``, derived there from the stored bodies; its URL."""
    from config.run import RunConfig
    from pipeline.derive import derive_versions

    target = f"sqlite:///{scratch}"
    with open_db(db_url)() as source, open_db(target).begin() as copy:
        copy_history(source, copy)
    derive_versions(RunConfig(db_url=target, sources_path=sources_path), None)
    return target


def audit(db_url: str, sources_path: str) -> AuditReport:
    """Compare ``db_url``'s text transitions with a re-derivation of its stored bodies."""
    report = AuditReport()
    with open_db(db_url)() as session:
        actual = transitions(session)
        report.skipped = sorted(replayed_documents(session))
        report.unprocessed, report.running = unfinished(session)
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
