"""Fetches -> versions and changes, one document transaction at a time, nothing lost or doubled.

For each stored fetch not yet processed, oldest first (:func:`derive_document`):

1. :func:`read_page` reads its body and turns it into text outside any write transaction (decoding,
   extraction: the slow, fallible part). A page that cannot be read becomes a typed
   failure of that fetch (``not-html``, ``bad-encoding``, ``unparsable``, ``empty``...)
   and every other fetch goes on;
2. :func:`apply_fetch`, in ONE short transaction holding the document's lock
   (storage.locks), re-reads the
   document's state, applies the text (new version, current pointer), diffs and
   classifies the transition and stores the change, and marks the fetch processed.
   Either all of it is committed or none of it: a kill, a full disk or a lock timeout at
   any point leaves the fetch unprocessed, and the next run processes it again.

Every unprocessed fetch is processed, whichever run stored it, so fetches left by a run
that died are recovered by the next; within a document they are always taken in the
order they were stored (an older fetch is never applied after a newer one). The lock and
the per-document numbering of transitions (``change.seq``, unique) make two runs at once
safe. See docs/decisions/0012-durable-transitions.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from changes.decode import PageRejected, decode_page
from changes.extract import UnparsablePage, extract, word_count
from changes.quality import page_failure
from config.run import RunConfig, sources_of
from config.sources import Sources
from pipeline.detect import record_change
from pipeline.prepared import Prepared, prepare
from pipeline.reextract import Reextracted, apply_reextracted, body_fetch, stale
from pipeline.unchanged import check_region, commit_unchanged
from pipeline.versions import Transition, apply_text, new_post
from spiders.newsroom import parse_feed
from storage.blobs import get_blob, get_text
from storage.db import open_db
from storage.locks import document_transaction
from storage.models import Document, Fetch, Version
from storage.repo import next_unprocessed_fetch, pending_documents

#: Outcomes counted per fetch; ``deferred``: its transaction could not commit (database
#: locked, disk full...) and the fetch is left for the next run.
OUTCOMES = ("failures", "same", "new", "held", "confirmed", "feeds", "deferred", "skipped")


@dataclass(frozen=True)
class PageText:
    """What a fetch showed, ready to apply."""

    text: str
    selector_matched: bool
    region: str | None = None  # its region's fingerprint (pipeline/unchanged.py)


@dataclass(frozen=True)
class SameRegion:
    """A fetch whose region is the current version's (pipeline/unchanged.py): it shows that
    version's text, which is not even read unless the document moved before the commit."""

    version_id: int
    text_hash: str  # the version's (a version's text never changes)
    selector_matched: bool
    region: str


@dataclass(frozen=True)
class PageFailure:
    """Why a fetch shows no document text: its typed failure and a line of detail."""

    kind: str
    detail: str | None


def derive_versions(
    cfg: RunConfig,
    run_id: int | None,
    on_change: Callable[[int], None] | None = None,
    only: Iterable[str] | None = None,
) -> dict[str, int]:
    """Process every unprocessed fetch (this run's, and any a dead run left; of the documents
    ``only`` names, if given), oldest first per document, each in one locked transaction with
    its version and change; the counts (``changes``: the changes stored, ``deferred``:
    fetches left for the next run, ``technical``: re-extractions, pipeline.reextract)."""
    sources = sources_of(cfg)
    sessions = open_db(cfg.db_url)
    counts = _zero_counts()
    window = timedelta(days=cfg.flap_window_days)
    with sessions() as session:
        pending = pending_documents(session, only)
    for doc_id in pending:
        derive_document(sessions, doc_id, sources, window, run_id, counts, on_change)
    return _with_total(counts)


def documents_to_derive(cfg: RunConfig) -> list[str]:
    """The documents with unprocessed fetches, in the order of their oldest one."""
    with open_db(cfg.db_url)() as session:
        return pending_documents(session)


def derive_one_document(cfg: RunConfig, run_id: int | None, document_id: str) -> dict[str, int]:
    """What :func:`derive_versions` does, for one document: the entry point of one parallel
    task (flows/monitor.py). The document's lock keeps tasks of other runs safe."""
    counts = _zero_counts()
    window = timedelta(days=cfg.flap_window_days)
    derive_document(open_db(cfg.db_url), document_id, sources_of(cfg), window, run_id, counts)
    return _with_total(counts)


def add_counts(parts: Iterable[dict[str, int]]) -> dict[str, int]:
    """The counts of several documents as one (the same as :func:`derive_versions` returns)."""
    total = _zero_counts()
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0) + value
    return _with_total(total)


