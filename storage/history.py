"""A document's history: versions (accepted, held, dropped) and changes, written and found."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from storage.blobs import put_text
from storage.models import Change, Document, Fetch, Version
from storage.repo import held_versions, version_by_hash


def add_or_touch_version(
    session: Session,
    document_id: str,
    text: str,
    text_hash: str,
    words: int,
    seen_at: datetime,
    fetch_id: int | None,
    extractor_version: str,
    effective_date: str | None,
    state: str,
    hold_reason: str | None = None,
    known: Version | None = None,
) -> Version:
    """The version with this text (updating last_seen and state), or a new one; ``known``:
    that version when the caller holds it already (not looked up again)."""
    version = known if known is not None else version_by_hash(session, document_id, text_hash)
    if version is None:
        version = Version(
            document_id=document_id,
            text_hash=text_hash,
            text_blob=put_text(session, text),
            words=words,
            first_seen=seen_at,
            last_seen=seen_at,
            fetch_id=fetch_id,
            extractor_version=extractor_version,
            effective_date=effective_date,
            state=state,
            hold_reason=hold_reason,
        )
        session.add(version)
    else:
        version.last_seen = max(version.last_seen, seen_at)
        if state == "accepted" or version.state == "dropped":
            version.state = state
        if state == "held":
            version.hold_reason = hold_reason
    session.flush()
    return version


def drop_held(
    session: Session,
    document_id: str,
    keep_id: int | None = None,
    held: Sequence[Version] | None = None,
) -> int:
    """Mark held versions of a document as dropped (they were never confirmed). ``held``:
    its held versions as the caller read them in this transaction (only those still held
    are dropped; a version held since then can only be ``keep_id``)."""
    dropped = 0
    for version in held if held is not None else held_versions(session, document_id):
        if version.id != keep_id and version.state == "held":
            version.state = "dropped"
            dropped += 1
    session.flush()
    return dropped


def known_until(session: Session, document_id: str) -> datetime | None:
    """The last time the document's history already covers (its versions' last sighting)."""
    return session.scalar(
        select(func.max(Version.last_seen)).where(Version.document_id == document_id)
    )


def touch_version(session: Session, version_id: int, seen_at: datetime) -> None:
    """Record that a version was still shown at ``seen_at``."""
    version = session.get(Version, version_id)
    if version is not None and seen_at > version.last_seen:
        version.last_seen = seen_at


def set_current(session: Session, document_id: str, version_id: int) -> None:
    doc = session.get(Document, document_id)
    if doc is None:
        raise KeyError(f"no document {document_id}")
    doc.current_version_id = version_id
    session.flush()


def change_between(session: Session, from_id: int, to_id: int) -> Change | None:
    """An earlier change between the same two versions (a page flipping), if any."""
    stmt = select(Change).where(Change.from_version_id == from_id, Change.to_version_id == to_id)
    return session.scalars(stmt.limit(1)).first()


def changes_by_id(session: Session, ids: Iterable[int]) -> dict[int, Change]:
    """The changes with these ids, by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {c.id: c for c in session.scalars(select(Change).where(Change.id.in_(wanted)))}


def add_change(
    session: Session,
    document_id: str,
    from_version_id: int | None,
    to_version_id: int,
    detected_at: datetime,
    run_id: int | None,
    diff_json: str,
    words_added: int,
    words_removed: int,
    title: str,
    categories: list[str],
    summary: dict[str, object],
    technical: bool = False,
    alert: bool = True,
    fetch_id: int | None = None,
) -> Change:
    """Store a text change and its diff; ``alert`` False keeps it for the record only.

    The change gets the document's next transition number (``seq``, unique per document):
    call this holding the document's lock (storage.locks), or a second writer of the same
    transition fails on the uniqueness rule instead of storing it twice.
    """
    change = Change(
        document_id=document_id,
        from_version_id=from_version_id,
        to_version_id=to_version_id,
        detected_at=detected_at,
        run_id=run_id,
        diff_blob=put_text(session, diff_json),
        words_added=words_added,
        words_removed=words_removed,
        title=title,
        categories=categories,
        summary=summary,
        technical=technical,
        alert=alert and not technical,
        seq=next_seq(session, document_id),
        fetch_id=fetch_id,
    )
    session.add(change)
    session.flush()
    return change


