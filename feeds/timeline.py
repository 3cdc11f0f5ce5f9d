"""A document's history as one timeline: changes, versions and runs of failed fetches. Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup

from feeds import lists, text
from feeds.views import ChangeView, VersionView

MAX_DETAIL = 300


@dataclass(frozen=True)
class FailureRun:
    """Consecutive failed fetches of one type, with no successful fetch between them."""

    error: str
    count: int
    first: datetime
    last: datetime
    http_status: int | None
    detail: str  # of the last failure, cleaned and shortened


def failure_runs(outcomes: Iterable[Any]) -> dict[str, list[FailureRun]]:
    """Fold fetch outcomes (document_id, started_at, error, http_status, error_detail),
    ordered by document then time, into each document's runs of failures."""
    runs: dict[str, list[FailureRun]] = defaultdict(list)
    open_run: dict[str, FailureRun | None] = {}
    for doc_id, started, error, status, detail in outcomes:
        current = open_run.get(doc_id)
        if not error:
            open_run[doc_id] = None
            continue
        error = text.clean(error)
        shown = text.clean(detail or "")[:MAX_DETAIL]
        if current is not None and current.error == error:
            updated = FailureRun(error, current.count + 1, current.first, started, status, shown)
            runs[doc_id][-1] = updated
            open_run[doc_id] = updated
        else:
            run = FailureRun(error, 1, started, started, status, shown)
            runs[doc_id].append(run)
            open_run[doc_id] = run
    return dict(runs)


@dataclass(frozen=True)
class Event:
    """One line of a timeline: exactly one of ``change``, ``version``, ``failure`` is set."""

    at: datetime
    change: ChangeView | None = None
    version: VersionView | None = None
    failure: FailureRun | None = None


class Timeline(list[Event]):
    """A document's events, newest first, that can print themselves as the items of its
    page's timeline (about 1,000 at 10,000 changes over 20 documents: a Python fragment,
    not a Jinja loop)."""

    def html(self, root: str, current_version_id: int | None) -> Markup:
        """The ``<li>`` of each event (feeds/lists.py: ``timeline``)."""
        return lists.timeline(self, root, current_version_id)


def timeline(
    changes: Sequence[ChangeView],
    versions: Sequence[VersionView],
    failures: Sequence[FailureRun],
) -> Timeline:
    """Everything that happened to a document, newest first (a change before its version)."""
    events = [(c.detected_at, 2, -c.id, Event(c.detected_at, change=c)) for c in changes]
    events += [(v.first_seen, 1, -v.id, Event(v.first_seen, version=v)) for v in versions]
    events += [(f.last, 0, i, Event(f.last, failure=f)) for i, f in enumerate(failures)]
    events.sort(key=lambda e: (e[0], e[1], e[2]), reverse=True)
    return Timeline(e[3] for e in events)


@dataclass(frozen=True)
class Failing:
    """A document whose latest fetches all failed: since when, how often, the last error."""

    document_id: str
    since: datetime  # the first failed fetch after the last good one
    count: int
    error: str  # of the last failure
    http_status: int | None
    detail: str


def failing_now(outcomes: Iterable[Any]) -> dict[str, Failing]:
    """The documents whose last fetch failed, from the same outcomes as
    :func:`failure_runs` (ordered by document then time), whatever the error types."""
    found: dict[str, Failing] = {}
    for doc_id, started, error, status, detail in outcomes:
        if not error:
            found.pop(doc_id, None)
            continue
        before = found.get(doc_id)
        found[doc_id] = Failing(
            doc_id,
            before.since if before else started,
            (before.count if before else 0) + 1,
            text.clean(error),
            status,
            text.clean(detail or "")[:MAX_DETAIL],
        )
    return found
