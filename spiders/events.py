"""What the spider subprocess tells its parent: one JSON line on stdout per stored item.

Each event is a dataclass; ``to_json`` writes the line, ``parse_event`` reads it back (None
for a line that is not an event, e.g. a library printing to stdout).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar


@dataclass(frozen=True)
class FetchEvent:
    """A document fetch was stored (a body, or a typed error)."""

    kind: ClassVar[str] = "fetch"
    fetch_id: int
    document: str
    status: int | None
    error: str | None
    bytes: int | None


@dataclass(frozen=True)
class LinkEvent:
    """A link check's page was stored as a blob; the parent decides its outcome."""

    kind: ClassVar[str] = "link"
    link_id: int
    locale: str
    final_url: str | None
    status: int | None
    error: str | None
    error_detail: str | None
    blob: str | None
    started_at: str  # ISO time


@dataclass(frozen=True)
class PostEvent:
    """A newsroom post found in a feed was stored as a document."""

    kind: ClassVar[str] = "post"
    document: str
    keywords: list[str] = field(default_factory=list)


SpiderEvent = FetchEvent | LinkEvent | PostEvent
_KINDS: dict[str, type[SpiderEvent]] = {c.kind: c for c in (FetchEvent, LinkEvent, PostEvent)}


def to_json(event: SpiderEvent) -> str:
    """One line of JSON: ``{"event": kind, ...fields}``."""
    return json.dumps({"event": event.kind, **asdict(event)})


def parse_event(line: str) -> SpiderEvent | None:
    """The event a line of :func:`to_json` holds; None if the line is not one."""
    try:
        data: Any = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    cls = _KINDS.get(data.get("event"))  # type: ignore[arg-type]
    if cls is None:
        return None
    names = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in names})
    except TypeError:  # a field missing
        return None
