"""Partial renders: blocks of a page that vanish and come back (pure).

Around each new Facebook policy (and a few times more: 2023-01, 2023-04, 2024-08, 2025-06,
2025-12, 2026-07) the recorded page lost a thousand lines at once, in ten or so separate
blocks (glossary pop-ups, "learn more" sub-pages, retention details), and got them back
weeks later: the page had been rendered partially, the policy had not shrunk. A real edit
rewrites, adds and removes in place; it rarely deletes many whole, separate blocks at once
and nothing else there.

The rule (docs/decisions/0007): a text is a partial render of the one
before when at least ``MIN_BLOCKS`` blocks of at least ``MIN_BLOCK_WORDS`` words each are
deleted whole (at most a tenth of their words replaced) and together hold at least
``MIN_SHARE`` of the old text's words. Those blocks are *held*: not reported as removed.
Everything else in the change is classified as usual, so a new policy that arrives
partially rendered still raises its alert. Blocks that come back and were in a recent
version are *restored*, not news; when at least ``MIN_BLOCKS`` come back, so are the small
insertions between them (note headings), if most of their lines were in a recent version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from changes.plain import plain, words

__all__ = [
    "Blocks",
    "MIN_BLOCKS",
    "MIN_BLOCK_WORDS",
    "MIN_SHARE",
    "line_ops",
    "restored",
    "vanished",
]

MIN_BLOCKS = 3
MIN_BLOCK_WORDS = 40
MIN_SHARE = 0.15
_REPLACED = 0.1  # a block "deleted whole" may be replaced by at most this share of words
_KNOWN = 0.8  # a restored block: this share of its lines or words were in a recent version

Opcode = tuple[str, int, int, int, int]


@dataclass(frozen=True)
class Blocks:
    """Whole blocks of lines: their line numbers (0-based, in the text they belong to)."""

    lines: frozenset[int]
    words: int
    count: int


def _blank(line: str) -> bool:
    return not line.strip()


def line_ops(old: Sequence[str], new: Sequence[str]) -> list[Opcode]:
    """Line alignment of two texts (``difflib`` opcodes). Blank lines are junk to the
    matcher (they never anchor a match): twenty times faster, same blocks in practice."""
    return SequenceMatcher(_blank, old, new, autojunk=False).get_opcodes()


@lru_cache(maxsize=1 << 16)
def _key(line: str) -> str:
    """A line as its words, casefolded (markup, link targets and punctuation aside)."""
    return " ".join(words(plain(line).casefold()))


def _words(lines: Iterable[str]) -> int:
    return sum(len(words(line)) for line in lines)


def vanished(old: Sequence[str], new: Sequence[str], ops: Sequence[Opcode]) -> Blocks | None:
    """The blocks of ``old`` a partial render lost, or None if ``new`` is not one."""
    total = _words(old)
    held: set[int] = set()
    count = lost = 0
    for tag, i1, i2, j1, j2 in ops:
        if tag not in ("delete", "replace"):
            continue
        gone, kept = _words(old[i1:i2]), _words(new[j1:j2])
        if gone >= MIN_BLOCK_WORDS and kept <= gone * _REPLACED:
            held.update(range(i1, i2))
            count += 1
            lost += gone - kept
    if count >= MIN_BLOCKS and total and lost >= total * MIN_SHARE:
        return Blocks(frozenset(held), lost, count)
    return None


def restored(
    old: Sequence[str],
    new: Sequence[str],
    ops: Sequence[Opcode],
    recent: Iterable[Sequence[str]],
) -> Blocks | None:
    """The blocks ``new`` adds back whole that a recent version had (a partial render
    ending, a page flipping back), or None. A block is back when most of its lines, or
    most of its words, (``_KNOWN``) stand on lines a recent version had or the old text
    has elsewhere (a note repeating the policy), lines compared by their words: a heading
    underlined on one render and marked with ``###`` on the other, or a link's target,
    makes no new line."""
    known: set[str] = set()
    for lines in recent:
        known.update(_key(line) for line in lines)
    if not known:
        return None
    known.update(_key(line) for line in old)
    back: set[int] = set()
    count = words_back = 0
    for tag, i1, i2, j1, j2 in ops:
        if tag not in ("insert", "replace"):
            continue
        block = [line for line in new[j1:j2] if line.strip()]
        size = _words(block)
        if size < MIN_BLOCK_WORDS or _words(old[i1:i2]) > size * _REPLACED:
            continue  # small, or it replaces text: not a block coming back whole
        seen = [line for line in block if _key(line) in known]
        if len(seen) >= len(block) * _KNOWN or _words(seen) >= size * _KNOWN:
            back.update(range(j1, j2))
            count += 1
            words_back += size
    if count >= MIN_BLOCKS:  # a partial render ending: the small pieces between come back too
        extra, extra_words = _pieces_back(new, ops, known, back)
        back |= extra
        words_back += extra_words
    return Blocks(frozenset(back), words_back, count) if count else None


def _pieces_back(
    new: Sequence[str], ops: Sequence[Opcode], known: set[str], back: set[int]
) -> tuple[set[int], int]:
    """The lines of the small insertions (under ``MIN_BLOCK_WORDS`` words: the note
    headings between a partial render's blocks) that came back with the blocks: each
    one at least half made of lines a recent version had. A new sentence is not."""
    out: set[int] = set()
    for tag, _, _, j1, j2 in ops:
        if tag != "insert":
            continue
        lines = [j for j in range(j1, j2) if j not in back and new[j].strip()]
        if not lines or _words(new[j] for j in lines) >= MIN_BLOCK_WORDS:
            continue
        if sum(1 for j in lines if _key(new[j]) in known) * 2 >= len(lines):
            out.update(lines)
    return out, _words(new[j] for j in out)