def _zero_counts() -> dict[str, int]:
    counts = dict.fromkeys(("fetches", "failures", "same", "new", "held", "confirmed"), 0)
    counts.update(feeds=0, changes=0, deferred=0)
    return counts


def _with_total(counts: dict[str, int]) -> dict[str, int]:
    counts["fetches"] = sum(counts.get(k, 0) for k in OUTCOMES if k != "skipped")
    return counts


def apply_fetch(
    session: Session,
    doc: Document,
    fetch: Fetch,
    page: PageText | SameRegion,
    sources: Sources,
    window: timedelta,
    run_id: int | None,
    prepared: Prepared | None = None,
) -> tuple[str, int | None]:
    """Apply a fetch's text (``apply_text``) and store the change it causes, if any, in the
    caller's locked transaction; the outcome and the change's id. ``prepared``: the diff and
    verdict worked out before the lock (pipeline/prepared.py)."""
    at = seen_at(fetch)
    text, text_hash = _text_of(session, doc, page)
    outcome, version, transition = apply_text(
        session,
        doc,
        text,
        at,
        text_hash=text_hash,
        fetch_id=fetch.id,
        selector_matched=page.selector_matched,
        shrink_threshold=sources.crawl.shrink_threshold,
        window=window,
    )
    fetch.version_id = version.id
    if page.region is not None:
        fetch.region_hash = version.region_hash = page.region
    if transition is None and outcome in ("new", "confirmed") and new_post(session, doc, sources):
        transition = Transition(doc.id, None, version.id, at.isoformat())
    if transition is None:
        return outcome, None
    change = record_change(session, transition, run_id, fetch_id=fetch.id, prepared=prepared)
    return outcome, change.id if change is not None else None


def _text_of(
    session: Session, doc: Document, page: PageText | SameRegion
) -> tuple[str | None, str | None]:
    """The text and text hash ``apply_text`` needs: a :class:`SameRegion` of the document's
    current version needs only the hash; if another run moved the document since the fetch
    was read, the version's text is read (the usual path then compares it)."""
    if isinstance(page, PageText):
        return page.text, None
    if doc.current_version_id == page.version_id:
        return None, page.text_hash
    version = session.get(Version, page.version_id)
    assert version is not None
    return get_text(session, version.text_blob), page.text_hash


def read_page(fetch: Fetch, body: bytes | None, doc: Document, sources: Sources) -> Any:
    """The text a fetch shows (:class:`PageText`), a :class:`PageFailure`, or ``"feed"`` for a
    newsroom feed (its posts are documents of their own). Never raises for a bad page."""
    if fetch.error or body is None:
        return PageFailure(fetch.error or "error", fetch.error_detail)
    if doc.id in sources.feeds:
        try:
            return "feed" if parse_feed(body) else PageFailure("empty", "no items in the feed")
        except Exception as exc:  # a hostile feed fails alone
            return PageFailure("unparsable", _detail(exc))
    try:
        decoded = decode_page(body, fetch.headers.get("content-type"))
        ext = extract(decoded.text, fetch.final_url or fetch.url, doc.select, doc.remove)
    except PageRejected as exc:
        return PageFailure(exc.kind, exc.detail)
    except UnparsablePage as exc:
        return PageFailure("unparsable", str(exc))
    except Exception as exc:  # whatever else a page can do to a parser
        return PageFailure("unparsable", _detail(exc))
    words = word_count(ext.text)
    failure = page_failure(fetch.final_url, decoded.text, words, sources.crawl.min_words)
    if failure:
        return PageFailure(failure, f"{words} words of text after extraction")
    return PageText(ext.text, ext.selector_matched)


