"""Move the times written since a moment: how the demo dates its rows at the recorded
times (it replays the past, not today).

Each demo step crawls the stand-in now; afterwards every time written during the step
(fetches, versions, changes, link checks, the run itself) is moved by the same amount so
the step starts at the moment the served version was recorded. Order is kept: steps are
replayed oldest first, and each one moves only what it wrote.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import Base, UTCDateTime

KEEP = frozenset({"installation"})  # chosen once, for real: not part of the replayed past


def restamp(session: Session, since: datetime, to: datetime) -> int:
    """Move every time at or after ``since`` by ``to - since``; returns the values moved."""
    delta: timedelta = to - since
    moved = 0
    for table in Base.metadata.sorted_tables:
        if table.name in KEEP:
            continue
        (key,) = table.primary_key.columns
        for column in table.columns:
            if not isinstance(column.type, UTCDateTime):
                continue
            rows = session.execute(select(key, column).where(column >= since)).all()
            for pk, value in rows:
                session.execute(update(table).where(key == pk).values({column.name: value + delta}))
            moved += len(rows)
    return moved
