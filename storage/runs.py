"""Which runs are alive: a run records its host and process; a later run closes dead ones.

A process killed with ``kill -9`` (or a machine that lost power) cannot mark its run
finished. The next run that starts closes it as ``crashed`` and processes the fetches it
left (flows derive every unprocessed fetch whose run is no longer running). A run of this
host is dead when its process is gone; a run of another host when it has not shown a
heartbeat for :data:`STALE_AFTER`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Run

#: A run on another host that has not shown a heartbeat for this long is taken as dead.
STALE_AFTER = timedelta(hours=1)


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


def heartbeat(session: Session, run_id: int) -> None:
    run = session.get(Run, run_id)
    if run is not None:
        run.heartbeat_at = datetime.now(UTC)


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