def _detail(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def derive_document(
    sessions: sessionmaker[Session],
    document_id: str,
    sources: Sources,
    window: timedelta,
    run_id: int | None,
    counts: dict[str, int],
    on_change: Callable[[int], None] | None = None,
) -> None:
    """Process the document's unprocessed fetches, oldest first, one transaction each.

    Stops at the first fetch whose transaction cannot commit (``deferred``): a later fetch
    must never be applied before an earlier one.
    """
    while True:
        with sessions() as session:  # read side: no write lock while parsing
            fetch = next_unprocessed_fetch(session, document_id)
            if fetch is None:
                return
            doc = session.get(Document, document_id)
            assert doc is not None
            body = get_blob(session, fetch.blob_hash) if fetch.blob_hash else None
            # Held here: the session's identity map (weak) then keeps it for both reads below.
            current_id = doc.current_version_id
            current = session.get(Version, current_id) if current_id is not None else None
            # An older extractor's current text: re-extracted first (pipeline.reextract), and
            # the fast path's "same region, same text" does not hold across extractors.
            baseline = stale_baseline(session, doc, sources)
            region = check_region(fetch, body, doc, current, sources)
            if (
                current is not None
                and region is not None
                and region.version_id == current.id
                and baseline is None
            ):
                page: Any = SameRegion(
                    current.id, current.text_hash, region.selector_matched, region.hash
                )
            else:
                page = read_page(fetch, body, doc, sources)
                if region is not None and isinstance(page, PageText):
                    page = replace(page, region=region.hash)
            if not isinstance(page, (PageText, SameRegion)):
                baseline = None
            prepared = None
            if isinstance(page, PageText) and current is not None and baseline is None:
                # The diff and verdict, worked out here so the locked side mostly stores:
                # on SQLite its lock is the database's (pipeline/prepared.py).
                prepared = prepare(session, doc, current, page.text, seen_at(fetch), window)
            fetch_id = fetch.id
        try:
            outcome, change_id, technical_id = _commit(
                sessions,
                document_id,
                fetch_id,
                page,
                sources,
                window,
                run_id,
                baseline,
                prepared,
            )
        except (OperationalError, IntegrityError) as exc:  # locked, disk full, a race lost twice
            counts["deferred"] = counts.get("deferred", 0) + 1
            _log(f"{document_id}: fetch {fetch_id} left for the next run: {_detail(exc.orig)}")
            return
        counts[outcome] = counts.get(outcome, 0) + 1
        if technical_id is not None:
            counts["technical"] = counts.get("technical", 0) + 1
        for new_id in (technical_id, change_id):
            if new_id is not None:
                counts["changes"] = counts.get("changes", 0) + 1
                if on_change:
                    on_change(new_id)


def stale_baseline(session: Session, doc: Document, sources: Sources) -> Reextracted | None:
    """The current version's body extracted again, when an older extractor wrote its text
    (pipeline.reextract): the new fetch is then compared with a text of this extractor."""
    version = session.get(Version, doc.current_version_id) if doc.current_version_id else None
    if not stale(version):
        return None
    assert version is not None
    source = body_fetch(session, version.id)
    if source is None or source.blob_hash is None:
        return None
    page = read_page(source, get_blob(session, source.blob_hash), doc, sources)
    if not isinstance(page, PageText):
        return None
    return Reextracted(version.id, source.id, page.text, seen_at(source))


def _commit(
    sessions: sessionmaker[Session],
    document_id: str,
    fetch_id: int,
    page: Any,
    sources: Sources,
    window: timedelta,
    run_id: int | None,
    baseline: Reextracted | None = None,
    prepared: Prepared | None = None,
) -> tuple[str, int | None, int | None]:
    """Apply one fetch in one locked transaction (after ``baseline``, the current text
    re-extracted, as a technical change); retried once if another writer stored the same
    transition first (the uniqueness rule fired: the retry sees its work). The outcome, the
    change's id and the technical change's id."""
    for attempt in (1, 2):
        try:
            with document_transaction(sessions, document_id) as session:
                if isinstance(page, SameRegion):  # the fast path, unless the document moved
                    same = commit_unchanged(
                        session, document_id, fetch_id, page.version_id, page.region
                    )
                    if same is not None:
                        return same, None, None
                # A new session: get() reads the rows as committed, under the lock.
                fetch = session.get(Fetch, fetch_id)
                assert fetch is not None
                if fetch.processed:  # another run got there first
                    return "skipped", None, None
                if isinstance(page, PageFailure):
                    fetch.error, fetch.error_detail = page.kind, page.detail
                    fetch.processed = True
                    return "failures", None, None
                if page == "feed":
                    fetch.processed = True
                    return "feeds", None, None
                doc = session.get(Document, document_id)
                assert doc is not None
                technical_id = None
                try:
                    with session.begin_nested():
                        if baseline is not None:
                            _, technical_id = apply_reextracted(session, doc, baseline, run_id)
                        outcome, change_id = apply_fetch(
                            session, doc, fetch, page, sources, window, run_id, prepared
                        )
                except (OperationalError, IntegrityError):
                    raise
                except Exception as exc:  # a page the diff or the classifier chokes on
                    fetch.error, fetch.error_detail = "unparsable", _detail(exc)
                    fetch.processed = True
                    return "failures", None, None
                fetch.processed = True
                return outcome, change_id, technical_id
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _log(message: str) -> None:
    import sys

    print(f"policywatch: {message}", file=sys.stderr)


def seen_at(fetch: Fetch) -> datetime:
    """When a fetch showed its text: when it finished (or started, if it never did)."""
    return fetch.finished_at or fetch.started_at
