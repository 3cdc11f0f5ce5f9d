"""A version's text extracted again from its stored body: the extractor-version compare.

A version records the extractor that produced its text (``Version.extractor_version``;
``changes.extract.EXTRACTOR_VERSION``). The same body can give another text once the
extractor (or the document's ``select``/``remove`` rules) changed: that difference comes
from policywatch, not from the page, so it is a **technical** change, never an alert
(decision 0003). Two callers:

* ``pipeline.derive``: a crawl whose document's current version was extracted by an older
  extractor first moves the document to its current body re-extracted (technical), then
  applies the new fetch, so the page's own change is diffed against a text of the same
  extractor and the extractor's difference never alerts;
* ``pipeline.rederive`` (``policywatch rederive``): the same for every document, on demand.

Versions replayed from an archive (``archive+...``) have no stored body: never re-extracted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

import changes.extract
from pipeline.detect import record_change
from pipeline.versions import apply_text
from storage.history import body_fetch as body_fetch  # the body a version is re-extracted from
from storage.models import Document, Fetch, Version


def running_extractor() -> str:
    """The extractor version of this code (read at call time)."""
    return changes.extract.EXTRACTOR_VERSION


def replayed(version: Version) -> bool:
    return version.extractor_version.startswith("archive")


def stale(version: Version | None, extractor: str | None = None) -> bool:
    """True if ``version`` was extracted from a stored body by another extractor."""
    if version is None or replayed(version):
        return False
    return version.extractor_version != (extractor or running_extractor())


@dataclass(frozen=True)
class Reextracted:
    """The text of version ``version_id``'s body (fetch ``fetch_id``) as extracted now."""

    version_id: int
    fetch_id: int
    text: str
    seen_at: datetime


def apply_reextracted(
    session: Session,
    doc: Document,
    again: Reextracted,
    run_id: int | None,
    extractor: str | None = None,
) -> tuple[str, int | None]:
    """In the caller's locked transaction: move ``doc`` from its current version to the same
    body's text as extracted now, as a technical change. The outcome (``same``: the text did
    not change, the version is marked as the running extractor's; ``technical``: a new
    version and a technical change; ``moved``: the document no longer shows that version,
    nothing done) and the change's id."""
    extractor = extractor or running_extractor()
    if doc.current_version_id != again.version_id:
        return "moved", None
    current = session.get(Version, again.version_id)
    assert current is not None
    if current.text_hash == text_hash(again.text):  # this extractor writes the same text
        current.extractor_version = extractor
        session.flush()
        return "same", None
    outcome, version, transition = apply_text(
        session,
        doc,
        again.text,
        again.seen_at,
        fetch_id=again.fetch_id,
        shrink_threshold=0.0,  # the same body: nothing was lost in rendering, never held
        extractor_version=extractor,
        technical=True,
    )
    fetch = session.get(Fetch, again.fetch_id)
    if fetch is not None:  # the body shows this text now (and is found as its body)
        fetch.version_id = version.id
    if transition is None:  # not a move of the current version: cannot happen, unheld
        return outcome, None
    transition = replace(transition, same_body=True)  # the same body: nothing new on the page
    change = record_change(session, transition, run_id, fetch_id=again.fetch_id)
    assert change is not None  # a technical move of the current version is always stored
    return "technical", change.id


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
