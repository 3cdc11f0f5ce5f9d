"""When a source that keeps failing is news, and when its recovery is (pure).

A source is down when its fetches have failed (error, login, consent or anti-bot wall,
empty page...) at least twice in a row for ``threshold`` or longer: one source-health
change says so, once. The first successful fetch after that says it is back, once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Alert:
    """What a source-health change says: its title and structured summary."""

    title: str
    summary: dict[str, object]


@dataclass(frozen=True)
class Failure:
    """A failed fetch attempt: when, and its type."""

    at: datetime
    error: str


def source_alert(failures: list[Failure], alerted_down: bool, threshold: timedelta) -> str | None:
    """``"down"``, ``"up"`` or None, from the failures since the last successful fetch
    (oldest first; empty if the latest fetch worked) and whether "down" was said last.

    >>> t = datetime(2026, 1, 1)
    >>> source_alert([Failure(t, "timeout")], False, timedelta(0))   # once is not repeated
    >>> source_alert([Failure(t, "timeout"), Failure(t, "timeout")], False, timedelta(0))
    'down'
    >>> source_alert([], True, timedelta(hours=24))
    'up'
    """
    if not failures:
        return "up" if alerted_down else None
    if alerted_down or len(failures) < 2:
        return None
    return "down" if failures[-1].at - failures[0].at >= threshold else None


def describe_source(title: str, state: str, failures: list[Failure], now: datetime) -> Alert:
    """The title and summary of a source-health change."""
    if state == "up":
        return Alert(f"{title}: fetched again", {"state": "up", "at": now.isoformat()})
    errors = Counter(f.error for f in failures)
    what = ", ".join(f"{e} \u00d7{n}" if n > 1 else e for e, n in errors.most_common())
    since = failures[0].at
    minutes = (failures[-1].at - since).total_seconds() / 60
    span = f"{minutes / 60:.0f} h" if minutes >= 60 else f"{minutes:.0f} min"
    return Alert(
        f"{title}: cannot be fetched for {span} ({what})",
        {"state": "down", "since": since.isoformat(), "failures": len(failures), "errors": what},
    )
