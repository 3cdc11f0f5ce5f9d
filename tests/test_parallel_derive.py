"""Deriving documents in parallel on Prefect's task runner stores what deriving them one after
another stores: the same versions, the same changes (titles, categories, summaries, numbers),
the same counts. On SQLite and (POLICYWATCH_TEST_DB) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner
from sqlalchemy import select

from config.run import RunConfig, tracked_documents
from flows.monitor import derive_all
from pipeline import derive
from pipeline.audit import audit, rederive_copy
from storage.db import close_db, open_db
from storage.models import Change, Document, Fetch, Version
from storage.repo import FetchRecord, record_fetch, sync_documents
from tests.conftest import write_sources

DOCUMENTS = [f"doc-{i}" for i in range(8)]
FILLER = " ".join(f"word{i}" for i in range(60))
EDITS = [
    "We collect the information you give us.",
    "We collect the information you give us.",  # the same text again
    "We collect the information you give us and use it to train AI at Meta.",
    "We collect information you give us. Our legal basis is legitimate interests.",
]
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def page(doc: str, sentence: str) -> bytes:
    html = f"<html><body><div id='root'><h1>{doc}</h1><p>{sentence}</p><p>{FILLER}</p></div>"
    return (html + "</body></html>").encode()


def store_fetches(db_url: str, sources: Path) -> RunConfig:
    """Four unprocessed fetches of each document, interleaved as a crawl stores them."""
    cfg = RunConfig(db_url=db_url, sources_path=str(sources))
    with open_db(db_url).begin() as session:
        sync_documents(session, tracked_documents(cfg))
        for n, sentence in enumerate(EDITS):
            for i, doc in enumerate(DOCUMENTS):
                at = T0 + timedelta(hours=n, seconds=i)
                # one document's third fetch fails: a typed failure between two texts
                fails = doc == "doc-3" and n == 2
                record_fetch(
                    session,
                    None,
                    FetchRecord(
                        document_id=doc,
                        url=f"https://www.facebook.com/{doc}",
                        final_url=f"https://www.facebook.com/{doc}",
                        started_at=at,
                        finished_at=at + timedelta(seconds=1),
                        http_status=None if fails else 200,
                        headers={"content-type": "text/html; charset=utf-8"},
                        body=None if fails else page(doc, f"{sentence} ({doc})"),
                        error="timeout" if fails else None,
                    ),
                )
    return cfg


def history(db_url: str) -> dict[str, Any]:
    """What deriving stored, without row ids: versions and text changes per document."""
    with open_db(db_url)() as session:
        versions = sorted(
            (v.document_id, v.text_hash, v.state, v.words, v.first_seen, v.last_seen)
            for v in session.scalars(select(Version))
        )
        changes = sorted(
            (
                c.document_id,
                c.seq,
                c.title,
                tuple(c.categories),
                repr(c.summary),
                c.alert,
                c.words_added,
                c.words_removed,
            )  # fmt: skip
            for c in session.scalars(select(Change).where(Change.kind == "text"))
        )
        current = sorted(
            (d.id, d.current_version.text_hash if d.current_version else None)
            for d in session.scalars(select(Document))
        )
        pending = session.scalars(select(Fetch.id).where(Fetch.processed.is_(False))).all()
    return {
        "versions": versions,
        "changes": changes,
        "current": current,
        "unprocessed": len(pending),
    }


@flow(task_runner=ThreadPoolTaskRunner(max_workers=4))
def derive_in_parallel(cfg: RunConfig) -> dict[str, int]:
    return derive_all(cfg, None)


@pytest.mark.usefixtures("prefect")
def test_parallel_derive_stores_what_a_serial_derive_stores(db_url: str, tmp_path: Path) -> None:
    sources = write_sources(
        tmp_path / "sources.toml",
        [{"id": d, "url": f"https://www.facebook.com/{d}"} for d in DOCUMENTS],
    )
    cfg = store_fetches(db_url, sources)

    counts = derive_in_parallel(cfg)

    serial_url = rederive_copy(db_url, str(sources), tmp_path / "serial.db")
    try:
        parallel, serial = history(db_url), history(serial_url)
        assert parallel == serial
        assert parallel["unprocessed"] == 0
        # 8 documents x (AI edit, legal-basis edit), less doc-3's AI edit, which failed
        assert len(parallel["changes"]) == 15
        assert counts["changes"] == 15 and counts["failures"] == 1 and counts["deferred"] == 0
        assert counts["fetches"] == 4 * len(DOCUMENTS)
        assert audit(db_url, str(sources)).ok
    finally:
        close_db(serial_url)


def test_counts_of_documents_add_up_to_the_counts_of_a_whole_derive(
    db_url: str, tmp_path: Path
) -> None:
    sources = write_sources(
        tmp_path / "sources.toml",
        [{"id": d, "url": f"https://www.facebook.com/{d}"} for d in DOCUMENTS],
    )
    cfg = store_fetches(db_url, sources)
    per_document = [
        derive.derive_one_document(cfg, None, d) for d in derive.documents_to_derive(cfg)
    ]
    whole = derive.derive_versions(cfg, None)  # nothing left: all zero
    assert derive.add_counts(per_document) == {
        "fetches": 32, "failures": 1, "same": 8, "new": 23, "held": 0, "confirmed": 0,
        "feeds": 0, "changes": 15, "deferred": 0,
    }  # fmt: skip
    assert set(whole.values()) == {0}
