"""Word-level diff of two Markdown texts that stays fast and exact on 290 KB policies.

Lines are aligned first (``difflib.SequenceMatcher``), then each replaced stretch is
diffed word by word with diff-match-patch (its C++ implementation, fast_diff_match_patch):
every word, whitespace run and punctuation character becomes one character (the
``linesToChars`` trick applied to words), so the diff never splits a word, and there is no
time limit, so it is never cut short. Very large
replaced stretches are aligned by sentence before the word diff (see ``_diff_block``).
Pure functions, no I/O.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

import fast_diff_match_patch as fast_dmp
import orjson

from changes.extract import word_count
from changes.plain import WORD_RE

__all__ = [
    "DiffStats",
    "Hunk",
    "Op",
    "diff_stats",
    "hunks",
    "ops_from_json",
    "ops_to_json",
    "segments",
    "tokenize",
    "word_diff",
]

#: One diff operation: ("=", unchanged text), ("-", removed text) or ("+", added text).
Op = tuple[str, str]

_KINDS = ("=", "-", "+")

# A word (with inner apostrophes/hyphens), a whitespace run, or any other single character.
_TOKEN = re.compile(rf"{WORD_RE.pattern}|\s+|[^\w\s]")

# Lines with the blank lines after them: blank lines are too common to align on.
_PARAGRAPH_LINES = re.compile(r"[^\n]*\n(?:[ \t]*\n)*|[^\n]+\Z")

# Sentences: up to and including a newline, a "<br>" or ". " (the space starts the next).
_SEGMENT = re.compile(r"[^\n]*?(?:\n|<br>|[.!?](?=\s)|$)")

# Replaced stretches up to this many tokens (both sides) are diffed word by word at once.
_DIRECT_TOKENS = 4000

# Token codes start above ASCII/Latin-1 so no code is "\n"; surrogates are skipped.
_FIRST_CODE = 0x100
_SURROGATES = range(0xD800, 0xE000)


def tokenize(text: str) -> list[str]:
    """Split text into words, whitespace runs and single other characters (lossless)."""
    return _TOKEN.findall(text)


def segments(text: str) -> list[str]:
    """Split text into lines, table-cell lines (``<br>``) and sentences (lossless)."""
    return [s for s in _SEGMENT.findall(text) if s]


def _code(index: int) -> str:
    code = _FIRST_CODE + index
    if code >= _SURROGATES.start:
        code += len(_SURROGATES)
    return chr(code)


def _encoder() -> tuple[dict[str, str], list[str], Callable[[list[str]], str]]:
    table: dict[str, str] = {}
    units: list[str] = []

    def encode(items: list[str]) -> str:
        out = []
        for item in items:
            char = table.get(item)
            if char is None:
                char = table[item] = _code(len(units))
                units.append(item)
            out.append(char)
        return "".join(out)

    return table, units, encode


def _dmp_units(old: list[str], new: list[str]) -> list[Op]:
    """diff-match-patch over units (words or sentences) mapped to one character each,
    never cut short (no time limit), then diff_cleanupSemantic. The C++ implementation of
    diff-match-patch (fast_diff_match_patch) runs the same algorithm as the Python one."""
    _, _, encode = _encoder()
    a, b = encode(old), encode(new)
    out: list[Op] = []
    i = j = 0
    for kind, n in fast_dmp.diff(a, b, timelimit=0, checklines=False, cleanup="Semantic"):
        if kind == "=":
            out.append(("=", "".join(old[i : i + n])))
            i += n
            j += n
        elif kind == "-":
            out.append(("-", "".join(old[i : i + n])))
            i += n
        else:
            out.append(("+", "".join(new[j : j + n])))
            j += n
    return out


def _similar(old: list[str], new: list[str]) -> bool:
    """Do two token lists share at least half of their words (as multisets)?"""
    a = Counter(t for t in old if not t.isspace())
    b = Counter(t for t in new if not t.isspace())
    total = max(sum(a.values()), sum(b.values()), 1)
    return sum((a & b).values()) * 2 >= total


def _dmp_runs(old: list[str], new: list[str]) -> list[tuple[str, int, int]]:
    """Raw diff-match-patch over units: (kind, number of old units, number of new units)."""
    _, _, encode = _encoder()
    runs: list[tuple[str, int, int]] = []
    a, b = encode(old), encode(new)
    for kind, n in fast_dmp.diff(a, b, timelimit=0, checklines=False, cleanup="No"):
        if kind == "=":
            runs.append(("=", n, n))
        elif kind == "-":
            runs.append(("-", n, 0))
        else:
            runs.append(("+", 0, n))
    return runs


def _diff_block(old: str, new: str) -> list[Op]:
    """Word diff of one replaced stretch of lines.

    Small stretches are diffed word by word at once. Large ones (a section re-rendered
    from a table into paragraphs, a thousand lines moved) are first aligned by sentence,
    comparing only the words of each sentence so that a sentence that moved from a table
    cell to a list item still matches; then each stretch between aligned sentences is
    diffed word by word. A large stretch whose words are mostly different is reported as
    replaced whole: a word diff of unrelated text is slow and unreadable.
    """
    old_tokens, new_tokens = tokenize(old), tokenize(new)
    if len(old_tokens) + len(new_tokens) <= _DIRECT_TOKENS:
        return _dmp_units(old_tokens, new_tokens)
    old_segs, new_segs = segments(old), segments(new)

    def key(segment: str) -> str:
        return " ".join(WORD_RE.findall(segment))

    out: list[Op] = []
    i = j = 0
    pending_old: list[str] = []
    pending_new: list[str] = []

    def flush() -> None:
        if pending_old or pending_new:
            out.extend(_refine("".join(pending_old), "".join(pending_new)))
            pending_old.clear()
            pending_new.clear()

    for kind, n_old, n_new in _dmp_runs([key(s) for s in old_segs], [key(s) for s in new_segs]):
        if kind == "=":
            flush()
            a, b = "".join(old_segs[i : i + n_old]), "".join(new_segs[j : j + n_new])
            out.extend([("=", a)] if a == b else _dmp_units(tokenize(a), tokenize(b)))
        else:
            pending_old.extend(old_segs[i : i + n_old])
            pending_new.extend(new_segs[j : j + n_new])
        i += n_old
        j += n_new
    flush()
    return out


def _refine(old: str, new: str) -> list[Op]:
    """Word diff of a changed stretch, or whole replacement if it is large and unrelated."""
    if not old or not new:
        return [("-", old), ("+", new)]
    a, b = tokenize(old), tokenize(new)
    if len(a) + len(b) <= _DIRECT_TOKENS or _similar(a, b):
        return _dmp_units(a, b)
    return [("-", old), ("+", new)]


def _merge(ops: Iterable[Op]) -> list[Op]:
    """Drop empty ops; merge equal runs; each change run becomes one "-" then one "+"."""
    out: list[Op] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        if removed:
            out.append(("-", "".join(removed)))
        if added:
            out.append(("+", "".join(added)))
        removed.clear()
        added.clear()

    for kind, text in ops:
        if not text:
            continue
        if kind == "=":
            flush()
            if out and out[-1][0] == "=":
                out[-1] = ("=", out[-1][1] + text)
            else:
                out.append(("=", text))
        elif kind == "-":
            removed.append(text)
        else:
            added.append(text)
    flush()
    return out


def _absorb_small_equalities(ops: list[Op]) -> list[Op]:
    """Fold short unchanged text between two changes into them (by characters, not tokens).

    diff_cleanupSemantic measures in tokens, so " and " (3 tokens) survives between
    "+Provide" and "-enable/+curate"; this applies its rule in characters: an equality
    within one line that is no longer than the changes on both sides becomes part of them.
    Works on merged ops and keeps token boundaries.
    """
    changed = True
    while changed:
        changed = False
        out: list[Op] = []
        i = 0
        while i < len(ops):
            kind, text = ops[i]
            if kind == "=" and out and out[-1][0] != "=" and "\n" not in text:
                before_del, before_ins, n_before = _run_before(out)
                after_del, after_ins, n_after = _run_after(ops, i + 1)
                before = max(len(before_del), len(before_ins))
                after = max(len(after_del), len(after_ins))
                if n_after and len(text) <= before and len(text) <= after:
                    del out[len(out) - n_before :]
                    removed = before_del + text + after_del
                    added = before_ins + text + after_ins
                    out.extend(op for op in (("-", removed), ("+", added)) if op[1])
                    i += 1 + n_after
                    changed = True
                    continue
            out.append((kind, text))
            i += 1
        ops = out
    return ops


def _run_before(out: list[Op]) -> tuple[str, str, int]:
    removed = added = ""
    n = 0
    for kind, text in reversed(out):
        if kind == "=":
            break
        n += 1
        if kind == "-":
            removed = text + removed
        else:
            added = text + added
    return removed, added, n


def _run_after(ops: list[Op], start: int) -> tuple[str, str, int]:
    removed = added = ""
    n = 0
    for index in range(start, len(ops)):  # no slice: a copy per call made this quadratic
        kind, text = ops[index]
        if kind == "=":
            break
        n += 1
        if kind == "-":
            removed += text
        else:
            added += text
    return removed, added, n


def word_diff(old: str, new: str) -> list[Op]:
    """Word-level diff; concatenating "=" and "-" texts gives ``old``, "=" and "+" ``new``.

    Lines (each with the blank lines after it) are aligned with difflib, then each
    replaced stretch is diffed word by word (see ``_diff_block``).
    """
    if old == new:
        return [("=", old)]
    a, b = _PARAGRAPH_LINES.findall(old), _PARAGRAPH_LINES.findall(new)
    # Lines shared at both ends need no alignment (most changes touch a few lines).
    head = 0
    limit = min(len(a), len(b))
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    a_mid, b_mid = a[head : len(a) - tail], b[head : len(b) - tail]
    raw: list[Op] = [("=", "".join(a[:head]))]
    matcher = SequenceMatcher(None, a_mid, b_mid, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old_part, new_part = "".join(a_mid[i1:i2]), "".join(b_mid[j1:j2])
        if tag == "equal":
            raw.append(("=", old_part))
        elif tag == "delete":
            raw.append(("-", old_part))
        elif tag == "insert":
            raw.append(("+", new_part))
        else:
            raw.extend(_diff_block(old_part, new_part))
    raw.append(("=", "".join(a[len(a) - tail :])))
    return _absorb_small_equalities(_merge(raw))


@dataclass(frozen=True)
class DiffStats:
    """Words added and removed, and the number of separate changed places."""

    words_added: int
    words_removed: int
    blocks: int


def diff_stats(ops: Sequence[Op]) -> DiffStats:
    """Count words added/removed and change blocks (maximal runs of "-"/"+" ops)."""
    added = removed = blocks = 0
    in_change = False
    for kind, text in ops:
        if kind == "=":
            in_change = False
            continue
        if not in_change:
            blocks += 1
            in_change = True
        if kind == "+":
            added += word_count(text)
        else:
            removed += word_count(text)
    return DiffStats(words_added=added, words_removed=removed, blocks=blocks)


@dataclass(frozen=True)
class Hunk:
    """A run of ops shown together; ``old_line``/``new_line``: 1-based first line numbers."""

    ops: tuple[Op, ...]
    old_line: int
    new_line: int


_WINDOW = 1024  # characters: the end of a long text split into lines first (_ends)


def _ends(text: str, lead: int, tail: int, always: bool) -> tuple[str, str] | None:
    """The first ``lead`` and the last ``tail`` lines of ``text`` (``str.splitlines``'s
    lines, ends kept), if it has more than ``lead + tail`` lines or ``always``; else None.

    An unchanged stretch of a diff runs to thousands of lines and only a few at its
    ends are shown: the ends are split from a window of characters at each end (a line
    cut by the window is not one of those taken), the whole text only when a window
    holds too few lines."""
    size = _WINDOW
    while 2 * size <= len(text):
        front = text[:size].splitlines(keepends=True) if lead else []
        back = text[-size:].splitlines(keepends=True) if tail else []
        # the last line of ``front`` and the first of ``back`` may be cut: not taken,
        # each window then holds whole lines of its own, so the text has more than
        # lead + tail lines (the windows do not overlap)
        if (not lead or len(front) > lead + 1) and (not tail or len(back) > tail + 1):
            return "".join(front[:lead]), "".join(back[-tail:]) if tail else ""
        size *= 4
    lines = text.splitlines(keepends=True)
    if not always and len(lines) <= lead + tail:
        return None
    return "".join(lines[:lead]), "".join(lines[-tail:]) if tail else ""


def hunks(ops: Sequence[Op], context_lines: int = 2) -> list[Hunk]:
    """Fold unchanged stretches, keeping ``context_lines`` lines around each change.

    A change that ends or starts mid-line keeps the rest of that line as well. Hunks whose
    unchanged gap is at most ``2 * context_lines`` lines are merged into one.
    """
    context = max(0, context_lines)
    changed = [i for i, (kind, _) in enumerate(ops) if kind != "="]
    if not changed:
        return []
    first, last = changed[0], changed[-1]
    result: list[Hunk] = []
    current: list[Op] = []
    start = (1, 1)
    old_line = new_line = 1
    old_at_start = new_at_start = line_start = True  # next op starts a line (both sides)?

    for i, (kind, text) in enumerate(ops):
        if kind != "=":
            if not current:
                start = (old_line, new_line)
            current.append((kind, text))
        else:
            lead = 0 if i < first else context + (0 if line_start else 1)
            tail = 0 if i > last else context + (0 if text.endswith("\n") else 1)
            ends = _ends(text, lead, tail, i < first or i > last)
            if ends is not None:
                head, rest = ends
                if head:
                    current.append(("=", head))
                if current:
                    result.append(Hunk(tuple(current), *start))
                skipped = text.count("\n", 0, len(text) - len(rest))
                start = (old_line + skipped, new_line + skipped)
                current = [("=", rest)] if rest else []
            else:
                current.append((kind, text))
        newlines = text.count("\n")  # once, not once per side of an unchanged text
        if kind != "+":
            old_line += newlines
        if kind != "-":
            new_line += newlines
        if text:
            if kind != "+":
                old_at_start = text.endswith("\n")
            if kind != "-":
                new_at_start = text.endswith("\n")
        line_start = old_at_start and new_at_start
    if current:
        result.append(Hunk(tuple(current), *start))
    return result


def ops_to_json(ops: Sequence[Op]) -> str:
    """Compact, lossless JSON: ``[["=","text"],["-","old"],["+","new"]]``."""
    return json.dumps(
        [[kind, text] for kind, text in ops], ensure_ascii=False, separators=(",", ":")
    )


def ops_from_json(s: str) -> list[Op]:
    """Inverse of :func:`ops_to_json`; raises ValueError on anything that is not a diff.

    Parsed by orjson (twice as fast as the standard library, on the 14,000 diffs a full
    publish reads); what orjson refuses and the standard library reads (a lone surrogate
    escaped, NaN) is read by the standard library, as before."""
    try:
        data = orjson.loads(s)
    except orjson.JSONDecodeError:
        data = json.loads(s)
    if not isinstance(data, list):
        raise ValueError("diff JSON must be a list")
    ops: list[Op] = []
    for item in data:
        if (
            not isinstance(item, list)
            or len(item) != 2
            or item[0] not in _KINDS
            or not isinstance(item[1], str)
        ):
            raise ValueError(f"not a diff op: {item!r}")
        ops.append((item[0], item[1]))
    return ops
