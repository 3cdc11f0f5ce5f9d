"""Deriving documents in parallel on Prefect's task runner stores what deriving them one after
another stores: the same versions, the same changes (titles, categories, summaries, numbers),
the same counts. On SQLite and (POLICYWATCH_TEST_DB) PostgreSQL.

Documents are derived in batches (in a run, while the crawl goes on), each batch holding its
documents' Prefect slots (taken in one call) on the session's Prefect API; a document whose
derive raises fails alone, and a document another holder keeps busy is waited for while the
other batches go on."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect import flow
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
from sqlalchemy import select

from config.run import RunConfig, tracked_documents
from demo.server import BARRIER_SECONDS, FakeMeta, Reply
from flows import slots
from flows.monitor import DeriveFailed, batches, crawl_and_derive, derive_all
from pipeline import derive, runs
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
    return derive_all(cfg, None, workers=2, min_batch=1)  # 4 batches of 2 documents


@flow(task_runner=ProcessPoolTaskRunner(max_workers=2))
def derive_in_processes(cfg: RunConfig) -> dict[str, int]:
    return derive_all(cfg, None, workers=2, min_batch=1)


@pytest.mark.usefixtures("prefect")
@pytest.mark.parametrize("parallel_flow", [derive_in_parallel, derive_in_processes])
def test_parallel_derive_stores_what_a_serial_derive_stores(
    db_url: str, tmp_path: Path, parallel_flow: Any
) -> None:
    """On Prefect's thread pool, and on its process pool (the runner that gives the
    classifier more than one core, decision 0019: each process its own connection)."""
    sources = write_sources(
        tmp_path / "sources.toml",
        [{"id": d, "url": f"https://www.facebook.com/{d}"} for d in DOCUMENTS],
    )
    cfg = store_fetches(db_url, sources)

    counts = parallel_flow(cfg)

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
def test_held_slots_keep_their_lease_renewed_and_are_given_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While a batch derives, its lease is renewed on the server (each renewal answered
    without error); at the end the slots are free again, and nothing was logged."""
    from prefect.client.orchestration import SyncPrefectClient

    renewed: list[int] = []
    real = SyncPrefectClient.renew_concurrency_lease

    def counting(self: SyncPrefectClient, lease_id: Any, lease_duration: float) -> Any:
        response = real(self, lease_id=lease_id, lease_duration=lease_duration)
        renewed.append(response.status_code)  # a real answer of the server
        return response

    monkeypatch.setattr(SyncPrefectClient, "renew_concurrency_lease", counting)
    monkeypatch.setattr(slots, "RENEW_SECONDS", 0.2)
    warnings: list[str] = []
    monkeypatch.setattr(slots.log, "warning", lambda *a: warnings.append(str(a)))
    batch = ["lease-a", "lease-b"]
    with slots.all_at_once(batch) as held:
        assert held and [active_slots(doc) for doc in batch] == [1, 1]
        deadline = time.monotonic() + 30
        while len(renewed) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert len(renewed) >= 3 and set(renewed) == {204}
    assert [active_slots(doc) for doc in batch] == [0, 0] and warnings == []


def unprocessed(db_url: str) -> list[str]:
    with open_db(db_url)() as session:
        return sorted(
            session.scalars(select(Fetch.document_id).where(Fetch.processed.is_(False))).all()
        )


@pytest.mark.usefixtures("prefect")
def test_a_document_held_elsewhere_waits_and_the_other_batches_go_on(
    db_url: str, tmp_path: Path
) -> None:
    """doc-2's slot is held (another run derives it): its batch, [doc-2, doc-3], takes its
    slots one at a time and waits for doc-2's; the other batches are derived meanwhile;
    once the slot is free, doc-2 and doc-3 are derived by this run."""
    sources = write_sources(
        tmp_path / "sources.toml",
        [{"id": d, "url": f"https://www.facebook.com/{d}"} for d in DOCUMENTS],
    )
    cfg = store_fetches(db_url, sources)
    result: list[dict[str, int]] = []
    with slots.one_at_a_time("doc-2") as held:
        assert held
        runner = threading.Thread(target=lambda: result.append(derive_in_parallel(cfg)))
        runner.start()
        deadline = time.monotonic() + 180
        while unprocessed(db_url) != ["doc-2"] * 4 + ["doc-3"] * 4:
            assert runner.is_alive() and time.monotonic() < deadline, unprocessed(db_url)
            time.sleep(0.2)
        time.sleep(1)  # a moment more: doc-2 stays waiting
        assert unprocessed(db_url) == ["doc-2"] * 4 + ["doc-3"] * 4 and runner.is_alive()
    runner.join(180)
    assert not runner.is_alive() and unprocessed(db_url) == []
    assert result[0]["deferred"] == 0 and result[0]["changes"] == 15
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
    assert unprocessed(db_url) == ["doc-4"] * 4


