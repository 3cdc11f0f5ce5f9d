"""Transition -> change: diff once, classify (``changes.classify``), store as a Change.

Feeds and pages never diff again: they read the diff stored here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from changes.additions import additions_only, with_additions
from changes.classify import Classification, Earlier
from changes.newsroom import new_post_title
from pipeline.prepared import Prepared, classifier_options
from pipeline.versions import Transition
from storage.blobs import get_text
from storage.history import add_change, change_between
from storage.models import Change, Document, Version


def record_change(
    session: Any,
    t: Transition,
    run_id: int | None,
    fetch_id: int | None = None,
    prepared: Prepared | None = None,
) -> Change | None:
    """Diff a transition once, classify it (changes.classify) and store it as a Change, in
    the caller's transaction: the one that stored the version (``pipeline.derive``).

    A newsroom post is named as one and gets the category ``newsroom``; its first version
    (``from_version_id`` None) is diffed against nothing.

    A held text (``t.held``) is stored as a change only when what it adds is news
    (changes/additions.py), once; None otherwise. A technical text is a technical change,
    unless it also carries news the old extraction never had: then only that is told. When
    a held text whose additions were told is confirmed, what is left is told: the old text
    with those additions against the new one.

    ``prepared``: the diff and verdict worked out before the lock (pipeline/prepared.py),
    used only where their inputs are exactly the ones found here.
    """
    prepared = prepared or Prepared()
    old = session.get(Version, t.from_version_id) if t.from_version_id else None
    new = session.get(Version, t.to_version_id)
    doc = session.get(Document, t.document_id)
    old_text = get_text(session, old.text_blob) if old else ""
    new_text = get_text(session, new.text_blob)
    post = doc.kind == "newsroom"
    earlier = change_between(session, old.id, new.id) if old else None
    told = earlier is not None and "additions_only" in (earlier.summary or {})
    if t.held and (told or old is None):
        return None  # told already (a held text seen again after a flip), or nothing to tell
    if earlier is not None and earlier.diff_blob:  # a page flipping: this diff exists already
        diff_json = get_text(session, earlier.diff_blob)
        added, removed = earlier.words_added, earlier.words_removed
    else:
        diff_json, added, removed = prepared.diff(old_text, new_text)
    recent = []
    for version_id, last_seen in t.recent:
        version = session.get(Version, version_id)
        if version is not None:
            recent.append(Earlier(get_text(session, version.text_blob), last_seen[:10]))
    options = classifier_options(doc, added, removed, recent, t.at)
    technical = t.technical
    verdict: Classification | None = None
    if t.held or (technical and not t.same_body):
        verdict = additions_only(old_text, new_text, "held" if t.held else "technical", **options)
        if verdict is None and t.held:
            return None
        technical = technical and verdict is None
    if verdict is None:
        base = old_text
        if told and old is not None:  # the held text's additions were told: the rest
            base = with_additions(old_text, new_text) or old_text
        verdict = prepared.classify(base, new_text, **options)
    summary, title, categories = dict(verdict.summary), verdict.title, list(verdict.categories)
    if post:
        if old is None:
            title = new_post_title(doc.service, doc.title, added)
            summary["post"] = doc.url
        categories = ["newsroom", *(c for c in categories if c != "newsroom")]
    if technical:
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
        technical=technical,
        alert=verdict.alert,
        fetch_id=fetch_id,
    )
