"""The per-installation values chosen once and stored: the tag URI authority of the feeds."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Installation

_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")


@dataclass(frozen=True)
class TagScheme:
    """``tag:<authority>:<prefix>/...``: what names this installation's feeds and entries."""

    authority: str  # host,YYYY-MM-DD
    prefix: str


def dns_name(host: str | None) -> str:
    """``host`` as an RFC 4151 DNS name (labels of letters, digits and inner hyphens).

    A host that is not one (an IPv6 literal, an empty host) becomes ``localhost``: the
    random prefix still keeps the installation's ids apart from anybody else's.
    """
    labels = (host or "").strip().lower().rstrip(".").split(".")
    if labels and all(_DNS_LABEL.fullmatch(label) for label in labels):
        return ".".join(labels)
    return "localhost"


def tag_scheme(session: Session, host: str | None, today: datetime | None = None) -> TagScheme:
    """The stored scheme; on the first call, chosen from ``host`` and today's date and stored.

    Later calls return the stored one whatever ``host`` is, so ids never change when the
    site moves. Commits.
    """
    row = session.get(Installation, 1)
    if row is None:
        moment = today or datetime.now(UTC)
        row = Installation(
            id=1,
            tag_authority=f"{dns_name(host)},{moment.astimezone(UTC):%Y-%m-%d}",
            tag_prefix=f"pw-{secrets.token_hex(4)}",
            created_at=moment,
        )
        session.add(row)
        try:
            session.commit()
        except IntegrityError:  # another process chose first: theirs is the one
            session.rollback()
            row = session.get(Installation, 1)
            assert row is not None
    return TagScheme(row.tag_authority, row.tag_prefix)