@flow(task_runner=ThreadPoolTaskRunner(max_workers=3))
def crawl_deriving_meanwhile(cfg: RunConfig, run_id: int) -> tuple[int, dict[str, int]]:
    return crawl_and_derive(cfg, run_id, len(DOCUMENTS), workers=2, min_batch=2)


@pytest.mark.usefixtures("prefect")
def test_documents_are_derived_while_the_crawl_goes_on_as_a_serial_derive_would(
    db_url: str, tmp_path: Path, site: FakeMeta, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last page answers only once the first batch is being derived (a barrier between
    the server and the derive): the crawl and the derive overlap, and what they store is what
    a serial re-derivation of the same fetches stores, edition after edition."""
    sources = write_sources(
        tmp_path / "sources.toml",
        [{"id": d, "url": site.url(f"/{d}")} for d in DOCUMENTS],
        timeout=BARRIER_SECONDS + 60,  # the last page may wait that long for the derive
    )
    cfg = RunConfig(db_url=db_url, sources_path=str(sources))
    last = DOCUMENTS[-1]
    real = derive.derive_one_document
    seen_when_deriving: list[int] = []
    first = threading.Lock()  # taken by the first derive of the edition with a barrier, only

    def count_last_fetches() -> None:
        """The barrier's action: both sides are there and neither goes on until it is done
        (counting after the barrier raced the server's answer: 1 under load)."""
        with open_db(db_url)() as session:
            stmt = select(Fetch.id).where(Fetch.document_id == last, Fetch.run_id == run_id)
            seen_when_deriving.append(len(session.scalars(stmt).all()))

    def derive_one(cfg: RunConfig, run_id: int | None, document_id: str) -> dict[str, int]:
        if barrier is not None and first.acquire(blocking=False):
            barrier.wait(BARRIER_SECONDS)  # the last page's request has arrived, unanswered
        return real(cfg, run_id, document_id)

    monkeypatch.setattr(derive, "derive_one_document", derive_one)
    for n, sentence in enumerate(EDITS):
        barrier = threading.Barrier(2, action=count_last_fetches) if n == 2 else None
        for doc in DOCUMENTS:
            body = page(doc, f"{sentence} ({doc})")
            site.set(f"/{doc}", Reply(200, body, barrier=barrier if doc == last else None))
        run_id = runs.start(db_url, "manual", tracked_documents(cfg))
        fetched, counts = crawl_deriving_meanwhile(cfg, run_id)
        assert fetched == len(DOCUMENTS) and counts["fetches"] == len(DOCUMENTS)
    assert seen_when_deriving == [0]  # derived before the last page's fetch was stored

    serial_url = rederive_copy(db_url, str(sources), tmp_path / "serial.db")
    try:
        streamed, serial = history(db_url), history(serial_url)
        assert streamed == serial and streamed["unprocessed"] == 0
        assert len(streamed["changes"]) == 2 * len(DOCUMENTS)  # the AI edit, the legal basis
        assert audit(db_url, str(sources)).ok
    finally:
        close_db(serial_url)


def test_batches_are_of_twenty_documents_at_least_and_ninety_at_most() -> None:
    from flows.monitor import MAX_BATCH, MIN_BATCH, batch_size

    assert batch_size(10, 4) == MIN_BATCH  # a small run is one batch
    assert batch_size(1000, 4) == MAX_BATCH == 90  # not 125
    assert batch_size(400, 4) == 50
