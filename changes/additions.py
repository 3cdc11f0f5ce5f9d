"""What a text adds and nothing else: for versions whose losses are not news (pure).

Two kinds of version are not compared with the one before as a whole
(docs/decisions/0007, 0013 §15):

- a **held** text, most of whose words are gone (a partial render, waiting for a second
  fetch): what vanished is not news, but a notice the render carries that the last stored
  version did not have is;
- a **technical** text (the archive re-extracted the page): what the new extraction drops
  or re-lays out (link texts, headings, "Return to top") is not news, but sentences the old
  extraction never had are.

:func:`with_additions` gives the old text with the new text's added lines put in where they
stand, so that classifying ``old`` against it says what was added and nothing about what
vanished. A line is not added when the old text has its words in the same order, close
together (a re-extraction drops a link's text or splits a heading off its paragraph; a
render numbers its headings).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from difflib import SequenceMatcher

from changes.classify import Classification, Earlier, classify
from changes.plain import plain, words

__all__ = [
    "MIN_SURVIVING",
    "added_lines",
    "additions_only",
    "surviving_share",
    "with_additions",
]

#: A held text is the old page partially rendered (not an error page or another page)
#: when at least this share of its words stand on lines of the old text.
MIN_SURVIVING = 0.5

# What a change told only for its additions says, by the kind of version it leads to.
_TOLD = {
    "held": "most of the page vanished (held until it is seen again): only what it adds is told",
    "technical": (
        "the page was re-extracted, and it also carries sentences the old extraction never "
        "had: only those are told"
    ),
}

# A sentence a re-extraction cannot have made up: words, then a final stop.
_SENTENCE = re.compile(r"\w.*[.!?]\W*$")
_SENTENCE_WORDS = 6

# A line's words in order may stand this far apart in the old text (times their number,
# plus a few): a link's text dropped, a label moved to its own line.
_SPREAD = 2
_SLACK = 8


def _tokens(line: str) -> list[str]:
    """A line's words, casefolded, numbers (heading numbering) aside."""
    return [w for w in (w.casefold() for w in words(plain(line))) if not w.isdigit()]


class _Index:
    """The words of a text, with where each one stands, to find lines it has in order."""

    def __init__(self, text: str) -> None:
        self.words: list[str] = []
        for line in text.splitlines():
            self.words.extend(_tokens(line))
        self.at: dict[str, list[int]] = defaultdict(list)
        for i, word in enumerate(self.words):
            self.at[word].append(i)

    def has(self, tokens: Sequence[str]) -> bool:
        """Does the text have these words in this order, close together?"""
        if not tokens:
            return True
        if any(t not in self.at for t in tokens):
            return False
        span = _SPREAD * len(tokens) + _SLACK
        for start in self.at[tokens[0]]:
            i, end = start + 1, min(len(self.words), start + span)
            k = 1
            while k < len(tokens) and i < end:
                if self.words[i] == tokens[k]:
                    k += 1
                i += 1
            if k == len(tokens):
                return True
        return False


def added_lines(old: str, new: str) -> list[tuple[int, list[str]]]:
    """The runs of lines of ``new`` that ``old`` does not have, each with the index of the
    old line it comes before (``len(old lines)``: at the end). Blank lines are not runs."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    have = {" ".join(_tokens(line)) for line in old_lines}
    index: _Index | None = None
    out: list[tuple[int, list[str]]] = []
    matcher = SequenceMatcher(lambda line: not line.strip(), old_lines, new_lines, autojunk=False)
    for tag, i1, _, j1, j2 in matcher.get_opcodes():
        if tag not in ("insert", "replace"):
            continue
        run: list[str] = []
        for line in new_lines[j1:j2]:
            tokens = _tokens(line)
            if not tokens or " ".join(tokens) in have:
                continue
            index = index or _Index(old)
            if not index.has(tokens):
                run.append(line)
        if run:
            out.append((i1, run))
    return out


def _sentence(line: str) -> bool:
    """Is the line (or a sentence in it) a sentence of some length, not a heading?"""
    text = plain(line).strip()
    return len(_tokens(text)) >= _SENTENCE_WORDS and bool(_SENTENCE.search(text))


def with_additions(old: str, new: str) -> str | None:
    """``old`` with the lines only ``new`` has put in before the old line they precede, or
    None when ``new`` adds nothing (every line of it stands in ``old``, words in order)."""
    runs = added_lines(old, new)
    if not runs:
        return None
    old_lines = old.splitlines()
    out: list[str] = []
    at = 0
    for i, run in runs:
        out.extend(old_lines[at:i])
        at = max(at, i)
        out.extend(["", *("\n\n".join(run).splitlines()), ""])
    out.extend(old_lines[at:])
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n") + "\n"


def surviving_share(old: str, new: str) -> float:
    """The share of ``new``'s words that stand on lines ``old`` has (words compared): how
    much of a shrunken text is the old page partially rendered, not another page."""
    have = {" ".join(_tokens(line)) for line in old.splitlines()}
    total = kept = 0
    for line in new.splitlines():
        tokens = _tokens(line)
        total += len(tokens)
        if tokens and " ".join(tokens) in have:
            kept += len(tokens)
    return kept / total if total else 0.0


def additions_only(
    old: str,
    new: str,
    kind: str,
    *,
    document: str,
    lang: str = "en",
    profile: str = "default",
    seen: str | None = None,
    recent: Sequence[Earlier] = (),
    words_added: int = 0,
    words_removed: int = 0,
) -> Classification | None:
    """The classification of what ``new`` adds to ``old`` and nothing else, when it is news:
    ``kind`` ``"held"`` (a shrunken text kept aside) or ``"technical"`` (a re-extraction).
    News means a category beyond ``text`` (a legal basis, an opt-out, a date, AI): a
    re-extraction or a partial render also rewords, splits and renumbers, and an error
    page has words too. A held text must be mostly the old page (:data:`MIN_SURVIVING`);
    a technical one must add a sentence: headings, labels and link texts are what a new
    extraction surfaces or drops (Pinterest's collapsed section titles, 2024-08-15).
    None: nothing to tell."""
    if kind == "held" and surviving_share(old, new) < MIN_SURVIVING:
        return None
    runs = added_lines(old, new)
    if kind == "technical" and not any(_sentence(line) for _, run in runs for line in run):
        return None  # headings, labels, link texts: what a re-extraction surfaces or drops
    overlay = with_additions(old, new)
    if overlay is None:
        return None
    verdict = classify(
        old,
        overlay,
        document=document,
        lang=lang,
        profile=profile,
        seen=seen,
        recent=recent,
        words_added=words_added,
        words_removed=words_removed,
    )
    if not verdict.alert or set(verdict.categories) <= {"text"}:
        return None
    summary = dict(verdict.summary)
    summary["additions_only"] = {"kind": kind, "reason": _TOLD[kind]}
    return Classification(verdict.title, verdict.categories, summary, True)
