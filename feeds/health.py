"""The opt-out / objection links, where they appear and how their checks went. Pure views."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from feeds import text
from feeds.views import DocumentView
from storage.models import Link, LinkCheck, LinkSighting

MAX_CHECKS = 20  # the newest checks of each link shown on links.html
MAX_TEXT = 300
# Outcome -> how it reads: the words come from the table, the class only picks a colour.
HEALTH = {
    "form": "ok",
    "login-required": "warn",
    "unavailable": "bad",
    "not-found": "bad",
    "error": "bad",
}


def health(outcome: str | None) -> str:
    """``ok``, ``warn``, ``bad`` or ``unknown``: a CSS class, never crawled text."""
    return HEALTH.get(outcome or "", "unknown")


@dataclass(frozen=True)
class CheckView:
    checked_at: datetime
    locale: str
    http_status: int | None
    outcome: str
    health: str
    final_url: str | None
    final_url_text: str
    evidence: str

    @classmethod
    def of(cls, check: LinkCheck) -> CheckView:
        return cls(
            check.checked_at,
            text.clean(check.locale or ""),
            check.http_status,
            text.clean(check.outcome or ""),
            health(check.outcome),
            text.safe_url(check.final_url),
            text.clean(check.final_url or ""),
            text.clean(check.evidence or "")[:MAX_TEXT],
        )


@dataclass(frozen=True)
class SightingView:
    document_title: str
    document_path: str | None  # None if the document is unknown to the site
    language_tag: str
    anchor: str
    context: str
    first_seen: datetime
    last_seen: datetime
    present: bool


@dataclass(frozen=True)
class LinkView:
    id: int
    url: str | None  # http(s) only
    url_text: str
    kind: str
    outcome: str | None
    health: str
    outcome_since: datetime | None
    first_seen: datetime
    last_seen: datetime
    sightings: tuple[SightingView, ...]
    checks: tuple[CheckView, ...]  # newest first, at most MAX_CHECKS
    checks_total: int

    @property
    def anchor(self) -> str:
        return f"link-{self.id}"


def _sighting(s: LinkSighting, docs: Mapping[str, DocumentView]) -> SightingView:
    doc = docs.get(s.document_id)
    return SightingView(
        document_title=doc.title if doc else text.clean(s.document_id),
        document_path=doc.path if doc else None,
        language_tag=doc.language_tag if doc else "",
        anchor=text.clean(s.anchor or "")[:MAX_TEXT],
        context=text.clean(s.context or "")[:MAX_TEXT],
        first_seen=s.first_seen,
        last_seen=s.last_seen,
        present=bool(s.present),
    )


def link_views(
    links: Sequence[Link],
    sightings: Sequence[LinkSighting],
    checks: Sequence[LinkCheck],
    docs: Mapping[str, DocumentView],
) -> list[LinkView]:
    """One view per link: failing ones first, then by id. ``checks`` newest first per link."""
    seen: dict[int, list[SightingView]] = defaultdict(list)
    for s in sightings:
        seen[s.link_id].append(_sighting(s, docs))
    checked: dict[int, list[LinkCheck]] = defaultdict(list)
    for c in checks:
        checked[c.link_id].append(c)
    views = [
        LinkView(
            id=link.id,
            url=text.safe_url(link.url),
            url_text=text.clean(link.url or ""),
            kind=text.clean(link.kind or ""),
            outcome=text.clean(link.outcome) if link.outcome else None,
            health=health(link.outcome),
            outcome_since=link.outcome_since,
            first_seen=link.first_seen,
            last_seen=link.last_seen,
            sightings=tuple(seen.get(link.id, [])),
            checks=tuple(CheckView.of(c) for c in checked.get(link.id, [])[:MAX_CHECKS]),
            checks_total=len(checked.get(link.id, [])),
        )
        for link in links
    ]
    order = {"bad": 0, "warn": 1, "unknown": 2, "ok": 3}
    return sorted(views, key=lambda v: (order[v.health], v.id))
