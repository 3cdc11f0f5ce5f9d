"""Deriving documents in parallel on Prefect's task runner stores what deriving them one after
another stores: the same versions, the same changes (titles, categories, summaries, numbers),
the same counts. On SQLite and (POLICYWATCH_TEST_DB) PostgreSQL.

Documents are derived in batches, each batch holding its documents' Prefect slots (taken in
one call) on the session's Prefect API; a document whose derive raises fails alone, and a
document another holder keeps busy is left for the next run while its batch goes on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner
from sqlalchemy import select

from config.run import RunConfig, tracked_documents
from flows import monitor, slots
from flows.monitor import DeriveFailed, batches, derive_all
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


@flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
def derive_in_parallel(cfg: RunConfig) -> dict[str, int]:
    return derive_all(cfg, None, workers=2)  # 4 batches of 2 documents


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


def test_batches_cut_the_documents_in_order_into_near_equal_runs() -> None:
    docs = [f"d{i}" for i in range(10)]
    assert batches(docs, 4) == [docs[0:3], docs[3:6], docs[6:8], docs[8:10]]
    assert batches(docs, 1) == [docs]
    assert batches(docs[:3], 8) == [["d0"], ["d1"], ["d2"]]
    assert batches([], 8) == []


def active_slots(document_id: str) -> int:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(slots.limit_name(document_id))
        return int(limit.active_slots)


@pytest.mark.usefixtures("prefect")
def test_a_batch_takes_all_its_slots_or_none() -> None:
    assert slots.shared_server()  # the session's Prefect API stands for a shared server
    batch = ["slot-a", "slot b/c", "slot-d"]
    with slots.all_at_once(batch) as held:
        assert held
        assert [active_slots(doc) for doc in batch] == [1, 1, 1]
    assert [active_slots(doc) for doc in batch] == [0, 0, 0]
    with slots.one_at_a_time("slot-d") as held:
        assert held
        with slots.all_at_once(batch, wait_seconds=1.0) as batch_held:
            assert not batch_held
            assert [active_slots(doc) for doc in batch] == [0, 0, 1]  # none taken
    assert active_slots("slot-d") == 0


@pytest.mark.usefixtures("prefect")
def test_a_document_held_elsewhere_is_left_for_the_next_run_and_its_batch_goes_on(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = write_sources(
        tmp_path / "sources.toml",
        [{"id": d, "url": f"https://www.facebook.com/{d}"} for d in DOCUMENTS],
    )
    cfg = store_fetches(db_url, sources)
    monkeypatch.setattr(monitor, "BATCH_WAIT_SECONDS", 1.0)
    monkeypatch.setattr(slots, "WAIT_SECONDS", 1.0)
    with slots.one_at_a_time("doc-2") as held:  # another run derives doc-2 meanwhile
        assert held
        counts = derive_in_parallel(cfg)
    assert counts["deferred"] == 1  # doc-2's first fetch, counted among the fetches
    assert counts["fetches"] - counts["deferred"] == 4 * (len(DOCUMENTS) - 1)
    with open_db(db_url)() as session:
        left = session.scalars(select(Fetch.document_id).where(Fetch.processed.is_(False))).all()
    assert left == ["doc-2"] * 4
    assert active_slots("doc-2") == 0 and active_slots("doc-3") == 0


@pytest.mark.usefixtures("prefect")
def test_a_document_whose_derive_raises_fails_alone(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = write_sources(
        tmp_path / "sources.toml",
        [{"id": d, "url": f"https://www.facebook.com/{d}"} for d in DOCUMENTS],
    )
    cfg = store_fetches(db_url, sources)
    real = derive.derive_one_document

    def breaks_on_doc_4(cfg: RunConfig, run_id: int | None, document_id: str) -> dict[str, int]:
        if document_id == "doc-4":  # first of its batch: the batch's second must still run
            raise RuntimeError("the disk went away")
        return real(cfg, run_id, document_id)

    monkeypatch.setattr(derive, "derive_one_document", breaks_on_doc_4)
    with pytest.raises(DeriveFailed, match="doc-4.*the disk went away"):
        derive_in_parallel(cfg)
    with open_db(db_url)() as session:
        left = session.scalars(select(Fetch.document_id).where(Fetch.processed.is_(False))).all()
    assert left == ["doc-4"] * 4
