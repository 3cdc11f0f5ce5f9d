"""Typed views of a change's stored ``summary``: what classify() writes, as the feeds read it.

A summary is stored as JSON (``change.summary``); its shape is defined here, next to the
code that writes it (changes/classify.py), so feeds/ never guess at keys. Reading is
tolerant: a stored summary of another shape (an older row, a key this code does not know)
gives the parts it can read and leaves the rest to the generic rendering of
feeds/summary.py. Pure, no I/O.

- ``bases``: :class:`BasisClaim` items (a purpose gained or lost a basis, maybe announced);
- ``links``: :class:`LinkChanges` (opt-out links added, removed, retargeted);
- ``date``: :class:`DateMove` (the stated date moved);
- ``ai``: the changed sentence about AI (a string).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Announced",
    "BasisClaim",
    "DateMove",
    "Link",
    "LinkChanges",
    "Retarget",
    "read_ai",
    "read_bases",
    "read_date",
    "read_links",
]


def _s(value: Any) -> str:
    return str(value).strip() if value is not None else ""


@dataclass(frozen=True)
class Announced:
    """When an announced claim takes effect (the date as written, and as ISO if readable)."""

    date: str = ""
    iso: str = ""


@dataclass(frozen=True)
class BasisClaim:
    """A purpose gained (``added``) or lost (``removed``) a legal basis."""

    action: str  # added | removed | another word written by an older version
    basis: str  # as summaries name it: "legitimate interests"
    purpose: str = ""
    audience: str = ""  # "for": whom the policy says it applies to
    announced: Announced | None = None  # in a text that takes effect later
    sentence: str = ""  # the sentence stating it, for a basis stated in prose

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> BasisClaim:
        when = item.get("announced")
        return cls(
            _s(item.get("action")) or "changed",
            _s(item.get("basis")),
            _s(item.get("purpose")),
            _s(item.get("for")),
            Announced(_s(when.get("date")), _s(when.get("iso")))
            if isinstance(when, Mapping)
            else None,
            _s(item.get("sentence")),
        )


@dataclass(frozen=True)
class Link:
    text: str
    url: str
    kind: str = ""

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> Link:
        return cls(_s(item.get("text")), _s(item.get("url")), _s(item.get("kind")))


@dataclass(frozen=True)
class Retarget:
    text: str
    old: str  # "from"
    new: str  # "to"
    kind: str = ""

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> Retarget:
        return cls(
            _s(item.get("text")), _s(item.get("from")), _s(item.get("to")), _s(item.get("kind"))
        )


@dataclass(frozen=True)
class LinkChanges:
    added: tuple[Link, ...] = field(default_factory=tuple)
    removed: tuple[Link, ...] = field(default_factory=tuple)
    retargeted: tuple[Retarget, ...] = field(default_factory=tuple)

    def counts(self) -> dict[str, int]:
        """``{"added": n, ...}`` for the actions with links, in this order."""
        pairs = (("added", self.added), ("removed", self.removed), ("retargeted", self.retargeted))
        return {name: len(items) for name, items in pairs if items}


@dataclass(frozen=True)
class DateMove:
    old: str  # "from", "" when the old text stated none
    new: str  # "to"


def _items(value: Any) -> list[Mapping[str, Any]] | None:
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        return None
    return value


def read_bases(summary: Mapping[str, Any] | None) -> list[BasisClaim] | None:
    """The legal-basis claims, or None when ``summary["bases"]`` has another shape."""
    value = summary.get("bases") if isinstance(summary, Mapping) else None
    if value is None:
        return []
    items = _items(value)
    return None if items is None else [BasisClaim.from_json(i) for i in items]


def read_links(summary: Mapping[str, Any] | None) -> LinkChanges | None:
    """The link changes, or None when ``summary["links"]`` has another shape."""
    value = summary.get("links") if isinstance(summary, Mapping) else None
    if value is None:
        return LinkChanges()
    if not isinstance(value, Mapping) or not set(value) <= {"added", "removed", "retargeted"}:
        return None
    added, removed = _items(value.get("added") or []), _items(value.get("removed") or [])
    moved = _items(value.get("retargeted") or [])
    if added is None or removed is None or moved is None:
        return None
    return LinkChanges(
        tuple(Link.from_json(i) for i in added),
        tuple(Link.from_json(i) for i in removed),
        tuple(Retarget.from_json(i) for i in moved),
    )


def read_date(summary: Mapping[str, Any] | None) -> DateMove | None:
    """The stated date's move, or None (no move, or another shape)."""
    value = summary.get("date") if isinstance(summary, Mapping) else None
    if not isinstance(value, Mapping) or not set(value) <= {"from", "to"}:
        return None
    old, new = _s(value.get("from")), _s(value.get("to"))
    return DateMove(old, new) if old or new else None


def read_ai(summary: Mapping[str, Any] | None) -> str | bool | None:
    """The changed sentence about AI (older rows: True), or None."""
    value = summary.get("ai") if isinstance(summary, Mapping) else None
    return value if isinstance(value, (str, bool)) else None
