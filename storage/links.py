"""Opt-out links: where they appear (sightings), their checks, and their health changes."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import Change, Link, LinkCheck, LinkSighting


def upsert_link(session: Session, url: str, locale: str, kind: str, at: datetime) -> Link:
    """The link ``url`` read in ``locale`` (created on first sight); ``kind`` is updated."""
    link = session.scalars(select(Link).where(Link.url == url, Link.locale == locale)).first()
    if link is None:
        link = Link(url=url, locale=locale, kind=kind, first_seen=at, last_seen=at)
        session.add(link)
    link.kind, link.last_seen = kind, max(link.last_seen, at)
    session.flush()
    return link


def sight(
    session: Session,
    link: Link,
    document_id: str,
    anchor: str,
    context: str,
    version_id: int | None,
    at: datetime,
) -> LinkSighting:
    """Record that ``link`` appears in ``document_id`` (with this anchor and sentence)."""
    row = session.scalars(
        select(LinkSighting).where(
            LinkSighting.link_id == link.id, LinkSighting.document_id == document_id
        )
    ).first()
    if row is None:
        row = LinkSighting(link_id=link.id, document_id=document_id, first_seen=at)
        session.add(row)
    row.anchor, row.context, row.version_id = anchor, context, version_id
    row.last_seen, row.present = at, True
    session.flush()
    return row


def unsight_others(session: Session, document_id: str, present: set[int]) -> int:
    """Mark the sightings in ``document_id`` of links not in ``present`` as gone."""
    gone = 0
    rows = session.scalars(select(LinkSighting).where(LinkSighting.document_id == document_id))
    for row in rows:
        if row.present and row.link_id not in present:
            row.present = False
            gone += 1
    session.flush()
    return gone


def sightings_by_document(
    session: Session, document_ids: Collection[str]
) -> dict[str, list[LinkSighting]]:
    """Every sighting (present or gone) in these documents, in one query."""
    found: dict[str, list[LinkSighting]] = {d: [] for d in document_ids}
    if document_ids:
        stmt = select(LinkSighting).where(LinkSighting.document_id.in_(list(document_ids)))
        for row in session.scalars(stmt.order_by(LinkSighting.id)):
            found[row.document_id].append(row)
    return found


def links_by_key(session: Session) -> dict[tuple[str, str], Link]:
    """Every link by (canonical URL, locale), in one query."""
    return {(link.url, link.locale): link for link in session.scalars(select(Link))}


def touch_sightings(session: Session, document_ids: Collection[str], at: datetime) -> int:
    """The present sightings in these documents, and their links, seen again at ``at``, in
    two statements (their documents' texts did not change: nothing else to update)."""
    if not document_ids:
        return 0
    ids = list(document_ids)
    here = (LinkSighting.document_id.in_(ids), LinkSighting.present.is_(True))
    touched = session.execute(
        update(LinkSighting)
        .where(*here, LinkSighting.last_seen < at)
        .values(last_seen=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.execute(
        update(Link)
        .where(Link.id.in_(select(LinkSighting.link_id).where(*here)), Link.last_seen < at)
        .values(last_seen=at)
        .execution_options(synchronize_session=False)
    )
    return int(touched or 0)


@dataclass(frozen=True)
class Mention:
    """A link as one document's text shows it, to record as a sighting."""

    url: str  # canonical
    locale: str
    kind: str
    anchor: str
    context: str
    version_id: int | None


def record_sightings(
    session: Session,
    mentions: Mapping[str, Sequence[Mention]],
    known: Mapping[str, Sequence[LinkSighting]],
    at: datetime,
) -> dict[str, set[int]]:
    """Record what the texts of some documents show now (``mentions``, by document id),
    given their ``known`` sightings (``sightings_by_document``): links are upserted, each
    mention's sighting is seen at ``at``, and sightings of links a document no longer shows
    are marked gone. Rows are read in one query per table and written with one flush.
    Returns the links present in each of these documents."""
    links = links_by_key(session)
    for found in mentions.values():
        for m in found:
            link = links.get((m.url, m.locale))
            if link is None:
                link = links[(m.url, m.locale)] = Link(
                    url=m.url, locale=m.locale, kind=m.kind, first_seen=at
                )
                link.last_seen = at
                session.add(link)
            link.kind, link.last_seen = m.kind, max(link.last_seen, at)
    session.flush()  # new links get their ids
    present: dict[str, set[int]] = {}
    for doc_id, found in mentions.items():
        here = present.setdefault(doc_id, set())
        rows = {row.link_id: row for row in known.get(doc_id, ())}
        for m in found:
            link_id = links[(m.url, m.locale)].id
            row = rows.get(link_id)
            if row is None:
                row = rows[link_id] = LinkSighting(
                    link_id=link_id, document_id=doc_id, first_seen=at
                )
                session.add(row)
            row.anchor, row.context, row.version_id = m.anchor, m.context, m.version_id
            row.last_seen, row.present = at, True
            here.add(link_id)
        for row in rows.values():
            if row.present and row.link_id not in here:
                row.present = False
    session.flush()
    return present


def present_links(session: Session) -> Sequence[Link]:
    """Links that appear somewhere now (the ones to check), by id."""
    stmt = (
        select(Link)
        .where(Link.id.in_(select(LinkSighting.link_id).where(LinkSighting.present.is_(True))))
        .order_by(Link.id)
    )
    return session.scalars(stmt).all()


def sightings(session: Session, link_id: int) -> Sequence[LinkSighting]:
    """Where ``link_id`` appears now, first seen first."""
    return session.scalars(
        select(LinkSighting)
        .where(LinkSighting.link_id == link_id, LinkSighting.present.is_(True))
        .order_by(LinkSighting.first_seen, LinkSighting.id)
    ).all()


def last_check(session: Session, link_id: int) -> LinkCheck | None:
    return session.scalars(
        select(LinkCheck).where(LinkCheck.link_id == link_id).order_by(LinkCheck.id.desc())
    ).first()


def add_check(
    session: Session,
    link: Link,
    run_id: int | None,
    at: datetime,
    http_status: int | None,
    final_url: str | None,
    outcome: str,
    evidence: str,
    blob_hash: str | None,
) -> LinkCheck:
    """Store one check of a link, read in the link's locale."""
    check = LinkCheck(
        link_id=link.id,
        run_id=run_id,
        checked_at=at,
        locale=link.locale,
        http_status=http_status,
        final_url=final_url,
        outcome=outcome,
        evidence=evidence,
        blob_hash=blob_hash,
    )
    session.add(check)
    return check


def add_link_change(
    session: Session,
    link: Link,
    document_id: str,
    at: datetime,
    run_id: int | None,
    title: str,
    summary: dict[str, object],
) -> Change:
    """A ``link-health`` change: no versions, no diff, the link it is about."""
    change = Change(
        kind="link-health",
        document_id=document_id,
        link_id=link.id,
        detected_at=at,
        run_id=run_id,
        title=title,
        categories=["opt-out-health"],
        summary=summary,
    )
    session.add(change)
    session.flush()
    return change
