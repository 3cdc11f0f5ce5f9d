"""Say what kind of edit a change is, in words a reader can act on. Pure, no I/O.

When no detector has something specific to say (a basis, a link, a date), a title names
the section (the nearest heading above the edit) and quotes the sentence that changed
most, or says what kind of edit it is (an update notice added or removed). Word counts are
never a title: they are in the summary, computed once (``words_added``/``words_removed``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from changes.lexicon import fold, lang_of, patterns
from changes.plain import plain, words

__all__ = ["TITLE_LIMIT", "clip", "edit_phrase", "nearest_heading", "shorten"]

#: Titles are at most this long; the rest goes in the summary.
TITLE_LIMIT = 140

_ATX = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s*(=+|-+)\s*$")
_BOLD = re.compile(r"^\s*\*\*([^*]{3,120})\*\*\s*:?\s*$")
_SIMILAR = 0.5  # an added and a removed sentence sharing this much are one reworded sentence


def clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters (with an ellipsis)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 1, 1)].rsplit(" ", 1)[0] if " " in text[:limit] else text[: limit - 1]
    return cut.rstrip(" ,;:") + "…"


def shorten(text: str, limit: int = 80) -> str:
    """``text`` as it is, or cut at the last space before ``limit`` with an ellipsis
    (unlike :func:`clip`, whitespace is kept as written).

    >>> shorten("We train models on public posts.", 20)
    'We train models on…'
    """
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _heading_at(lines: Sequence[str], i: int) -> str | None:
    line = lines[i]
    m = _ATX.match(line)
    if m:
        return plain(m.group(2)).strip() or None
    if i + 1 < len(lines) and line.strip() and _SETEXT.match(lines[i + 1]):
        if len(lines[i + 1].strip()) >= 3 and not line.lstrip().startswith(("|", "*", "-")):
            return plain(line).strip() or None
    m = _BOLD.match(line)
    if m:
        return plain(m.group(1)).strip() or None
    return None


def nearest_heading(text: str, sentence: str) -> str | None:
    """The heading above the first line of ``text`` holding ``sentence``, or None."""
    lines = text.splitlines()
    probe = fold(sentence)[:60]
    for i, line in enumerate(lines):
        if probe and probe in fold(plain(line)):
            for j in range(i - 1, -1, -1):
                heading = _heading_at(lines, j)
                if heading and heading != fold(plain(line)):
                    return heading
            return None
    return None


def _content(sentence: str) -> set[str]:
    return {w.casefold() for w in words(sentence) if len(w) > 2}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _most_changed(
    added: Sequence[str], removed: Sequence[str]
) -> tuple[str, str, str | None] | None:
    """(kind, sentence, the sentence it replaces) of the edit that changed most words."""
    removed_words = set().union(*(_content(s) for s in removed)) if removed else set()
    added_words = set().union(*(_content(s) for s in added)) if added else set()
    best: tuple[int, str, str, str | None] | None = None
    for sentence in added:
        new = len(_content(sentence) - removed_words)
        twin = max(removed, key=lambda r: _jaccard(_content(r), _content(sentence)), default=None)
        if twin is not None and _jaccard(_content(twin), _content(sentence)) >= _SIMILAR:
            candidate = (new, "reworded", sentence, twin)
        else:
            candidate = (new, "added", sentence, None)
        if best is None or candidate[0] > best[0]:
            best = candidate
    for sentence in removed:
        gone = len(_content(sentence) - added_words)
        if best is None or gone > best[0]:
            best = (gone, "removed", sentence, None)
    if best is None:
        return None
    return best[1], best[2], best[3]


def _notice(sentence: str, lang: str) -> bool:
    pattern = patterns("dates", "notice", None, lang_of(lang))
    return bool(pattern and pattern.search(fold(sentence)))


def edit_phrase(
    old: str,
    new: str,
    added: Sequence[str],
    removed: Sequence[str],
    lang: str = "en",
    room: int = TITLE_LIMIT,
) -> str | None:
    """What the edit is, in at most ``room`` characters: "update notice '...' removed",
    "in 'Heading', added: '...'", "in 'Heading', reworded: '...'"; None if no sentence
    changed."""
    found = _most_changed(added, removed)
    if found is None:
        return None
    kind, sentence, _ = found
    text = new if kind != "removed" else old
    if _notice(sentence, lang):
        verb = "removed" if kind == "removed" else ("changed" if kind == "reworded" else "added")
        quote = clip(sentence, max(room - len(f"update notice ‘’ {verb}"), 20))
        return f"update notice \u2018{quote}\u2019 {verb}"
    heading = nearest_heading(text, sentence)
    where = f"in \u2018{clip(heading, 40)}\u2019, " if heading else ""
    head = f"{where}{kind}: "
    quote = clip(sentence, max(room - len(head) - 2, 20))
    return f"{head}\u201c{quote}\u201d"