def next_seq(session: Session, document_id: str) -> int:
    """The number the document's next text transition gets: one more than the last."""
    last = session.scalar(select(func.max(Change.seq)).where(Change.document_id == document_id))
    return (last or 0) + 1


def body_fetch(session: Session, version_id: int) -> Fetch | None:
    """The newest fetch that showed ``version_id`` and still has its body."""
    stmt = (
        select(Fetch)
        .where(
            Fetch.version_id == version_id,
            Fetch.blob_hash.is_not(None),
            Fetch.error.is_(None),
        )
        .order_by(Fetch.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def pruned_fetches(session: Session, version_id: int) -> int:
    """How many fetches that showed ``version_id`` had their body dropped by retention."""
    stmt = select(func.count()).where(Fetch.version_id == version_id, Fetch.body_pruned)
    return session.scalar(stmt) or 0


@dataclass(frozen=True)
class UnchangedState:
    """What the fast commit of an unchanged fetch (pipeline/unchanged.py) reads, under the
    document's lock: the fetch's state, the current version and whether any is held."""

    processed: bool
    seen_at: datetime  # when the fetch finished (or started, if it never did)
    current_version_id: int | None
    current_last_seen: datetime | None
    any_held: bool


# The fast path's statements are built once (bound parameters): building and keying a
# statement costs more than running it on an unchanged page (docs/decisions/0017).
_HELD_COUNT = (
    select(func.count())
    .where(Version.document_id == bindparam("p_document"), Version.state == "held")
    .scalar_subquery()
)
_UNCHANGED_STATE = (
    select(
        Fetch.processed,
        Fetch.finished_at,
        Fetch.started_at,
        Document.current_version_id,
        Version.last_seen,
        _HELD_COUNT,
    )
    .join(Document, Document.id == Fetch.document_id)
    .outerjoin(Version, Version.id == Document.current_version_id)
    .where(Fetch.id == bindparam("p_fetch"), Document.id == bindparam("p_document"))
)
_SEEN_AGAIN = (
    update(Version.__table__)
    .where(Version.__table__.c.id == bindparam("p_version"))
    .values(last_seen=bindparam("p_seen"), state="accepted", region_hash=bindparam("p_region"))
)
_FETCH_SHOWED = (
    update(Fetch.__table__)
    .where(Fetch.__table__.c.id == bindparam("p_fetch"))
    .values(version_id=bindparam("p_version"), region_hash=bindparam("p_region"), processed=True)
)


def unchanged_state(session: Session, document_id: str, fetch_id: int) -> UnchangedState:
    """One read (Core, no objects loaded): the fetch, the document's current version and
    whether the document holds a version. The fetch must exist."""
    params = {"p_fetch": fetch_id, "p_document": document_id}
    row = session.connection().execute(_UNCHANGED_STATE, params).one()
    return UnchangedState(
        bool(row[0]), row[1] or row[2], row[3], row[4] if row[3] is not None else None, row[5] > 0
    )


def record_unchanged(
    session: Session, fetch_id: int, version_id: int, last_seen: datetime, region_hash: str
) -> None:
    """The fetch showed the (accepted) version ``version_id`` again: the version's sighting
    and region fingerprint, and the fetch processed and pointing at it."""
    connection = session.connection()  # Core statements: no such object is loaded here
    # Parameters are named apart from every column: an UPDATE given a parameter named
    # like a column of its table sets that column too.
    connection.execute(
        _SEEN_AGAIN, {"p_version": version_id, "p_seen": last_seen, "p_region": region_hash}
    )
    connection.execute(
        _FETCH_SHOWED, {"p_fetch": fetch_id, "p_version": version_id, "p_region": region_hash}
    )
