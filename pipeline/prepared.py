"""A transition's diff and verdict worked out before the document's lock is taken.

Diffing and classifying (``changes.diff``, ``changes.classify``) are most of a derive's CPU,
and ``pipeline.derive`` stores a change in one transaction holding the document's lock: on
SQLite that lock is the database's write lock (``BEGIN IMMEDIATE``, storage/locks.py), so
work done while holding it is work no other process can do at the same time. The read side
of a derive (no lock) therefore works out, for a page whose text differs from the current
version's, the diff and the verdict the locked side will most likely need (:func:`prepare`);
the locked side asks this :class:`Prepared` for them with the inputs it really has and gets
the prepared result only when every input is the same (the texts themselves, and every
option of the classifier), else works it out as before. A stale guess costs time, never a
different change. See docs/decisions/0019-derive-outside-the-write-lock.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from changes.classify import Classification, Earlier, classify
from changes.diff import diff_stats, ops_to_json, word_diff
from changes.newsroom import post_name
from storage.blobs import get_text
from storage.models import Document, Version
from storage.repo import versions_seen_since

#: (diff as JSON, words added, words removed)
Diff = tuple[str, int, int]


@dataclass
class Prepared:
    """Diffs and verdicts by their exact inputs: asked again with the same inputs, the same
    answer without working it out twice; asked with other inputs, worked out then."""

    diffs: dict[tuple[str, str], Diff] = field(default_factory=dict)
    verdicts: dict[tuple[Any, ...], Classification] = field(default_factory=dict)

    def diff(self, old: str, new: str) -> Diff:
        key = (old, new)
        if key not in self.diffs:
            ops = word_diff(old, new)
            stats = diff_stats(ops)
            self.diffs[key] = (ops_to_json(ops), stats.words_added, stats.words_removed)
        return self.diffs[key]

    def classify(self, base: str, new: str, **options: Any) -> Classification:
        frozen = tuple(
            (k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(options.items())
        )
        key = (base, new, frozen)
        if key not in self.verdicts:
            self.verdicts[key] = classify(base, new, **options)
        return self.verdicts[key]


def classifier_options(
    doc: Document, added: int, removed: int, recent: list[Earlier], seen: str
) -> dict[str, Any]:
    """What ``changes.classify`` is told besides the two texts (one builder for both sides)."""
    post = doc.kind == "newsroom"
    return {
        "document": post_name(doc.service, doc.title) if post else doc.title,
        "lang": doc.locale,
        "words_added": added,
        "words_removed": removed,
        "recent": recent,
        "profile": doc.profile,
        "seen": seen[:10],
    }


def prepare(
    session: Any,
    doc: Document,
    current: Version,
    new_text: str,
    seen_at: datetime,
    window: timedelta,
) -> Prepared:
    """The diff and verdict of ``current`` -> ``new_text`` as a plain accepted change would
    have them (no held or re-extracted text, no page flipping back to an earlier diff), read
    and worked out in ``session`` without any lock. Empty if the texts are the same."""
    prepared = Prepared()
    old_text = get_text(session, current.text_blob)
    if old_text == new_text:
        return prepared
    _, added, removed = prepared.diff(old_text, new_text)
    recent = [
        Earlier(get_text(session, v.text_blob), v.last_seen.isoformat()[:10])
        for v in versions_seen_since(session, doc.id, seen_at - window, exclude=[current.id])
    ]
    options = classifier_options(doc, added, removed, recent, seen_at.isoformat())
    prepared.classify(old_text, new_text, **options)
    return prepared
