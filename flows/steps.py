"""The pipeline's steps as plain functions; flows/monitor.py runs them in order under Prefect.

Each step opens its own session and passes only ids and counts on, so that a step can
run as a Prefect task and its inputs and results stay small and serialisable.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from changes.classify import Earlier, classify
from changes.dates import stated_date
from changes.diff import diff_stats, ops_to_json, word_diff
from changes.extract import EXTRACTOR_VERSION, word_count
from changes.newsroom import announce_first_version, new_post_title, post_name
from changes.versioning import Decision, Seen, decide
from flows import derive
from flows.processes import die_with_parent, stop
from spiders.sources import Sources, load_sources
from storage.blobs import get_text
from storage.db import open_db
from storage.history import add_change, add_or_touch_version, drop_held, set_current
from storage.models import Change, Document, Fetch, Version
from storage.repo import (
    finish_run,
    first_fetch_run,
    held_versions,
    start_run,
    sync_documents,
    versions_seen_since,
)
from storage.runs import close_dead_runs

FetchEvent = dict[str, Any]

#: A text that returns within this window after the document last showed it is a page
#: flipping back (no alert), not news; partial-render blocks coming back within it are
#: restored, not added.
FLAP_WINDOW_DAYS = 60.0


class CrawlError(RuntimeError):
    """The crawl subprocess failed; its stderr tail is in the message."""


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs; JSON-serialisable so it can be a Prefect parameter."""

    db_url: str
    sources_path: str
    out_dir: str = "public"
    base_url: str = "http://localhost:8000/"
    documents: list[str] = field(default_factory=list)
    trigger: str = "manual"
    flap_window_days: float = FLAP_WINDOW_DAYS


@dataclass(frozen=True)
class Transition:
    """A document moved from one accepted version to another: a change to diff.

    ``recent`` lists the other versions the document showed within the flapping window
    before this change, as (version id, ISO time last seen) taken before the change: the
    classifier needs them to tell a page flipping back from news. ``technical``: the new
    text comes from a change of extraction, not from the page (never news).
    """

    document_id: str
    from_version_id: int | None  # None: a newsroom post's first version, announced
    to_version_id: int
    at: str  # ISO time of the fetch (or archive record) that showed it
    recent: list[tuple[int, str]] = field(default_factory=list)
    technical: bool = False


def sources_of(cfg: RunConfig) -> Sources:
    return load_sources(Path(cfg.sources_path))


def prepare(cfg: RunConfig) -> int:
    """Validate sources, bring the schema up to date, sync documents, close runs whose
    process died (as ``crashed``), open a Run."""
    sources = sources_of(cfg)
    sources.select(cfg.documents or None)
    sessions = open_db(cfg.db_url)
    with sessions.begin() as session:
        sync_documents(session, sources.documents)
        close_dead_runs(session)  # their unprocessed fetches are derived by this run
        return start_run(session, cfg.trigger).id


def crawl(cfg: RunConfig, run_id: int, on_fetch: Callable[[FetchEvent], None] | None = None) -> int:
    """Run the spider in a fresh subprocess (Twisted's reactor cannot restart in-process).

    Returns the number of fetches stored; raises CrawlError if the subprocess failed.
    """
    args = ["--run-id", str(run_id)]
    for doc_id in cfg.documents:
        args += ["--doc", doc_id]
    fetched = 0

    def on_event(event: FetchEvent) -> None:
        nonlocal fetched
        if event.get("event") == "fetch":
            fetched += 1
            if on_fetch:
                on_fetch(event)

    run_spider(cfg, args, on_event)
    return fetched


def run_spider(cfg: RunConfig, args: list[str], on_event: Callable[[FetchEvent], None]) -> None:
    """``python -m spiders.crawl`` with ``args``; each JSON line it prints goes to ``on_event``.

    The subprocess dies with this one (flows.processes): killed with it (``kill -9``), or
    terminated when anything interrupts the reading here (SIGTERM, Ctrl-C, an error).
    """
    cmd = [sys.executable, "-m", "spiders.crawl", "--db", cfg.db_url]
    cmd += ["--sources", cfg.sources_path, *args]
    with tempfile.TemporaryFile("w+") as err:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_root(), _pp()]))}
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
            preexec_fn=die_with_parent,
        )
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                on_event(event)
            proc.wait()
        except BaseException:
            stop(proc)
            raise
        finally:
            if proc.stdout is not None:
                proc.stdout.close()
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read()[-2000:]
            raise CrawlError(f"crawl failed (exit {proc.returncode}):\n{tail}")


def _root() -> str:
    return str(Path(__file__).resolve().parent.parent)


def _pp() -> str:
    return os.environ.get("PYTHONPATH", "")


def derive_versions(
    cfg: RunConfig, run_id: int | None, on_change: Callable[[int], None] | None = None
) -> tuple[dict[str, int], list[Transition]]:
    """Process every unprocessed fetch (this run's, and any a dead run left), oldest first per
    document, each in one locked transaction with its version and change (flows.derive).

    Returns the counts (``changes``: the changes stored) and, for callers of the old
    two-step API, an empty list: there is nothing left to diff afterwards.
    """
    sources = sources_of(cfg)
    sessions = open_db(cfg.db_url)
    counts = {"fetches": 0, "failures": 0, "same": 0, "new": 0, "held": 0, "confirmed": 0}
    counts.update(feeds=0, changes=0, deferred=0)
    window = timedelta(days=cfg.flap_window_days)
    with sessions() as session:
        pending = derive.pending_documents(session)

    def apply(
        session: Any, doc: Document, fetch: Fetch, page: derive.PageText, run: int | None
    ) -> tuple[str, int | None]:
        return apply_fetch(session, doc, fetch, page, sources, window, run)

    for doc_id in pending:
        derive.derive_document(sessions, doc_id, sources, apply, run_id, counts, on_change)
    counts["fetches"] = sum(counts[k] for k in derive.OUTCOMES if k in counts) - counts.get(
        "skipped", 0
    )
    return counts, []


