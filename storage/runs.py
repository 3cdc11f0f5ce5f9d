"""Which runs are alive: a run records its host and process; a later run closes dead ones.

A process killed with ``kill -9`` (or a machine that lost power) cannot mark its run
finished. The next run that starts closes it as ``crashed`` and processes the fetches it
left (flows derive every unprocessed fetch whose run is no longer running). A live run
refreshes its ``heartbeat_at`` every :data:`HEARTBEAT_EVERY` (``pipeline.runs``). A run is
dead when it has not shown a heartbeat for :data:`STALE_AFTER` (whatever its host: a
process id reused by another process, a hung machine), or, on this host, as soon as its
process is gone.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import Run

#: How often a live run refreshes its heartbeat.
HEARTBEAT_EVERY = timedelta(seconds=30)

#: A run that has not shown a heartbeat for this long is taken as dead: 20 beats missed.
STALE_AFTER = timedelta(minutes=10)


def this_host() -> str:
    return socket.gethostname()[:255]


def process_token(pid: int) -> str | None:
    """What tells this process from a later one that reuses its id: its start time in
    clock ticks since boot (Linux), or ``""`` where /proc is not there; None if no such
    process is running."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        if fields[0] == "Z":  # a zombie: finished, not yet reaped
            return None
        return fields[19]
    except FileNotFoundError:
        return None
    except (OSError, IndexError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""
    return ""


def own(run: Run, at: datetime | None = None) -> None:
    """Mark ``run`` as this process's."""
    run.host, run.pid = this_host(), os.getpid()
    run.heartbeat_at = at or datetime.now(UTC)


def heartbeat(session: Session, run_id: int, at: datetime | None = None) -> bool:
    """Show that run ``run_id`` is alive; False if it is no longer ``running`` (closed)."""
    stmt = (
        update(Run)
        .where(Run.id == run_id, Run.status == "running")
        .values(heartbeat_at=at or datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def is_dead(run: Run, now: datetime | None = None) -> bool:
    """True if ``run`` is marked running but nothing runs it any more."""
    if run.status != "running":
        return False
    now = now or datetime.now(UTC)
    seen = run.heartbeat_at or run.started_at
    if now - seen > STALE_AFTER:  # also a process id reused by another process
        return True
    if run.host == this_host() and run.pid is not None:
        return run.pid != os.getpid() and process_token(run.pid) is None
    return False


def close_dead_runs(session: Session, now: datetime | None = None) -> Sequence[int]:
    """Close runs left ``running`` by processes that are gone, as ``crashed``; their ids."""
    now = now or datetime.now(UTC)
    closed = []
    for run in session.scalars(select(Run).where(Run.status == "running").order_by(Run.id)):
        if is_dead(run, now):
            run.status, run.finished_at = "crashed", now
            run.counts = {**(run.counts or {}), "crashed": 1}
            closed.append(run.id)
    session.flush()
    return closed


def live_runs(session: Session, now: datetime | None = None) -> set[int]:
    """Ids of runs marked running whose process may still be at work."""
    now = now or datetime.now(UTC)
    running = session.scalars(select(Run).where(Run.status == "running"))
    return {run.id for run in running if not is_dead(run, now)}
