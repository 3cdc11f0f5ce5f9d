"""A change's structured ``summary`` as readable blocks, whatever it holds.

Known keys get their own wording (``bases``, ``links``, ``date``, ``ai``), read through
their types in changes/summaries.py; any other key, or a known key of an unexpected shape,
is shown generically as label and text. Every string
is cleaned here and escaped by the templates; a piece carries a link target only if it is
an absolute http(s) URL. Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from changes.summaries import read_ai, read_bases, read_date, read_links
from feeds import text

MAX_ONE_LINE = 180


@dataclass(frozen=True)
class Piece:
    """A run of text, optionally a link (``href`` is http(s) or None) or a code-like value."""

    text: str
    href: str | None = None
    code: bool = False


@dataclass(frozen=True)
class Line:
    pieces: tuple[Piece, ...]
    mark: str = ""  # added | removed | moved | "" : shown as a word and a colour

    @property
    def plain(self) -> str:
        return "".join(p.text for p in self.pieces)


@dataclass(frozen=True)
class Block:
    label: str
    lines: tuple[Line, ...]


def _s(value: Any) -> str:
    return text.clean(str(value)).strip() if value is not None else ""


def _line(*pieces: Piece | str, mark: str = "") -> Line:
    return Line(tuple(p if isinstance(p, Piece) else Piece(p) for p in pieces if p), mark)


def _url(value: Any) -> Piece:
    shown = _s(value)
    return Piece(shown or "(no URL)", text.safe_url(shown), code=True)


def _bases(summary: Mapping[str, Any]) -> Block | None:
    claims = read_bases(summary)
    if claims is None:
        return None
    lines = []
    for claim in claims:
        action = _s(claim.action) or "changed"
        basis, purpose = _s(claim.basis), _s(claim.purpose)
        mark = action if action in ("added", "removed") else "moved"
        when = ""
        if claim.announced is not None:
            action = "announced"
            when = f" (from {_s(claim.announced.date)})" if claim.announced.date else ""
        lines.append(
            _line(
                f"{action.capitalize()}: ",
                Piece(basis or "(unnamed basis)"),
                f" for \u201c{purpose}\u201d" if purpose else "",
                when,
                mark=mark,
            )
        )
    return Block("Legal bases", tuple(lines))


def _links(summary: Mapping[str, Any]) -> Block | None:
    links = read_links(summary)
    if links is None:
        return None  # a shape this code does not know: show it generically
    lines: list[Line] = []
    for action, items in (("added", links.added), ("removed", links.removed)):
        for link in items:
            anchor = _s(link.text)
            label = f"\u201c{anchor}\u201d " if anchor else ""
            lines.append(_line(f"{action.capitalize()}: {label}", _url(link.url), mark=action))
    for moved in links.retargeted:
        anchor = _s(moved.text)
        label = f"\u201c{anchor}\u201d " if anchor else ""
        lines.append(
            _line(
                f"Retargeted: {label}from ",
                _url(moved.old),
                " to ",
                _url(moved.new),
                mark="moved",
            )
        )
    return Block("Opt-out and objection links", tuple(lines)) if lines else None


def _date(summary: Mapping[str, Any]) -> Block | None:
    date = read_date(summary)
    if date is None:
        return None
    old, new = _s(date.old), _s(date.new)
    if old and new:
        line = _line("Moved from ", Piece(old), " to ", Piece(new), mark="moved")
    elif new:
        line = _line("Now states ", Piece(new), mark="added")
    else:
        line = _line("No longer states ", Piece(old), mark="removed")
    return Block("Effective date", (line,))


def _ai(summary: Mapping[str, Any]) -> Block | None:
    value = read_ai(summary)
    if isinstance(value, bool):
        said = "Yes: the change concerns AI" if value else "No"
    elif isinstance(value, str):
        said = _s(value)
    else:
        return None
    return Block("AI", (_line(said),)) if said else None


KNOWN = {"bases": _bases, "links": _links, "date": _date, "ai": _ai}
SHOWN_ELSEWHERE = text.SHOWN_ELSEWHERE  # words added / removed: pages show the counts


def _generic(key: str, value: Any) -> Block:
    (label, lines), *_ = text.summary_items({key: value})
    return Block(label, tuple(_line(line) for line in lines))


def blocks(summary: Mapping[str, Any] | None) -> list[Block]:
    """The summary as blocks, known keys first in a fixed order, then the others as stored."""
    if not isinstance(summary, Mapping):
        return []
    out: list[Block] = []
    for key, render in KNOWN.items():
        if key in summary and not text.is_empty(summary[key]):
            block = render(summary)
            out.append(block if block is not None else _generic(key, summary[key]))
    for key, value in summary.items():
        if key in KNOWN or key in SHOWN_ELSEWHERE or text.is_empty(value):
            continue
        out.append(_generic(str(key), value))
    return out


def one_line(summary: Mapping[str, Any] | None, kind: str = "text") -> str:
    """A short sentence of what moved, for lists: bases, links, dates, AI; for a link- or
    source-health change its other keys; "" for a text change with nothing structured
    (its word counts are shown beside it)."""
    parts: list[str] = []
    summary = summary if isinstance(summary, Mapping) else {}
    for claim in read_bases(summary) or []:
        basis, purpose = _s(claim.basis), _s(claim.purpose)
        action = _s(claim.action) or "changed"
        where = f" for {purpose}" if purpose else ""
        parts.append(f"legal basis {action}: {basis}{where}")
    links = read_links(summary)
    if links is not None:
        parts += [
            f"{n} link{'s' if n > 1 else ''} {action}" for action, n in links.counts().items()
        ]
    date = read_date(summary)
    if date is not None and _s(date.new):
        parts.append(
            f"date {_s(date.old)} \u2192 {_s(date.new)}"
            if _s(date.old)
            else f"states the date {_s(date.new)}"
        )
    ai = read_ai(summary)
    if ai is True:
        parts.append("concerns AI")
    elif isinstance(ai, str) and _s(ai):
        parts.append(f"AI: {_s(ai)}")
    if not parts and kind != "text":
        parts.append(kind.replace("-", " "))
        others = [b for b in blocks(summary) if b.label not in ("Legal bases", "AI")]
        parts += [f"{b.label}: {'; '.join(line.plain for line in b.lines)}" for b in others[:2]]
    line = "; ".join(parts)
    line = line[:1].upper() + line[1:]
    return line if len(line) <= MAX_ONE_LINE else line[: MAX_ONE_LINE - 1].rstrip() + "\u2026"