def apply_fetch(
    session: Any,
    doc: Document,
    fetch: Fetch,
    page: derive.PageText,
    sources: Sources,
    window: timedelta,
    run_id: int | None,
) -> tuple[str, int | None]:
    """Apply a fetch's text (:func:`apply_text`) and store the change it causes, if any, in
    the caller's (locked) transaction; the outcome and the change's id."""
    at = fetch.finished_at or fetch.started_at
    outcome, version, transition = apply_text(
        session,
        doc,
        page.text,
        at,
        fetch_id=fetch.id,
        selector_matched=page.selector_matched,
        shrink_threshold=sources.crawl.shrink_threshold,
        window=window,
    )
    fetch.version_id = version.id
    if transition is None and outcome in ("new", "confirmed") and _new_post(session, doc, sources):
        transition = Transition(doc.id, None, version.id, at.isoformat())
    if transition is None:
        return outcome, None
    return outcome, record_change(session, transition, run_id, fetch_id=fetch.id).id


def _new_post(session: Any, doc: Document, sources: Sources) -> bool:
    """A newsroom post's first version that is news (changes.newsroom)."""
    if doc.kind != "newsroom" or doc.group_id not in sources.feeds:
        return False
    feed_run = first_fetch_run(session, doc.group_id, ok=True)
    return announce_first_version(feed_run, first_fetch_run(session, doc.id))


def apply_text(
    session: Any,
    doc: Document,
    text: str,
    seen_at: datetime,
    *,
    fetch_id: int | None = None,
    selector_matched: bool = True,
    shrink_threshold: float = 0.5,
    extractor_version: str = EXTRACTOR_VERSION,
    technical: bool = False,
    window: timedelta = timedelta(days=FLAP_WINDOW_DAYS),
) -> tuple[str, Version, Transition | None]:
    """Apply a newly seen text of ``doc`` to its history: the one place where crawled and
    replayed texts become versions (DESIGN.md rules 3 and 5).

    Returns the outcome (``same``, ``new``, ``held`` or ``confirmed``), the version that
    holds the text, and the transition to diff if the document moved to a new version.
    """
    text_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    # Not doc.current_version: that relationship is cached until the session expires it.
    current = session.get(Version, doc.current_version_id) if doc.current_version_id else None
    same = current is not None and current.text_hash == text_hash
    words = current.words if same and current is not None else word_count(text)
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
        text,
        new.text_hash,
        words,
        seen_at,
        fetch_id,
        extractor_version,
        current.effective_date if same and current is not None else stated_date(text),
        state,
        verdict.reason,
    )
    if verdict.decision is Decision.HOLD:
        drop_held(session, doc.id, keep_id=version.id)
        return "held", version, None
    drop_held(session, doc.id, keep_id=None)
    if verdict.decision is Decision.SAME:
        return "same", version, None
    set_current(session, doc.id, version.id)
    outcome = "confirmed" if verdict.decision is Decision.CONFIRM else "new"
    if current is None:
        return outcome, version, None
    at = seen_at.isoformat()
    return outcome, version, Transition(doc.id, current.id, version.id, at, recent, technical)


def record_change(
    session: Any, t: Transition, run_id: int | None, fetch_id: int | None = None
) -> Change:
    """Diff a transition once, classify it (changes.classify) and store it as a Change.

    A newsroom post is named as one and gets the category ``newsroom``; its first version
    (``from_version_id`` None) is diffed against nothing.
    """
    old = session.get(Version, t.from_version_id) if t.from_version_id else None
    new = session.get(Version, t.to_version_id)
    doc = session.get(Document, t.document_id)
    old_text = get_text(session, old.text_blob) if old else ""
    new_text = get_text(session, new.text_blob)
    post = doc.kind == "newsroom"
    earlier = _same_transition(session, old.id, new.id) if old else None
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


def _same_transition(session: Any, from_id: int, to_id: int) -> Change | None:
    """An earlier change between the same two versions, whose diff can be reused."""
    stmt = select(Change).where(Change.from_version_id == from_id, Change.to_version_id == to_id)
    return session.scalars(stmt.limit(1)).first()


def publish(cfg: RunConfig) -> dict[str, Any]:
    """Rebuild feeds and site from the database (never diffs: rule 5)."""
    from feeds.publish import publish as build

    sessions = open_db(cfg.db_url)
    with sessions() as session:
        result = build(session, Path(cfg.out_dir), cfg.base_url)
    return {"out_dir": str(result.out_dir), "pages": result.pages, "changes": result.changes}


def finish(cfg: RunConfig, run_id: int, status: str, counts: dict[str, int]) -> None:
    sessions = open_db(cfg.db_url)
    with sessions.begin() as session:
        finish_run(session, run_id, status, counts)


def as_dicts(transitions: list[Transition]) -> list[dict[str, Any]]:
    return [asdict(t) for t in transitions]
