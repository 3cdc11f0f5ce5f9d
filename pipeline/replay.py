"""Replay an archived history into policywatch, as if it had been crawled at the recorded
times: every text goes through :func:`pipeline.versions.apply_text` and every change through
:func:`pipeline.detect.record_change`, the same functions a crawl uses. In-process, no Prefect.

Fast on long histories: identical recorded texts are recognised by hash before any work,
each distinct text is normalised once, and only distinct consecutive texts are diffed.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from changes.extract import EXTRACTOR_VERSION, normalise_markdown
from changes.links import canonical_url
from config.defaults import FLAP_WINDOW_DAYS
from config.documents import DocumentSpec
from pipeline.archive import ArchivedVersion
from pipeline.detect import record_change
from pipeline.runs import run
from pipeline.versions import apply_text
from storage.db import open_db
from storage.history import known_until, touch_version
from storage.locks import lock_document
from storage.models import Change, Document

__all__ = ["Normaliser", "ReplayResult", "ReplayStep", "replay"]

#: Versions derived from an archive's Markdown (not from a fetched page) say so.
ARCHIVE_EXTRACTOR = f"archive+{EXTRACTOR_VERSION}"

#: A replay commits its work at least this often (each batch a short locked transaction).
BATCH_SECONDS = 0.5


# A plain Markdown link target: "](https://...)" without spaces, parentheses or <>.
_TARGET = re.compile(r"\]\(([^\s()<>]*)\)")


class Normaliser:
    """``normalise_markdown`` for a sequence of recorded texts of one page, fast.

    Most recorded versions differ from the one before only in rotating link tokens. When a
    text equals the previous one outside its plain link targets, and each target that
    differs canonicalises to the same URL, its normalised form is the previous one: no need
    to run the regular expressions over 300 KB again. Anything else is normalised in full.
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self._previous: tuple[list[str], str] | None = None  # split text, normalised
        self.full = 0  # texts normalised in full

    def __call__(self, raw: str) -> str:
        parts = _TARGET.split(raw)
        if self._previous is not None and self._same(self._previous[0], parts):
            text = self._previous[1]
        else:
            text = normalise_markdown(raw, self.base)
            self.full += 1
        self._previous = (parts, text)
        return text

    def _same(self, before: list[str], after: list[str]) -> bool:
        if len(before) != len(after) or before[0::2] != after[0::2]:
            return False
        return all(
            a == b or canonical_url(a, self.base) == canonical_url(b, self.base)
            for a, b in zip(before[1::2], after[1::2], strict=True)
        )


@dataclass(frozen=True)
class ReplayStep:
    """What became of one archived version."""

    recorded_at: datetime
    raw_hash: str  # sha256 of the text as recorded
    version_id: int
    outcome: str  # same | new | held | confirmed
    change_id: int | None  # the change it caused, if any
    technical: bool


@dataclass
class ReplayResult:
    """What a replay did: counts of outcomes, the changes it stored, how long it took."""

    document_id: str
    run_id: int
    versions: int = 0  # archived versions read
    distinct_texts: int = 0  # distinct texts once normalised
    counts: dict[str, int] = field(
        default_factory=lambda: {"same": 0, "new": 0, "held": 0, "confirmed": 0, "known": 0}
    )
    change_ids: list[int] = field(default_factory=list)
    changes: int = 0
    alerts: int = 0
    technical: int = 0
    seconds: float = 0.0
    steps: list[ReplayStep] = field(default_factory=list)


def replay(
    db_url: str,
    spec: DocumentSpec,
    versions: Sequence[ArchivedVersion],
    *,
    flap_window_days: float = FLAP_WINDOW_DAYS,
    on_version: Callable[[int, ArchivedVersion], None] | None = None,
) -> ReplayResult:
    """Apply ``versions`` (oldest first) to the history of the document ``spec`` describes.

    The document is created or updated from ``spec``. Versions and changes carry the
    recorded dates. The archive records a text only when it changes, so the text current
    before each record is taken as shown until that record (a crawl would have seen it).
    Archive-side technical versions become technical changes: they move the baseline and
    never alert. ``on_version(i, version)`` is called after each version (progress).

    Commits in batches (:data:`BATCH_SECONDS`), each holding the document's lock, so that a
    crawl meanwhile waits a moment, never a whole replay. Records no newer than what the
    document's history already covers are skipped (counted as ``known``): a replay run twice,
    or stopped half-way, resumes where it stopped instead of applying old texts again.
    """
    started = time.monotonic()
    window = timedelta(days=flap_window_days)
    sessions = open_db(db_url)
    with run(db_url, "replay", [spec]) as current, sessions() as session:
        result = ReplayResult(spec.id, current.id)
        texts: dict[str, str] = {}  # sha256 of the recorded text -> normalised text
        normalise = Normaliser(spec.url)
        try:
            lock_document(session, spec.id)
            doc = session.get(Document, spec.id)
            session.refresh(doc)
            known = known_until(session, spec.id)
            batch_started = time.monotonic()
            for i, recorded in enumerate(versions):
                if time.monotonic() - batch_started > BATCH_SECONDS:
                    session.commit()  # the batch is history; let other writers in
                    lock_document(session, spec.id)
                    session.refresh(doc)
                    batch_started = time.monotonic()
                if known is not None and recorded.recorded_at <= known:
                    # already in the history (a replay run twice or stopped half-way, or an
                    # archive that overlaps what was crawled): applying it again would
                    # invent changes
                    result.counts["known"] += 1
                    result.versions += 1
                    continue
                raw = hashlib.sha256(recorded.text.encode("utf-8")).hexdigest()
                text = texts.get(raw)
                if text is None:
                    text = texts[raw] = normalise(recorded.text)
                if doc.current_version_id is not None:
                    touch_version(session, doc.current_version_id, recorded.recorded_at)
                outcome, version, transition = apply_text(
                    session,
                    doc,
                    text,
                    recorded.recorded_at,
                    extractor_version=ARCHIVE_EXTRACTOR,
                    technical=recorded.technical,
                    window=window,
                )
                result.counts[outcome] += 1
                change_id = None
                change = record_change(session, transition, current.id) if transition else None
                if change is not None:
                    _count(result, change)
                    change_id = change.id
                step = ReplayStep(
                    recorded.recorded_at, raw, version.id, outcome, change_id, recorded.technical
                )
                result.steps.append(step)
                result.versions += 1
                if on_version is not None:
                    on_version(i, recorded)
            result.distinct_texts = len(set(texts.values()))
            result.seconds = time.monotonic() - started
            session.commit()
        finally:  # a replay that fails keeps nothing (the session rolls back) but its counts
            current.counts = _run_counts(result)
    return result


def _count(result: ReplayResult, change: Change) -> None:
    result.change_ids.append(change.id)
    result.changes += 1
    result.alerts += int(change.alert)
    result.technical += int(change.technical)


def _run_counts(result: ReplayResult) -> dict[str, int]:
    return {
        "versions": result.versions,
        **result.counts,
        "changes": result.changes,
        "alerts": result.alerts,
        "technical": result.technical,
    }
