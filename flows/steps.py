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
from datetime import datetime
from pathlib import Path
from typing import Any

from w3lib.encoding import html_to_unicode

from changes.classify import classify
from changes.dates import stated_date
from changes.describe import describe
from changes.diff import diff_stats, ops_to_json, word_diff
from changes.extract import EXTRACTOR_VERSION, extract, word_count
from changes.newsroom import announce_first_version, describe_new_post, post_name
from changes.quality import page_failure
from changes.versioning import Decision, Seen, decide
from spiders.newsroom import parse_feed
from spiders.sources import Sources, load_sources
from storage.blobs import get_blob, get_text
from storage.db import open_db
from storage.history import add_change, add_or_touch_version, drop_held, set_current
from storage.models import Document, Fetch, Version
from storage.repo import (
    finish_run,
    first_fetch_run,
    held_versions,
    start_run,
    sync_documents,
    unprocessed_fetches,
)

FetchEvent = dict[str, Any]


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


@dataclass(frozen=True)
class Transition:
    """A document moved from one accepted version to another: a change to diff."""

    document_id: str
    from_version_id: int | None  # None: a newsroom post's first version, announced
    to_version_id: int
    at: str  # ISO time of the fetch that showed it


def sources_of(cfg: RunConfig) -> Sources:
    return load_sources(Path(cfg.sources_path))


def prepare(cfg: RunConfig) -> int:
    """Validate sources, bring the schema up to date, sync documents, open a Run."""
    sources = sources_of(cfg)
    sources.select(cfg.documents or None)
    sessions = open_db(cfg.db_url)
    with sessions.begin() as session:
        sync_documents(session, sources.documents)
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
    """``python -m spiders.crawl`` with ``args``; each JSON line it prints goes to ``on_event``."""
    cmd = [sys.executable, "-m", "spiders.crawl", "--db", cfg.db_url]
    cmd += ["--sources", cfg.sources_path, *args]
    with tempfile.TemporaryFile("w+") as err:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_root(), _pp()]))}
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue
                on_event(event)
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read()[-2000:]
            raise CrawlError(f"crawl failed (exit {proc.returncode}):\n{tail}")


def _root() -> str:
    return str(Path(__file__).resolve().parent.parent)


def _pp() -> str:
    return os.environ.get("PYTHONPATH", "")


def _decode(body: bytes, content_type: str | None) -> str:
    _encoding, text = html_to_unicode(content_type, body)
    return text


def derive_versions(cfg: RunConfig, run_id: int | None) -> tuple[dict[str, int], list[Transition]]:
    """Turn this run's fetches into versions; return counts and the transitions to diff."""
    sources = sources_of(cfg)
    sessions = open_db(cfg.db_url)
    counts = {"fetches": 0, "failures": 0, "same": 0, "new": 0, "held": 0, "confirmed": 0}
    counts["feeds"] = 0
    transitions: list[Transition] = []
    with sessions() as session:
        for fetch in unprocessed_fetches(session, run_id):
            counts["fetches"] += 1
            outcome = _derive_one(session, fetch, sources, transitions)
            counts[outcome] += 1
            fetch.processed = True
            session.commit()
    return counts, transitions


def _derive_one(session: Any, fetch: Fetch, sources: Sources, out: list[Transition]) -> str:
    if fetch.error or fetch.blob_hash is None:
        return "failures"
    doc = session.get(Document, fetch.document_id)
    body = get_blob(session, fetch.blob_hash)
    if doc.id in sources.feeds:  # a newsroom feed: its posts are the documents, not itself
        if not parse_feed(body):
            fetch.error, fetch.error_detail = "empty", "no items in the feed"
            return "failures"
        return "feeds"
    html = _decode(body, fetch.headers.get("content-type"))
    ext = extract(html, fetch.final_url or fetch.url, doc.select, doc.remove)
    words = word_count(ext.text)
    failure = page_failure(fetch.final_url, html, words, sources.crawl.min_words)
    if failure:
        fetch.error, fetch.error_detail = failure, f"{words} words of text after extraction"
        return "failures"
    new = Seen(hashlib.sha256(ext.text.encode("utf-8")).hexdigest(), words)
    current: Version | None = doc.current_version
    held_list = held_versions(session, doc.id)
    held = held_list[-1] if held_list else None
    verdict = decide(
        Seen(current.text_hash, current.words) if current else None,
        Seen(held.text_hash, held.words) if held else None,
        new,
        ext.selector_matched,
        sources.crawl.shrink_threshold,
    )
    seen_at = fetch.finished_at or fetch.started_at
    state = "held" if verdict.decision is Decision.HOLD else "accepted"
    version = add_or_touch_version(
        session,
        doc.id,
        ext.text,
        new.text_hash,
        words,
        seen_at,
        fetch.id,
        EXTRACTOR_VERSION,
        stated_date(ext.text),
        state,
        verdict.reason,
    )
    fetch.version_id = version.id
    if verdict.decision is Decision.HOLD:
        drop_held(session, doc.id, keep_id=version.id)
        return "held"
    drop_held(session, doc.id, keep_id=None)
    if verdict.decision is Decision.SAME:
        return "same"
    set_current(session, doc.id, version.id)
    if current is not None:
        out.append(Transition(doc.id, current.id, version.id, seen_at.isoformat()))
    elif doc.kind == "newsroom" and doc.group_id in sources.feeds:
        feed_run = first_fetch_run(session, doc.group_id, ok=True)
        if announce_first_version(feed_run, first_fetch_run(session, doc.id)):
            out.append(Transition(doc.id, None, version.id, seen_at.isoformat()))
    return "confirmed" if verdict.decision is Decision.CONFIRM else "new"


def detect_changes(cfg: RunConfig, run_id: int | None, transitions: list[Transition]) -> int:
    """Diff each transition once and store it as a Change (rule 5: diff once, store it)."""
    sessions = open_db(cfg.db_url)
    with sessions.begin() as session:
        for t in transitions:
            old = session.get(Version, t.from_version_id) if t.from_version_id else None
            new = session.get(Version, t.to_version_id)
            doc = session.get(Document, t.document_id)
            old_text = get_text(session, old.text_blob) if old else ""
            new_text = get_text(session, new.text_blob)
            ops = word_diff(old_text, new_text)
            stats = diff_stats(ops)
            post = doc.kind == "newsroom"
            if old is None:
                desc = describe_new_post(doc.service, doc.title, doc.url, stats.words_added)
            else:
                desc = describe(
                    post_name(doc.service, doc.title) if post else doc.title,
                    stats.words_added,
                    stats.words_removed,
                    old.effective_date,
                    new.effective_date,
                )
            categories = list(desc.categories)
            if post and "newsroom" not in categories:
                categories.append("newsroom")
            extra = classified(old_text, new_text, doc.lang, desc.title)
            categories += [c for c in extra if c not in categories]
            add_change(
                session,
                t.document_id,
                old.id if old else None,
                new.id,
                datetime.fromisoformat(t.at),
                run_id,
                ops_to_json(ops),
                stats.words_added,
                stats.words_removed,
                desc.title,
                categories,
                desc.summary,
            )
    return len(transitions)


def classified(old_text: str, new_text: str, lang: str, document: str) -> list[str]:
    """The categories ``changes.classify`` gives the change (legal basis, opt-out, dates, AI),
    read in the document's language (``fr_FR`` -> ``fr``).

    Only the categories so far: wiring classify's title, summary and alert (flapping,
    partial renders) into this step is branch classify's (describe() still titles changes).
    """
    return classify(old_text, new_text, document=document, lang=lang).categories


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
