"""The unchanged-page fast path: a fetch that shows the current version's region again.

A page with rotating link tokens is a new body on every fetch; its text is the same. Before
extracting a fetch, :func:`check_region` fingerprints its selected region
(changes/region.py: the region after removing what extraction ignores and the tokens it
strips). When the fingerprint equals the one stored with the document's current version,
the fetch shows that version's text (equal fingerprints, equal texts): extraction, diffing
and classification are skipped, and the text is not even read (its hash is the version's);
the fetch then goes through the same locked transaction as any other (``same``).
Otherwise the fetch is extracted as usual and its fingerprint is stored with the version
its text lands on, for the next fetch. See docs/decisions/0014-unchanged-pages.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from changes.decode import decode_page
from changes.extract import prepare
from changes.quality import page_failure
from changes.region import fingerprint
from config.sources import Sources
from storage.history import record_unchanged, unchanged_state
from storage.models import Document, Fetch, Version


@dataclass(frozen=True)
class Region:
    """A fetch's region fingerprint; ``version_id``: the current version it matches, if any
    (the fetch shows that version's text)."""

    hash: str
    selector_matched: bool
    version_id: int | None = None


def check_region(
    fetch: Fetch, body: bytes | None, doc: Document, current: Version | None, sources: Sources
) -> Region | None:
    """The fetch's :class:`Region` (with ``current``, the document's current version as just
    read, when unchanged), or None when the fetch has no page to fingerprint (an error, a
    feed, bytes that are not a page): the usual path then decides. Never raises for a bad
    page."""
    if fetch.error or body is None or doc.id in sources.feeds:
        return None
    try:
        decoded = decode_page(body, fetch.headers.get("content-type"))
        page = prepare(decoded.text, fetch.final_url or fetch.url, doc.select, doc.remove)
        if page is None:
            return None
        region = Region(fingerprint(page, doc.select, doc.remove), page.selector_matched)
    except Exception:  # whatever a hostile page does, the usual path reports it
        return None
    if current is None or current.region_hash != region.hash:
        return region
    # The text is the version's; the checks of a page that are not about the text still run.
    if page_failure(fetch.final_url, decoded.text, current.words, sources.crawl.min_words):
        return region
    return Region(region.hash, region.selector_matched, current.id)


def commit_unchanged(
    session: Session, document_id: str, fetch_id: int, version_id: int, region: str
) -> str | None:
    """Apply a fetch whose region is version ``version_id``'s (found before the lock) in the
    caller's transaction, which holds the document's lock, with a few plain statements:
    ``same`` (the version seen again, exactly what ``apply_text`` does with its text), or
    ``skipped`` if another run processed the fetch first. None when the document is not in
    that plain state any more (another version is current, a held version is to confirm or
    drop): the caller then applies the fetch as any other."""
    state = unchanged_state(session, document_id, fetch_id)
    if state.processed:
        return "skipped"
    if state.current_version_id != version_id or state.current_last_seen is None or state.any_held:
        return None
    last_seen = max(state.current_last_seen, state.seen_at)
    record_unchanged(session, fetch_id, version_id, last_seen, region)
    return "same"
