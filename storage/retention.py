"""Retention of raw bodies: a page with rotating tokens is a new body on every fetch, even
when its text did not change. Of each run of fetches that showed the same version, the
first and the last body are kept (the last only if its selected region differs from the
first's in more than tokens) (and every body that produced a version, and every
failure's body, as evidence); the bodies in between are dropped. Their fetches stay, with
``body_pruned`` set: the history of what was seen when is complete, only the bytes go.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Row, delete, exists, func, or_, select, union_all, update
from sqlalchemy.orm import Session

from storage.blobs import store_of
from storage.models import Blob, Change, Fetch, LinkCheck, Version


def bodies_to_drop(fetches: Iterable[tuple[Any, ...]]) -> list[int]:
    """Ids of the fetches whose body goes, from (fetch id, version id, produced a version
    [, region fingerprint]) of one document's processed, successful fetches in order: all
    but the first and the last of each run of the same version, never one that produced its
    version; the last goes too when its region fingerprint is the first's (the page differed
    only in tokens and ignored attributes: changes/region.py)."""
    runs: list[list[tuple[int, bool, str | None]]] = []
    last_version: object = object()
    for fetch_id, version_id, produced, *region in fetches:
        if version_id != last_version or not runs:
            runs.append([])
            last_version = version_id
        runs[-1].append((fetch_id, produced, region[0] if region else None))
    drop = [fid for run in runs for fid, produced, _ in run[1:-1] if not produced]
    for run in runs:
        (_, _, first), (fid, produced, last) = run[0], run[-1]
        if len(run) > 1 and not produced and last is not None and last == first:
            drop.append(fid)
    return sorted(drop)


def prune_unchanged_bodies(session: Session, document_ids: Iterable[str]) -> int:
    """Apply the retention rule to these documents; return how many bodies were dropped.

    The rule needs, of each run of the same version, its first and last fetch and the
    fetches that still hold a body: only those rows are read (:func:`_rows_that_matter`),
    so a run's cost does not grow with the history of its documents' fetches."""
    dropped = 0
    candidates: set[str] = set()
    for rows in _rows_that_matter(session, list(document_ids)):
        # pruned fetches have no body; they still break nothing in a run (same version)
        ids = bodies_to_drop((r[0], r[1], bool(r[3]), r[4]) for r in rows)
        with_body = {r[0]: r[2] for r in rows if r[2] is not None}
        ids = [i for i in ids if i in with_body]
        if not ids:
            continue
        candidates.update(with_body[i] for i in ids)
        session.execute(
            update(Fetch)
            .where(Fetch.id.in_(ids))
            .values(blob_hash=None, body_pruned=True)
            .execution_options(synchronize_session=False)
        )
        dropped += len(ids)
    _delete_unreferenced(session, candidates)
    return dropped


#: Documents whose fetches one query reads (a bound on the query's parameters).
DOCUMENTS_PER_QUERY = 200


def _rows_that_matter(session: Session, document_ids: list[str]) -> Iterator[list[Row[Any]]]:
    """Per document, in fetch order: (fetch id, version id, blob hash, produced a version,
    region fingerprint) of its processed, successful fetches that hold a body or begin or
    end a run of the same version. The rows left out (pruned fetches inside a run) change
    nothing :func:`bodies_to_drop` decides about a fetch with a body: each run keeps its
    first and last fetch, so the runs and their ends are the same."""
    for start in range(0, len(document_ids), DOCUMENTS_PER_QUERY):
        chunk = document_ids[start : start + DOCUMENTS_PER_QUERY]
        ordered = {"partition_by": Fetch.document_id, "order_by": Fetch.id}
        sequence = (
            select(
                Fetch.id.label("id"),
                Fetch.document_id.label("document_id"),
                Fetch.version_id.label("version_id"),
                Fetch.blob_hash.label("blob_hash"),
                Fetch.region_hash.label("region_hash"),
                func.lag(Fetch.version_id).over(**ordered).label("before"),
                func.lead(Fetch.version_id).over(**ordered).label("after"),
            )
            .where(
                Fetch.document_id.in_(chunk),
                Fetch.processed.is_(True),
                Fetch.error.is_(None),
                Fetch.version_id.is_not(None),
            )
            .subquery()
        )
        c = sequence.c
        rows = session.execute(
            select(
                c.id,
                c.version_id,
                c.blob_hash,
                Version.id.is_not(None),
                c.region_hash,
                c.document_id,
            )
            .outerjoin(Version, Version.fetch_id == c.id)
            .where(
                or_(
                    c.blob_hash.is_not(None),
                    c.before.is_(None),
                    c.after.is_(None),
                    c.before != c.version_id,
                    c.after != c.version_id,
                )
            )
            .order_by(c.document_id, c.id)
        ).all()
        by_document: dict[str, list[Row[Any]]] = {}
        for row in rows:
            by_document.setdefault(row[5], []).append(row)
        yield from by_document.values()


def _delete_unreferenced(session: Session, hashes: set[str]) -> None:
    if not hashes:
        return
    refs = union_all(
        select(Fetch.blob_hash.label("h")).where(Fetch.blob_hash.in_(hashes)),
        select(Version.text_blob.label("h")).where(Version.text_blob.in_(hashes)),
        select(Change.diff_blob.label("h")).where(Change.diff_blob.in_(hashes)),
        select(LinkCheck.blob_hash.label("h")).where(LinkCheck.blob_hash.in_(hashes)),
    ).subquery()
    used = set(session.scalars(select(refs.c.h)))
    gone = sorted(hashes - used)
    if not gone:
        return
    session.execute(
        delete(Blob)
        .where(Blob.hash.in_(gone), ~exists().where(Fetch.blob_hash == Blob.hash))
        .execution_options(synchronize_session=False)
    )
    session.flush()
    store = store_of(session)
    if store is not None:
        for digest in gone:
            store.delete(digest)
