"""storage/: migrations (SQLite file: WAL), compressed content-addressed blobs, UTC times, and
text PostgreSQL refuses cleaned on the way in; on SQLite, and PostgreSQL by POLICYWATCH_TEST_DB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from config.defaults import db_url as default_url
from storage.blobs import get_blob, get_text, put_blob, put_text, store_of
from storage.db import open_db
from storage.migrate import head_revisions
from storage.models import Blob, Run
from storage.repo import start_run


@pytest.mark.sqlite_only
def test_migration_creates_the_schema_in_wal_mode(tmp_path: Path) -> None:
    sessions = open_db(f"sqlite:///{tmp_path / 'sub' / 'pw.db'}")
    with sessions() as session:
        engine = session.get_bind()
        tables = set(inspect(engine).get_table_names())
        assert {"document", "fetch", "blob", "version", "change", "run"} <= tables
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 30000
        heads = set(session.execute(text("SELECT version_num FROM alembic_version")).scalars())
        assert heads == head_revisions(engine) and len(heads) == 1  # the newest, one head
        assert "installation" in tables


@pytest.mark.sqlite_only
def test_0003w_keeps_links_and_their_checks_on_an_existing_database(tmp_path: Path) -> None:
    from storage.db import make_engine
    from storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    upgrade(engine, "0002")
    at = "2026-01-01 00:00:00"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO document (id, service, title, kind, url, locale, render,"
                " \"select\", remove) VALUES ('d', 's', 't', 'form', 'u', 'en_US', 'http',"
                " '[]', '[]')"
            )
        )
        conn.execute(
            text(
                f"INSERT INTO link VALUES (1, 'https://x.test/f', 'form', '{at}',"
                f" '{at}', 'form', '{at}')"
            )
        )
        conn.execute(
            text(
                f"INSERT INTO link_check (link_id, checked_at, locale, outcome)"
                f" VALUES (1, '{at}', 'en_US', 'form')"
            )
        )
    engine.dispose()
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT url, locale FROM link")).all() == [
            ("https://x.test/f", "en_US")
        ]
        assert conn.execute(text("SELECT link_id, blob_hash FROM link_check")).all() == [(1, None)]
        conn.execute(
            text(
                f"INSERT INTO link (url, kind, first_seen, last_seen, locale)"
                f" VALUES ('https://x.test/f', 'form', '{at}', '{at}', 'fr_FR')"
            )
        )
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_0008n_gives_existing_documents_the_default_profile(db_url: str) -> None:
    from storage.db import make_engine
    from storage.migrate import upgrade

    engine = make_engine(db_url)
    upgrade(engine, "0007f")
    with engine.begin() as conn:
        for doc_id in ("a", "b"):
            conn.execute(
                text(
                    "INSERT INTO document (id, service, title, kind, url, locale, render,"
                    f" \"select\", remove) VALUES ('{doc_id}', 's', 't', 'policy', 'u', 'en_US',"
                    " 'http', '[]', '[]')"
                )
            )
    engine.dispose()
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT id, title, profile FROM document ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [("a", "t", "default"), ("b", "t", "default")]
        conn.execute(text("UPDATE document SET profile = 'meta' WHERE id = 'b'"))
        assert conn.execute(text("SELECT profile FROM document WHERE id = 'b'")).scalar() == "meta"
    engine.dispose()


def test_blobs_are_stored_once_and_compressed(db_url: str) -> None:
    sessions = open_db(db_url)
    policy = ("We process information for the following legal bases. " * 2000).encode()
    with sessions.begin() as session:
        first = put_blob(session, policy)
        assert put_blob(session, policy) == first
        assert session.query(Blob).count() == 1
        stored = session.get(Blob, first)
        assert stored is not None
        store = store_of(session)
        packed = stored.data if store is None else store.get(first)
        assert len(packed) < len(policy) / 10
        assert get_blob(session, first) == policy
        assert get_text(session, put_text(session, "Événement ✓")) == "Événement ✓"
        with pytest.raises(KeyError):
            get_blob(session, "0" * 64)


def test_datetimes_come_back_aware_in_utc(db_url: str) -> None:
    sessions = open_db(db_url)
    paris = datetime(2025, 5, 27, 9, 0, tzinfo=timezone(timedelta(hours=2)))
    with sessions.begin() as session:
        run_id = start_run(session, "manual", at=paris).id
    with sessions() as session:
        run = session.get(Run, run_id)
        assert run is not None
        assert run.started_at == paris and run.started_at.tzinfo == UTC


def test_default_url_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POLICYWATCH_DB", raising=False)
    assert default_url() == "sqlite:///var/policywatch.db"
    monkeypatch.setenv("POLICYWATCH_DB", "postgresql+psycopg://u@h/pw")
    assert default_url() == "postgresql+psycopg://u@h/pw"


def test_text_a_database_refuses_is_cleaned_on_the_way_in(db_url: str) -> None:
    """NUL and lone surrogates (from a hostile page) are stored, cleaned, on every backend;
    raw bodies keep every byte."""
    from storage.models import Change, Document

    body = b"<p>\x00 raw \xff</p>"
    with open_db(db_url).begin() as session:
        session.add(
            Document(
                id="d",
                service="s\x00",
                title="Evil\x00 \ud800title",
                kind="policy",
                url="u",
                page_url=None,
                locale="en_US",
                render="http",
                select=["#a\x00"],
                remove=[],
            )
        )
        session.flush()
        session.add(
            Change(
                document_id="d",
                detected_at=datetime.now(UTC),
                title="t\x00",
                summary={"note": "x\x00y"},
                categories=[],
            )
        )
        digest = put_blob(session, body)
    with open_db(db_url)() as session:
        doc = session.get(Document, "d")
        assert doc is not None
        assert (doc.service, doc.title) == ("s", "Evil \ufffdtitle")
        assert session.query(Change).one().title == "t"
        assert get_blob(session, digest) == body


def test_clean_text() -> None:
    from storage.clean import clean_text

    assert clean_text("a\x00b") == "ab"
    assert clean_text("ok \ud83d end") == "ok \ufffd end"
    assert clean_text("é🎉") == "é🎉"


def test_fetch_outcomes_fold_into_the_runs_every_fetch_gives(db_url: str) -> None:
    """repo.fetch_outcomes reads the failed fetches and the one after each, through the
    index of each document's fetches in time order: the runs of failures and the
    documents failing now are those folded from every fetch (ties in time, an empty
    error, a document that never failed, one failing at its last fetch)."""
    import random

    from sqlalchemy import insert, select

    from feeds import timeline
    from storage.models import Document, Fetch
    from storage.repo import fetch_outcomes

    sessions = open_db(db_url)
    rng = random.Random(25)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with sessions.begin() as session:
        for doc_id in ("a", "b", "c", "d"):
            session.add(
                Document(
                    id=doc_id,
                    service="s",
                    title=doc_id,
                    kind="policy",
                    url="u",
                    locale="en",
                    render="http",
                )
            )
        rows = []
        for step in range(400):
            for doc_id in ("a", "b", "c", "d"):
                error = (
                    None
                    if doc_id == "a"
                    else rng.choice([None, None, None, "", "timeout", "http-error"])
                )
                at = start + timedelta(minutes=step // 3)  # three fetches share each minute
                rows.append(
                    {
                        "document_id": doc_id,
                        "url": "u",
                        "started_at": at,
                        "error": error,
                        "http_status": 500 if error else 200,
                        "error_detail": f"at {step}",
                        "headers": {},
                    }
                )
        rows.append({**rows[-1], "error": "timeout", "error_detail": "last"})  # d fails last
        session.execute(insert(Fetch), rows)
    with sessions() as session:
        every = session.execute(
            select(
                Fetch.document_id,
                Fetch.started_at,
                Fetch.error,
                Fetch.http_status,
                Fetch.error_detail,
            ).order_by(Fetch.document_id, Fetch.started_at, Fetch.id)
        ).all()
        found = fetch_outcomes(session)
        indexes = {i["name"] for i in inspect(session.get_bind()).get_indexes("fetch")}
    assert len(found) < len(every) // 2  # not every fetch
    assert timeline.failure_runs(found) == timeline.failure_runs(every)
    assert timeline.failing_now(found) == timeline.failing_now(every)
    assert set(timeline.failing_now(found)) >= {"d"} and "a" not in timeline.failure_runs(found)
    assert "ix_fetch_document_time" in indexes
