"""Check every legal-basis claim against both texts before it is published. Pure, no I/O.

The legal-basis parser reads purposes from tables, lists and headings. When a policy
changes its layout, one side may yield no purposes (or other ones) although the words are
still there: comparing the two readings then produces claims that are false ("no longer
relies on" for a purpose the new text still states). A claim survives only when the texts
confirm it:

- "P now relies on B": the old reading does not list P under B (under any audience), and
  P's words are not in the old text unless the old reading found P under another basis;
  nor does the old text name B without the reading finding any purpose under it (B was
  stated in a form that cannot be compared, such as prose);
- "P no longer relies on B": the new reading does not list P under B, and P's words are
  gone from the new text unless the new reading found P under another basis;
- "the text now states B" / "no longer states B": the old (new) text names B nowhere.

A purpose gone from every basis whose words now mostly belong to a purpose listed under
another basis was folded into it: "no longer relies on" would be half the story, so it is
not claimed (it is one of the purposes that could not be compared). When most purposes
cannot be confirmed, the legal-basis section was reorganised: the change says how many
purposes could not be compared and claims nothing.

Processing steps are checked the same way (``check_steps``): a step "added" whose words
were already on one line of the old text, or that rewords steps the same purpose lost, is
no change (a list re-laid out, two bullets merged into one); nor is a step "removed" whose
words are still in the new text. A sentence stating a basis (changes/prose_bases.py) that
repeats a claim the tables already make is not a second claim (``without_repeats``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from changes.legalbasis import BASES, LegalBases, bases_named, basis_name
from changes.legalbasis import _content as content_words
from changes.legalbasis import _key as purpose_key
from changes.plain import plain

__all__ = ["Checked", "check_claims", "check_steps", "stated_bases_check", "without_repeats"]

#: Unconfirmed purposes (or more than confirmed ones) from which a section is reorganised.
REORGANISED_AT = 3
_PRESENT = 0.85  # share of a purpose's content words on one line for it to be "still there"
_FOLDED = 0.6  # share of a vanished purpose's words in a purpose under another basis
_REWORDED = 0.8  # share of a step's words in the steps its purpose lost (or gained)
_NEW_WORDS = 4  # content words of a step not in those steps from which it says something new
_REPEAT = 0.5  # share of the shorter purpose's words that makes a prose claim a repeat


@dataclass
class Checked:
    """Claims confirmed by both texts, and how many purposes could not be compared."""

    purposes: list[dict[str, Any]] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)  # purpose labels
    reorganised: bool = False


def _names() -> dict[str, str]:
    return {basis_name(b): b for b in BASES}


def _listed(reading: LegalBases, label: str) -> set[str]:
    """Bases under which ``reading`` lists the purpose ``label`` (any audience)."""
    key = purpose_key(label)
    words = content_words(label)
    out = set()
    for basis, purposes in reading.purposes.items():
        for p in purposes:
            if p.key == key or (words and _overlap(words, content_words(p.label)) >= 0.9):
                out.add(basis)
    return out


def _folded(reading: LegalBases, label: str, bases: list[str]) -> bool:
    """Does ``reading`` list, under a basis other than ``bases``, a purpose holding most of
    the words of ``label`` (the purpose was folded into another one)?"""
    words = content_words(label)
    return any(
        _overlap(words, content_words(p.label)) >= _FOLDED
        for basis, purposes in reading.purposes.items()
        if basis not in bases
        for p in purposes
    )


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a) if a else 0.0


def _present(text_lines: list[frozenset[str]], label: str) -> bool:
    """Are the words of ``label`` still on one line of a text?"""
    words = content_words(label)
    if not words:
        return False
    return any(_overlap(words, line) >= _PRESENT for line in text_lines)


_PIECE = re.compile(r"<br>|\||(?<=[.;:!?])\s")


def _line_words(text: str) -> list[frozenset[str]]:
    """Content words of each table cell, list item or sentence of ``text`` (a long table
    row holds most words of any purpose: the words must be together in one piece)."""
    return [
        content_words(plain(piece))
        for line in text.splitlines()
        if line.strip()
        for piece in _PIECE.split(line)
        if piece.strip()
    ]


def check_claims(
    entries: list[dict[str, Any]],
    old: LegalBases,
    new: LegalBases,
    old_text: str,
    new_text: str,
    lang: str = "en",
) -> Checked:
    """Keep the bases added to / removed from each purpose that both texts confirm.

    A basis the old text names while its reading lists no purpose under it was stated in a
    form that cannot be compared (prose: "We have a legitimate interest in making Pinterest
    safe"): no purpose is claimed to newly rely on it."""
    names = _names()
    checked = Checked()
    old_lines: list[frozenset[str]] | None = None
    new_lines: list[frozenset[str]] | None = None
    unread: set[str] | None = None  # bases the old text names with no purpose read under them
    for entry in entries:
        label = str(entry["purpose"])
        before, after = _listed(old, label), _listed(new, label)
        added = [b for b in entry["added"] if names.get(b, b) not in before]
        if added:
            if unread is None:
                unread = {b for b in bases_named(old_text, lang) if not old.purposes.get(b)}
            added = [b for b in added if names.get(b, b) not in unread]
        removed = [b for b in entry["removed"] if names.get(b, b) not in after]
        if added and not before:  # a new purpose: its words must be new too
            old_lines = old_lines if old_lines is not None else _line_words(old_text)
            if _present(old_lines, label):
                added = []
        if removed and not after:  # a purpose gone: its words must be gone too
            new_lines = new_lines if new_lines is not None else _line_words(new_text)
            if _present(new_lines, label) or _folded(
                new, label, [names.get(b, b) for b in removed]
            ):
                removed = []
        if added or removed:
            checked.purposes.append({**entry, "added": added, "removed": removed})
        if len(added) < len(entry["added"]) or len(removed) < len(entry["removed"]):
            checked.unconfirmed.append(label)
    if len(checked.unconfirmed) >= REORGANISED_AT or (
        checked.unconfirmed and len(checked.unconfirmed) > len(checked.purposes)
    ):
        checked.reorganised = True
        checked.purposes = []
    return checked


def stated_bases_check(
    added: list[str],
    removed: list[str],
    old: LegalBases,
    new: LegalBases,
    old_text: str,
    new_text: str,
    lang: str,
) -> tuple[list[str], list[str]]:
    """Bases the text newly states (named nowhere in the old text, and with purposes listed
    under it in the new one) and no longer states (named nowhere in the new text), of those
    the readings suggest. A basis newly named in passing is not a new basis."""
    names = _names()
    old_named = bases_named(old_text, lang) if added else set()
    new_named = bases_named(new_text, lang) if removed else set()
    return (
        [
            b
            for b in added
            if names.get(b, b) not in old_named and new.purposes.get(names.get(b, b))
        ],
        [b for b in removed if names.get(b, b) not in new_named],
    )


def _words_of(items: list[str]) -> frozenset[str]:
    return frozenset().union(*(content_words(i) for i in items)) if items else frozenset()


def _reworded(step: frozenset[str], others: frozenset[str]) -> bool:
    """Are most of a step's words in the steps on the other side, and too few new ones
    to say something new? "Provide and curate AI at Meta ..., enabling the creation of
    content" made "Provide our features that are part of AI at Meta that do things like
    create and understand content ... and perform actions" is a step that changed."""
    return _overlap(step, others) >= _REWORDED and len(step - others) < _NEW_WORDS


def check_steps(
    entries: list[dict[str, Any]], old_text: str, new_text: str
) -> tuple[list[dict[str, Any]], int]:
    """The processing steps each purpose really gained and lost, and how many steps the
    texts did not confirm (already in the old text, still in the new one)."""
    old_lines: list[frozenset[str]] | None = None
    new_lines: list[frozenset[str]] | None = None
    out: list[dict[str, Any]] = []
    unconfirmed = 0
    for entry in entries:
        gained, lost = list(entry["added"]), list(entry["removed"])
        gained_words, lost_words = _words_of(gained), _words_of(lost)
        added, removed = [], []
        for step in gained:
            if _reworded(content_words(step), lost_words):
                continue  # a rewording, a merge or a split of steps it lost
            old_lines = old_lines if old_lines is not None else _line_words(old_text)
            if _present(old_lines, step):
                unconfirmed += 1
            else:
                added.append(step)
        for step in lost:
            if _reworded(content_words(step), gained_words):
                continue
            new_lines = new_lines if new_lines is not None else _line_words(new_text)
            if _present(new_lines, step):
                unconfirmed += 1
            else:
                removed.append(step)
        if added or removed:
            out.append({**entry, "added": added, "removed": removed})
    return out, unconfirmed


def without_repeats(
    prose: list[dict[str, Any]], structural: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Prose claims (summary items) that no table or list claim already makes: the same
    basis, the same action and mostly the same purpose words."""

    def repeats(item: dict[str, Any]) -> bool:
        words = content_words(str(item["purpose"]))
        for other in structural:
            if other["basis"] != item["basis"] or other["action"] != item["action"]:
                continue
            theirs = content_words(str(other["purpose"]))
            shorter = min(len(words), len(theirs))
            if shorter and len(words & theirs) >= _REPEAT * shorter:
                return True
        return False

    return [item for item in prose if not repeats(item)]
