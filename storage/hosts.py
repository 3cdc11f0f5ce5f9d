"""Per-host leases: the crawl delay kept between requests to a host across processes.

Before a request to a host, a crawler takes the host's lease (:func:`try_lease`): one
atomic UPDATE that succeeds only if nobody holds it and the host's ``free_at`` has passed.
After the response (or error) it gives it back (:func:`release`), setting ``free_at`` to
now + the delay. So requests to one host never overlap and start at least ``delay`` after
the previous one ended, whichever process or machine sends them. A holder that dies keeps
the lease until ``leased_until`` (its download timeout and a margin), never for ever.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage import upsert
from storage.models import HostLease

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: How often a crawler waiting for a host that another one is requesting asks again.
POLL_SECONDS = 0.2


def try_lease(
    session: Session, host: str, holder: str, now: datetime, hold_for: timedelta
) -> float:
    """Take ``host``'s lease for ``holder``: 0.0 if taken, else the seconds to wait first."""
    session.execute(
        upsert.insert(session, HostLease)
        .values(host=host, free_at=EPOCH)
        .on_conflict_do_nothing(index_elements=["host"])
    )
    taken = session.execute(
        update(HostLease)
        .where(
            HostLease.host == host,
            HostLease.free_at <= now,
            or_(HostLease.holder.is_(None), HostLease.leased_until < now),
        )
        .values(holder=holder, leased_until=now + hold_for, last_request_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount == 1:
        return 0.0
    row = session.execute(
        select(HostLease.free_at, HostLease.holder, HostLease.leased_until).where(
            HostLease.host == host
        )
    ).one()
    if row.holder is not None and row.leased_until is not None and row.leased_until >= now:
        return POLL_SECONDS  # a request to the host is under way: ask again soon
    return max(0.05, (row.free_at - now).total_seconds())


def release(session: Session, host: str, holder: str, now: datetime, delay: float) -> None:
    """Give ``host``'s lease back: the next request may start ``delay`` seconds from now."""
    session.execute(
        update(HostLease)
        .where(HostLease.host == host, HostLease.holder == holder)
        .values(holder=None, leased_until=None, free_at=now + timedelta(seconds=delay))
        .execution_options(synchronize_session=False)
    )


def last_requests(session: Session) -> Sequence[tuple[str, datetime | None]]:
    """Every host requested through a lease, with the time its last request started."""
    return [
        (host, at)
        for host, at in session.execute(
            select(HostLease.host, HostLease.last_request_at).order_by(HostLease.host)
        ).all()
    ]
