"""Text -> version: a page's text becomes a version of its document, or not.

:func:`apply_text` is the one place where crawled and replayed texts become versions
(docs/decisions/0005-replaying-archived-history.md); ``pipeline.derive`` feeds it the
fetches, ``pipeline.replay`` an archive. A move of the current version is a
:class:`Transition`, which ``pipeline.detect`` diffs in the same transaction.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from changes.dates import stated_date
from changes.extract import EXTRACTOR_VERSION, word_count
from changes.newsroom import announce_first_version
from changes.versioning import Decision, Seen, decide
from config.defaults import FLAP_WINDOW_DAYS
from config.sources import Sources
from storage.history import add_or_touch_version, drop_held, set_current
from storage.models import Document, Version
from storage.repo import first_fetch_run, held_versions, versions_seen_since


@dataclass(frozen=True)
class Transition:
    """A document moved from one accepted version to another: a change to diff.

    ``recent`` lists the other versions the document showed within the flapping window
    before this change, as (version id, ISO time last seen) taken before the change: the
    classifier needs them to tell a page flipping back from news. ``technical``: the new
    text comes from a change of extraction, not from the page (news only for sentences the
    old extraction never had, changes/additions.py). ``held``: the new text lost most of
    the page's words and is held, the document stays at ``from_version_id``; only what it
    adds may be told (docs/decisions/0007).
    """

    document_id: str
    from_version_id: int | None  # None: a newsroom post's first version, announced
    to_version_id: int
    at: str  # ISO time of the fetch (or archive record) that showed it
    recent: list[tuple[int, str]] = field(default_factory=list)
    technical: bool = False
    held: bool = False
    same_body: bool = False  # re-extracted from the very body shown before: never news


def new_post(session: Any, doc: Document, sources: Sources) -> bool:
    """A newsroom post's first version that is news (changes.newsroom)."""
    if doc.kind != "newsroom" or doc.group_id not in sources.feeds:
        return False
    feed_run = first_fetch_run(session, doc.group_id, ok=True)
    return announce_first_version(feed_run, first_fetch_run(session, doc.id))


def apply_text(
    session: Any,
    doc: Document,
    text: str | None,
    seen_at: datetime,
    *,
    text_hash: str | None = None,
    fetch_id: int | None = None,
    selector_matched: bool = True,
    shrink_threshold: float = 0.5,
    extractor_version: str = EXTRACTOR_VERSION,
    technical: bool = False,
    window: timedelta = timedelta(days=FLAP_WINDOW_DAYS),
) -> tuple[str, Version, Transition | None]:
    """Apply a newly seen text of ``doc`` to its history: the one place where crawled and
    replayed texts become versions (docs/decisions/0005-replaying-archived-history.md).

    Returns the outcome (``same``, ``new``, ``held`` or ``confirmed``), the version that
    holds the text, and the transition to diff if the document moved to a new version, or
    a ``held`` one when a shrunken text (not a selector that stopped matching) is held.
    ``text_hash``: the text's hash when the caller knows it; ``text`` may then be None if
    it is the current version's (an unchanged page, pipeline/unchanged.py).
    """
    if text_hash is None:
        assert text is not None
        text_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    # Not doc.current_version: that relationship is cached until the session expires it.
    current = session.get(Version, doc.current_version_id) if doc.current_version_id else None
    same = current is not None and current.text_hash == text_hash
    if not same and text is None:
        raise ValueError("apply_text: no text, and its hash is not the current version's")
    words = current.words if same and current is not None else word_count(text or "")
    new = Seen(text_hash, words)
    held_list = held_versions(session, doc.id)
    held = held_list[-1] if held_list else None
    verdict = decide(
        Seen(current.text_hash, current.words) if current else None,
        Seen(held.text_hash, held.words) if held else None,
        new,
        selector_matched,
        shrink_threshold,
    )
    recent: list[tuple[int, str]] = []
    if current is not None and verdict.decision in (Decision.ACCEPT, Decision.CONFIRM):
        # Before the new text touches its version: when did the document last show it?
        recent = [
            (v.id, v.last_seen.isoformat())
            for v in versions_seen_since(session, doc.id, seen_at - window, exclude=[current.id])
        ]
    state = "held" if verdict.decision is Decision.HOLD else "accepted"
    version = add_or_touch_version(
        session,
        doc.id,
        text or "",  # None: the current version's text, which the version already holds
        new.text_hash,
        words,
        seen_at,
        fetch_id,
        extractor_version,
        current.effective_date if same and current is not None else stated_date(text or ""),
        state,
        verdict.reason,
        known=current if same else None,
    )
    if verdict.decision is Decision.HOLD:
        drop_held(session, doc.id, keep_id=version.id, held=held_list)
        if current is None or not selector_matched:
            return "held", version, None
        at = seen_at.isoformat()
        return "held", version, Transition(doc.id, current.id, version.id, at, [], technical, True)
    drop_held(session, doc.id, keep_id=None, held=held_list)
    if verdict.decision is Decision.SAME:
        return "same", version, None
    set_current(session, doc.id, version.id)
    outcome = "confirmed" if verdict.decision is Decision.CONFIRM else "new"
    if current is None:
        return outcome, version, None
    at = seen_at.isoformat()
    return outcome, version, Transition(doc.id, current.id, version.id, at, recent, technical)
