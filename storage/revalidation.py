"""What a conditional request needs: the validators of a document's last stored body.

A server that sent ``ETag`` or ``Last-Modified`` with a page can answer a later request
carrying ``If-None-Match`` / ``If-Modified-Since`` with ``304 Not Modified`` and no body.
The spider then records the fetch with the body the server says is unchanged (the one
these validators came with), so the rest of the pipeline sees an ordinary fetch of the
same page (docs/decisions/0014-unchanged-pages.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Fetch


@dataclass(frozen=True)
class Validators:
    """The last stored body of a document and what its server said about it."""

    url: str  # where the body came from (the request carrying the validators goes there)
    etag: str | None
    last_modified: str | None
    blob_hash: str
    headers: dict[str, str]


def last_validators(
    session: Session, documents: Iterable[tuple[str, str]]
) -> dict[str, Validators]:
    """For each (document id, URL) pair: the validators of its latest successful fetch of
    that URL whose body is still stored, when its server sent any; in two queries."""
    wanted = dict(documents)
    if not wanted:
        return {}
    latest = (
        select(func.max(Fetch.id))
        .where(
            Fetch.document_id.in_(list(wanted)),
            Fetch.error.is_(None),
            Fetch.blob_hash.is_not(None),
        )
        .group_by(Fetch.document_id)
    )
    found: dict[str, Validators] = {}
    for fetch in session.scalars(select(Fetch).where(Fetch.id.in_(latest))):
        headers = dict(fetch.headers or {})
        etag, modified = headers.get("etag"), headers.get("last-modified")
        if fetch.url != wanted.get(fetch.document_id) or not (etag or modified):
            continue
        assert fetch.blob_hash is not None
        found[fetch.document_id] = Validators(
            fetch.final_url or fetch.url, etag, modified, fetch.blob_hash, headers
        )
    return found
