"""Deliver notifications: queue new changes for each target, then send what is due.

One pass (a step of the monitor flow, or ``policywatch notify``):

1. targets seen for the first time are registered (they get changes stored from then on);
2. every change stored since, not yet in the outbox for a target, gets a row: ``pending``
   (due now, or at the next digest hour) or ``skipped`` (the target's filters leave it out;
   changes imported by ``replay`` are history, not news);
3. claims left by a process that died, or older than the lease, go back to pending;
4. per target, due rows are claimed (committed) one at a time (``each``) or all together
   (``daily``, one digest message), sent, then marked sent. A failure puts the rows back
   to pending with an exponential back-off for the whole target and moves on to the next
   target; after ``MAX_ATTEMPTS`` a row is ``failed``.

Delivery is at least once: a process killed after sending and before marking sends the
message again on the next pass, with the same stable ids (``pw-change-N``).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from config.notify import NotifyTarget
from notify.message import ChangeNote, Message, change_message, digest_message, probe_message
from notify.send import DeliveryError, send
from storage.db import open_db
from storage.models import Change, Document, Notification, Version
from storage.models import NotifyTarget as TargetRow
from storage.outbox import (
    claim,
    insert_ignoring_duplicates,
    mark_retry,
    mark_sent,
    register_targets,
    release_stale_claims,
    unqueued_changes,
)

__all__ = ["DeliveryReport", "backoff", "deliver", "next_digest", "notify_step", "send_tests"]

log = logging.getLogger(__name__)

BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
MAX_ATTEMPTS = 12  # about two and a half days of retries
CLAIM_LEASE = timedelta(minutes=15)  # a claim older than this is taken as abandoned
MAX_PER_PASS = 100  # messages per target and pass (`each` mode)
MAX_DIGEST = 500  # changes per digest


@dataclass
class DeliveryReport:
    """What one pass did, in counts, and the last error per failing target."""

    queued: int = 0
    skipped: int = 0
    released: int = 0
    sent: int = 0  # messages
    failed: int = 0  # failed attempts
    deferred: int = 0  # targets skipped: still in back-off
    errors: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "notify_queued": self.queued,
            "notify_sent": self.sent,
            "notify_failed": self.failed,
            "notify_released": self.released,
        }


def backoff(failures: int) -> timedelta:
    """The wait after the ``failures``-th consecutive failure: 1, 2, 4 ... minutes, <= 6 h."""
    return min(BACKOFF_BASE * (2 ** max(failures - 1, 0)), BACKOFF_MAX)


def next_digest(now: datetime, hour: int) -> datetime:
    """The first ``hour``:00 UTC at or after ``now``."""
    moment = now.astimezone(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return moment if moment >= now else moment + timedelta(days=1)


def process_owner() -> str:
    """Who claims rows: host, process id and a random part (a reused pid is not the same)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def owner_dead(owner: str) -> bool:
    """True if ``owner`` was a process on this host that no longer runs."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def enqueue(
    session: Session, targets: Sequence[NotifyTarget], now: datetime, run_id: int | None = None
) -> tuple[int, int]:
    """Outbox rows for the changes each target has not seen; (pending, skipped) counts."""
    register_targets(session, [t.id for t in targets], now, run_id)
    pending = skipped = 0
    for target in targets:
        rows = []
        for change, trigger in unqueued_changes(session, target.id):
            wanted = trigger != "replay" and target.wants(
                change.document_id, change.categories or [], change.alert, change.technical
            )
            due = now if target.mode == "each" else next_digest(now, target.hour)
            rows.append(
                {
                    "target_id": target.id,
                    "change_id": change.id,
                    "status": "pending" if wanted else "skipped",
                    "created_at": now,
                    "next_try_at": due,
                    "attempts": 0,
                }
            )
            pending += int(wanted)
            skipped += int(not wanted)
        insert_ignoring_duplicates(session, Notification, rows)
    return pending, skipped


def change_note(session: Session, change_id: int) -> ChangeNote:
    change = session.get(Change, change_id)
    assert change is not None
    doc = session.get(Document, change.document_id)
    version = session.get(Version, change.to_version_id) if change.to_version_id else None
    return ChangeNote(
        change_id=change.id,
        document_id=change.document_id,
        document_title=doc.title if doc else change.document_id,
        title=change.title,
        categories=tuple(change.categories or ()),
        summary=change.summary or {},
        detected_at=change.detected_at,
        effective_date=version.effective_date if version else None,
        kind=change.kind,
    )


def _attempt(
    session: Session,
    target: NotifyTarget,
    rows: list[Notification],
    message: Message,
    owner: str,
    now: datetime,
    environ: Mapping[str, str] | None,
    report: DeliveryReport,
) -> bool:
    """Send one message for ``rows`` (claimed and committed) and record the outcome."""
    state = session.get(TargetRow, target.id)
    ids = [row.id for row in rows]
    try:
        send(target, message, environ)
    except Exception as exc:  # a broken target must never stop the others or the crawl
        error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
        state.failures += 1
        state.retry_at = now + backoff(state.failures)
        mark_retry(session, ids, owner, error, state.retry_at, MAX_ATTEMPTS)
        session.commit()
        report.failed += 1
        report.errors[target.id] = error
        log.warning("notification target %s failed: %s", target.id, error)
        return False
    mark_sent(session, ids, owner, now)
    state.failures, state.retry_at = 0, None
    session.commit()
    report.sent += 1
    return True


def _deliver_target(
    session: Session,
    target: NotifyTarget,
    base_url: str,
    owner: str,
    now: datetime,
    environ: Mapping[str, str] | None,
    report: DeliveryReport,
) -> None:
    state = session.get(TargetRow, target.id)
    if state is not None and state.retry_at is not None and state.retry_at > now:
        report.deferred += 1
        return
    if target.mode == "daily":
        rows = claim(session, target.id, now, owner, MAX_DIGEST)
        session.commit()
        if rows:
            notes = [change_note(session, row.change_id) for row in rows]
            message = digest_message(notes, base_url, now)
            _attempt(session, target, rows, message, owner, now, environ, report)
        return
    for _ in range(MAX_PER_PASS):
        rows = claim(session, target.id, now, owner, 1)
        session.commit()
        if not rows:
            return
        message = change_message(change_note(session, rows[0].change_id), base_url)
        if not _attempt(session, target, rows, message, owner, now, environ, report):
            return


def deliver(
    db_url: str,
    targets: Sequence[NotifyTarget],
    base_url: str,
    *,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
    lease: timedelta = CLAIM_LEASE,
    run_id: int | None = None,
) -> DeliveryReport:
    """One delivery pass over ``targets`` (see the module's docstring); ``run_id``: the
    run whose changes a target registered by this pass gets too."""
    now = now or datetime.now(UTC)
    report = DeliveryReport()
    owner = process_owner()
    sessions = open_db(db_url)
    with sessions() as session:
        report.queued, report.skipped = enqueue(session, targets, now, run_id)
        session.commit()
        report.released = release_stale_claims(session, now, lease, owner_dead)
        session.commit()
        for target in targets:
            _deliver_target(session, target, base_url, owner, now, environ, report)
    return report


def notify_step(
    db_url: str, targets: Sequence[NotifyTarget], base_url: str, run_id: int | None = None
) -> dict[str, int]:
    """The monitor flow's step: deliver, and never fail the run because of a target."""
    if not targets:
        return {}
    try:
        report = deliver(db_url, targets, base_url, run_id=run_id)
    except Exception as exc:  # the crawl's results are stored already; alerts wait
        log.warning("notification delivery failed: %s", exc)
        return {"notify_error": 1}
    return report.counts()


def send_tests(
    targets: Sequence[NotifyTarget], base_url: str, environ: Mapping[str, str] | None = None
) -> dict[str, str | None]:
    """Send a test message to each target now (not through the outbox); errors by id."""
    results: dict[str, str | None] = {}
    now = datetime.now(UTC)
    for target in targets:
        try:
            send(target, probe_message(target.id, base_url, now), environ)
            results[target.id] = None
        except Exception as exc:
            results[target.id] = str(exc) or type(exc).__name__
    return results
