"""The notification outbox: rows per change and target, claimed atomically, marked once.

A row is claimed with ``UPDATE ... WHERE status = 'pending'`` and committed before the
message goes out, so two overlapping runs never send the same row; a claim whose process
died (or that is older than a lease) is released to pending again and sent again: delivery
is at least once, and every message carries the changes' stable ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.orm import Session

from storage.models import Change, Notification, NotifyTarget, Run

__all__ = [
    "Undelivered",
    "claim",
    "insert_ignoring_duplicates",
    "mark_retry",
    "mark_sent",
    "register_targets",
    "release_stale_claims",
    "unqueued_changes",
    "undelivered",
]


def insert_ignoring_duplicates(
    session: Session, model: Any, rows: Sequence[dict[str, Any]]
) -> None:
    """INSERT rows; a row whose unique key exists already (another process won) is skipped."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:  # pragma: no cover - SQLite and PostgreSQL are the supported databases
        raise NotImplementedError(f"no INSERT ... ON CONFLICT for {dialect}")
    session.execute(insert(model).values(list(rows)).on_conflict_do_nothing())


def register_targets(
    session: Session, target_ids: Iterable[str], now: datetime, run_id: int | None = None
) -> None:
    """Remember targets seen for the first time: they get the changes stored from now on
    (and those of the run ``run_id``, which registers them once its changes are stored)."""
    known = set(session.scalars(select(NotifyTarget.id)))
    new = [t for t in target_ids if t not in known]
    if not new:
        return
    first_of_run = None
    if run_id is not None:
        first_of_run = session.scalar(select(func.min(Change.id)).where(Change.run_id == run_id))
    if first_of_run is not None:
        since = first_of_run - 1
    else:
        since = session.scalar(select(func.max(Change.id))) or 0
    insert_ignoring_duplicates(
        session,
        NotifyTarget,
        [{"id": t, "first_seen": now, "since_change_id": since, "failures": 0} for t in new],
    )


def unqueued_changes(session: Session, target_id: str) -> list[tuple[Change, str | None]]:
    """Changes stored since the target was first seen that have no outbox row for it yet,
    oldest first, each with the trigger of the run that stored it."""
    target = session.get(NotifyTarget, target_id)
    if target is None:
        return []
    queued = exists().where(
        and_(Notification.target_id == target_id, Notification.change_id == Change.id)
    )
    stmt = (
        select(Change, Run.trigger)
        .outerjoin(Run, Run.id == Change.run_id)
        .where(Change.id > target.since_change_id, ~queued)
        .order_by(Change.id)
    )
    return [(change, trigger) for change, trigger in session.execute(stmt).all()]


def release_stale_claims(
    session: Session, now: datetime, lease: timedelta, owner_dead: Callable[[str], bool]
) -> int:
    """Back to pending: rows claimed by a process that is gone, or longer ago than
    ``lease``. Their message may have gone out already: it will go again (at least once)."""
    stale = session.scalars(select(Notification).where(Notification.status == "sending")).all()
    released = 0
    for row in stale:
        old = row.claimed_at is None or row.claimed_at < now - lease
        if old or owner_dead(row.claimed_by or ""):
            result = session.execute(
                update(Notification)
                .where(Notification.id == row.id, Notification.status == "sending")
                .where(Notification.claimed_by == row.claimed_by)
                .values(status="pending", claimed_by=None, claimed_at=None, next_try_at=now)
            )
            released += result.rowcount
    return released


def claim(
    session: Session, target_id: str, now: datetime, owner: str, limit: int
) -> list[Notification]:
    """Claim up to ``limit`` due rows of ``target_id`` for ``owner``; the caller commits.

    The UPDATE only takes rows still pending, so of two processes claiming at once each row
    goes to one of them.
    """
    due = (
        select(Notification.id)
        .where(
            Notification.target_id == target_id,
            Notification.status == "pending",
            Notification.next_try_at <= now,
        )
        .order_by(Notification.change_id)
        .limit(limit)
    )
    ids = list(session.scalars(due))
    if not ids:
        return []
    session.execute(
        update(Notification)
        .where(Notification.id.in_(ids), Notification.status == "pending")
        .values(status="sending", claimed_by=owner, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    mine = select(Notification).where(
        Notification.id.in_(ids),
        Notification.status == "sending",
        Notification.claimed_by == owner,
    )
    return list(
        session.scalars(
            mine.order_by(Notification.change_id).execution_options(populate_existing=True)
        )
    )


def mark_sent(session: Session, ids: Sequence[int], owner: str, now: datetime) -> None:
    session.execute(
        update(Notification)
        .where(Notification.id.in_(ids), Notification.claimed_by == owner)
        .values(status="sent", sent_at=now, claimed_by=None, attempts=Notification.attempts + 1)
        .execution_options(synchronize_session=False)
    )


def mark_retry(
    session: Session,
    ids: Sequence[int],
    owner: str,
    error: str,
    retry_at: datetime,
    max_attempts: int,
) -> None:
    """A failed attempt: pending again at ``retry_at``, or ``failed`` after ``max_attempts``."""
    rows = session.scalars(
        select(Notification).where(Notification.id.in_(ids), Notification.claimed_by == owner)
    ).all()
    for row in rows:
        row.attempts += 1
        row.error = error
        row.claimed_by = row.claimed_at = None
        if row.attempts >= max_attempts:
            row.status = "failed"
        else:
            row.status, row.next_try_at = "pending", retry_at


@dataclass(frozen=True)
class Undelivered:
    """Per target: rows not sent yet (pending or being sent), given up, and the last error."""

    target_id: str
    pending: int
    failed: int
    oldest: datetime | None
    last_error: str | None


def undelivered(session: Session) -> list[Undelivered]:
    rows = session.execute(
        select(
            Notification.target_id,
            Notification.status,
            func.count(),
            func.min(Notification.created_at),
        )
        .where(Notification.status.in_(("pending", "sending", "failed")))
        .group_by(Notification.target_id, Notification.status)
    ).all()
    by_target: dict[str, dict[str, Any]] = {}
    for target_id, status, count, oldest in rows:
        entry = by_target.setdefault(target_id, {"pending": 0, "failed": 0, "oldest": None})
        entry["failed" if status == "failed" else "pending"] += count
        if oldest is not None and (entry["oldest"] is None or oldest < entry["oldest"]):
            entry["oldest"] = oldest
    out = []
    for target_id, entry in sorted(by_target.items()):
        error = session.scalar(
            select(Notification.error)
            .where(Notification.target_id == target_id, Notification.error.is_not(None))
            .where(Notification.status.in_(("pending", "sending", "failed")))
            .order_by(Notification.id.desc())
            .limit(1)
        )
        oldest = entry["oldest"]
        if oldest is not None and oldest.tzinfo is None:  # SQLite's MIN() loses the type
            oldest = oldest.replace(tzinfo=UTC)
        out.append(Undelivered(target_id, entry["pending"], entry["failed"], oldest, error))
    return out
