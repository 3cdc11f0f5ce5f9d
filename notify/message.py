"""The words of a notification: one change, or a digest of several (pure, no I/O).

Everything that comes from a crawled page (titles, summaries, dates) is hostile: control
and invisible formatting characters are removed, lines are cut to a length, titles are one
line (no header injection), and for Markdown targets every Markdown character is escaped
so that a page cannot make a link or a heading in someone's chat. HTML targets (e-mail)
get the plain text escaped by apprise. Each change carries a stable id (``pw-change-N``):
a message sent again after a crash carries the same id, so receivers can de-duplicate.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from feeds.summary import blocks

__all__ = ["ChangeNote", "Message", "change_message", "digest_message", "probe_message", "sanitise"]

MAX_TITLE = 200
MAX_LINE = 300
MAX_SUMMARY_LINES = 12
MAX_DIGEST_CHANGES = 50
_SPACES = re.compile(r"\s+")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~>])")


@dataclass(frozen=True)
class ChangeNote:
    """What a notification says about one change (read from the database)."""

    change_id: int
    document_id: str
    document_title: str
    title: str
    categories: tuple[str, ...]
    summary: Mapping[str, Any]
    detected_at: datetime
    effective_date: str | None = None
    kind: str = "text"

    @property
    def stable_id(self) -> str:
        return f"pw-change-{self.change_id}"


@dataclass(frozen=True)
class Message:
    """A title and a body made of lines; ``crawled`` marks the lines of crawled text."""

    title: str
    lines: tuple[tuple[str, bool], ...] = field(default_factory=tuple)
    ids: tuple[str, ...] = ()  # the stable ids of the changes it carries

    def body(self, markdown: bool = False) -> str:
        """The body as plain text, or as Markdown with crawled text escaped."""
        out = []
        for line, crawled in self.lines:
            out.append(escape_markdown(line) if markdown and crawled else line)
        return ("  \n" if markdown else "\n").join(out)


def sanitise(text: Any, limit: int = MAX_LINE) -> str:
    """One line of untrusted text: no control or format characters (bidi overrides,
    zero-width), whitespace collapsed, at most ``limit`` characters."""
    raw = str(text) if text is not None else ""
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in raw
        if ch.isspace() or unicodedata.category(ch)[0] != "C"
    )
    line = _SPACES.sub(" ", kept).strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def escape_markdown(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def change_url(base_url: str, change_id: int) -> str:
    return f"{base_url.rstrip('/')}/changes/{change_id}.html"


def _change_lines(note: ChangeNote, base_url: str) -> list[tuple[str, bool]]:
    lines: list[tuple[str, bool]] = [
        (f"Document: {sanitise(note.document_title)} ({sanitise(note.document_id)})", True),
        (f"Detected: {_when(note.detected_at)}", False),
    ]
    if note.effective_date:
        lines.append((f"Effective date: {sanitise(note.effective_date, 60)}", True))
    if note.categories:
        lines.append((f"Categories: {sanitise(', '.join(note.categories))}", True))
    summary: list[str] = []
    for block in blocks(note.summary):
        for line in block.lines:
            summary.append(sanitise(f"{block.label}: {line.plain}"))
    if len(summary) > MAX_SUMMARY_LINES:
        more = len(summary) - MAX_SUMMARY_LINES
        summary = [*summary[:MAX_SUMMARY_LINES], f"… and {more} more (see the change page)"]
    lines += [(line, True) for line in summary]
    lines.append((f"Read the change: {change_url(base_url, note.change_id)}", False))
    lines.append((f"Notification id: {note.stable_id}", False))
    return lines


def change_message(note: ChangeNote, base_url: str) -> Message:
    """The message for one change: its title, then document, dates, categories, summary,
    link and stable id."""
    return Message(
        sanitise(note.title, MAX_TITLE) or "policywatch: a change",
        tuple(_change_lines(note, base_url)),
        (note.stable_id,),
    )


def digest_message(notes: Sequence[ChangeNote], base_url: str, day: datetime) -> Message:
    """One message for several changes (a daily digest), oldest first."""
    shown = list(notes)[:MAX_DIGEST_CHANGES]
    count = len(notes)
    title = f"policywatch: {count} change{'s' if count != 1 else ''} ({day:%Y-%m-%d})"
    lines: list[tuple[str, bool]] = []
    for i, note in enumerate(shown):
        if i:
            lines.append(("", False))
        lines.append((f"{i + 1}. {sanitise(note.title, MAX_TITLE)}", True))
        lines += _change_lines(note, base_url)
    if count > len(shown):
        lines.append(("", False))
        lines.append((f"… and {count - len(shown)} more: {base_url}", False))
    return Message(title, tuple(lines), tuple(n.stable_id for n in notes))


def probe_message(target_id: str, base_url: str, now: datetime) -> Message:
    return Message(
        "policywatch: test notification",
        (
            (f"This is a test of the notification target '{target_id}'.", False),
            (f"Sent: {_when(now)}", False),
            (f"Changes are published at {base_url}", False),
        ),
    )
