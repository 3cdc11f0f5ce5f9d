"""What a newly extracted text means for a document's history.

See docs/decisions/0007-partial-renders-and-flapping.md for why a shrunken text is held.

Pure: the caller passes what it knows of the current and held versions; the decision
says what to store. A suspicious text (most of the words gone, or the selector no longer
matches) is held until a second fetch shows the same text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Decision(StrEnum):
    FIRST = "first"  # no version yet: this one starts the history
    SAME = "same"  # identical to the current version: nothing new
    ACCEPT = "accept"  # a new version and a change from the current one
    HOLD = "hold"  # suspect: keep it aside, no change yet
    CONFIRM = "confirm"  # the held text came again: accept it now


@dataclass(frozen=True)
class Seen:
    """A version as the decision needs it: its hash and its word count."""

    text_hash: str
    words: int


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    reason: str | None = None


def suspicion(
    current: Seen, new: Seen, selector_matched: bool, shrink_threshold: float
) -> str | None:
    """Why ``new`` should not be trusted yet, or None."""
    if not selector_matched:
        return "the select rule no longer matches the page"
    if current.words and new.words < current.words * shrink_threshold:
        lost = 100 - round(100 * new.words / current.words)
        return f"{lost}% of the words are gone ({current.words} -> {new.words})"
    return None


def decide(
    current: Seen | None,
    held: Seen | None,
    new: Seen,
    selector_matched: bool = True,
    shrink_threshold: float = 0.5,
) -> Verdict:
    """Decide what ``new`` is, given the current accepted version and the held one (if any)."""
    if held is not None and new.text_hash == held.text_hash:
        return Verdict(Decision.CONFIRM, "seen again on a second fetch")
    if current is None:
        if not selector_matched:
            return Verdict(Decision.HOLD, "the select rule does not match the page")
        return Verdict(Decision.FIRST)
    if new.text_hash == current.text_hash:
        return Verdict(Decision.SAME)
    reason = suspicion(current, new, selector_matched, shrink_threshold)
    if reason:
        return Verdict(Decision.HOLD, reason)
    return Verdict(Decision.ACCEPT)
