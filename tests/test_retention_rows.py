"""The retention step reads, of each document, only the fetches that matter to the rule (those
still holding a body, and the first and last of each run of one version), and drops exactly
the bodies the rule drops when it reads every processed fetch: random histories on the real
database, pruned after every round, or after several rounds at once (a run that died before
its retention step)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import select

from storage.blobs import put_blob
from storage.db import open_db
from storage.models import Fetch, Version
from storage.repo import DocumentSpec, sync_documents
from storage.retention import bodies_to_drop, prune_unchanged_bodies

AT = datetime(2026, 1, 1, tzinfo=UTC)
DOCS = ["a", "b", "c"]


def expected_drops(db_url: str) -> set[int]:
    """What the rule drops when it reads every processed, successful fetch (the old way)."""
    drop: set[int] = set()
    with open_db(db_url)() as s:
        produced = set(s.scalars(select(Version.fetch_id)))
        for doc in DOCS:
            rows = s.execute(
                select(Fetch.id, Fetch.version_id, Fetch.blob_hash, Fetch.region_hash)
                .where(
                    Fetch.document_id == doc,
                    Fetch.processed.is_(True),
                    Fetch.error.is_(None),
                    Fetch.version_id.is_not(None),
                )
                .order_by(Fetch.id)
            ).all()
            ids = bodies_to_drop((r[0], r[1], r[0] in produced, r[3]) for r in rows)
            drop |= {i for i in ids if i in {r[0] for r in rows if r[2] is not None}}
    return drop


def pruned(db_url: str) -> set[int]:
    with open_db(db_url)() as s:
        return set(s.scalars(select(Fetch.id).where(Fetch.body_pruned.is_(True))))


def add_round(db_url: str, rng: random.Random, versions: dict[str, list[int]]) -> None:
    """One fetch per document: the same version (most often), a new one, a revert, or a
    failure; a region fingerprint that is the first's or not."""
    with open_db(db_url).begin() as s:
        for doc in DOCS:
            roll = rng.random()
            body = put_blob(s, rng.randbytes(16))
            fetch = Fetch(
                document_id=doc, url="https://x.test/", started_at=AT, http_status=200,
                blob_hash=body, processed=True, region_hash=rng.choice(["r1", "r1", "r2"]),
            )  # fmt: skip
            s.add(fetch)
            s.flush()
            if roll < 0.1:
                fetch.error, fetch.blob_hash, fetch.http_status = "timeout", None, None
                continue
            if roll < 0.25 or not versions[doc]:
                version = Version(
                    document_id=doc, text_hash=f"{doc}{len(versions[doc])}",
                    text_blob=put_blob(s, rng.randbytes(16)), words=100, first_seen=AT,
                    last_seen=AT, fetch_id=fetch.id, extractor_version="t",
                )  # fmt: skip
                s.add(version)
                s.flush()
                versions[doc].append(version.id)
                fetch.version_id = version.id
            elif roll < 0.3 and len(versions[doc]) > 1:
                fetch.version_id = versions[doc][-2]  # back to the one before
            else:
                fetch.version_id = versions[doc][-1]


def test_reading_only_the_rows_that_matter_drops_what_reading_all_drops(db_url: str) -> None:
    rng = random.Random(14)
    with open_db(db_url).begin() as s:
        sync_documents(
            s, [DocumentSpec(d, "S", d, "policy", "https://x.test/", None, "en_US", "http", (), ())
                for d in DOCS],
        )  # fmt: skip
    versions: dict[str, list[int]] = {d: [] for d in DOCS}
    for round_ in range(40):
        add_round(db_url, rng, versions)
        if round_ % 7 in (3, 4):  # runs that died before their retention step
            continue
        want = expected_drops(db_url) | pruned(db_url)
        with open_db(db_url).begin() as s:
            prune_unchanged_bodies(s, DOCS)
        assert pruned(db_url) == want, round_
    assert len(pruned(db_url)) > 20  # the rule did drop bodies
