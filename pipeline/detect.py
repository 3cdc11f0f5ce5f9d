"""Transition -> change: diff once, classify (``changes.classify``), store as a Change.

Feeds and pages never diff again: they read the diff stored here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from changes.classify import Earlier, classify
from changes.diff import diff_stats, ops_to_json, word_diff
from changes.newsroom import new_post_title, post_name
from pipeline.versions import Transition
from storage.blobs import get_text
from storage.history import add_change, change_between
from storage.models import Change, Document, Version


def record_change(
    session: Any, t: Transition, run_id: int | None, fetch_id: int | None = None
) -> Change:
    """Diff a transition once, classify it (changes.classify) and store it as a Change, in
    the caller's transaction: the one that stored the version (``pipeline.derive``).

    A newsroom post is named as one and gets the category ``newsroom``; its first version
    (``from_version_id`` None) is diffed against nothing.
    """
    old = session.get(Version, t.from_version_id) if t.from_version_id else None
    new = session.get(Version, t.to_version_id)
    doc = session.get(Document, t.document_id)
    old_text = get_text(session, old.text_blob) if old else ""
    new_text = get_text(session, new.text_blob)
    post = doc.kind == "newsroom"
    earlier = change_between(session, old.id, new.id) if old else None
    if earlier is not None and earlier.diff_blob:  # a page flipping: this diff exists already
        diff_json = get_text(session, earlier.diff_blob)
        added, removed = earlier.words_added, earlier.words_removed
    else:
        ops = word_diff(old_text, new_text)
        stats = diff_stats(ops)
        diff_json, added, removed = ops_to_json(ops), stats.words_added, stats.words_removed
    recent = []
    for version_id, last_seen in t.recent:
        version = session.get(Version, version_id)
        if version is not None:
            recent.append(Earlier(get_text(session, version.text_blob), last_seen[:10]))
    verdict = classify(
        old_text,
        new_text,
        document=post_name(doc.service, doc.title) if post else doc.title,
        lang=doc.locale,
        words_added=added,
        words_removed=removed,
        recent=recent,
        profile=doc.profile,
        seen=t.at[:10],
    )
    summary, title, categories = dict(verdict.summary), verdict.title, list(verdict.categories)
    if post:
        if old is None:
            title = new_post_title(doc.service, doc.title, added)
            summary["post"] = doc.url
        categories = ["newsroom", *(c for c in categories if c != "newsroom")]
    if t.technical:
        summary["no_alert"] = "technical: the text was re-extracted, the page did not change"
        title = f"{doc.title}: text re-extracted (technical, not news)"
    return add_change(
        session,
        t.document_id,
        old.id if old else None,
        new.id,
        datetime.fromisoformat(t.at),
        run_id,
        diff_json,
        added,
        removed,
        title,
        categories,
        summary,
        technical=t.technical,
        alert=verdict.alert,
        fetch_id=fetch_id,
    )
