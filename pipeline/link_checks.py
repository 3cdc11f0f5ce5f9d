"""The link-check step: find the opt-out links of the current texts, check each one logged
out in its locale (through the spider, in a subprocess), publish changes of their health.

Links are found by ``changes.optout.optout_links`` in the current version of every tracked
document, plus the documents of kind ``form``. A link on a host that sources.toml does not
name is never fetched: it is counted as skipped
(docs/decisions/0008-link-checks-and-browser-mode.md).
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.orm import Session
from w3lib.encoding import html_to_unicode

from changes.link_health import classify_check, headline, settle
from changes.links import canonical_url
from changes.optout import optout_links
from config.documents import DocumentSpec
from config.run import RunConfig, sources_of
from config.sources import Sources
from pipeline.spider_process import run_spider
from spiders.events import LinkEvent, SpiderEvent
from spiders.items import LinkTarget
from storage import links as store
from storage.blobs import get_blob, get_text
from storage.db import open_db
from storage.models import Document, Link
from storage.repo import documents

log = logging.getLogger(__name__)

# Settings links (Accounts Center, cookie dialogs) are recorded where they appear, not checked:
# they always ask a reader to log in, and nobody objects through them.
CHECKED_KINDS = ("objection", "opt-out", "consent", "form")
KIND_LABELS = {
    "objection": "Objection link",
    "opt-out": "Opt-out link",
    "consent": "Consent link",
    "settings": "Settings link",
    "form": "Form link",
}


def _tracked(session: Session, sources: Sources) -> list[tuple[Document, DocumentSpec | None]]:
    """Documents whose links count: those in sources.toml and the posts of its feeds."""
    specs = {d.id: d for d in sources.documents}
    return [
        (doc, specs.get(doc.id))
        for doc in documents(session)
        if doc.id in specs or (doc.kind == "newsroom" and doc.group_id in sources.feeds)
    ]


def sight_links(session: Session, sources: Sources, at: datetime) -> int:
    """Record every opt-out link of the current texts and every form; return how many.

    A document whose present sightings were all made on its current version (its text has
    not changed since) only has them seen again, in bulk; the others have their text read
    for links. Rows are read in a few queries and written with one flush.
    """
    tracked = _tracked(session, sources)
    known = store.sightings_by_document(session, [doc.id for doc, _ in tracked])
    present: dict[str, set[int]] = defaultdict(set)
    unchanged: list[str] = []
    mentions: dict[str, list[store.Mention]] = {}
    for doc, spec in tracked:
        shown = [row for row in known[doc.id] if row.present]
        if shown and all(row.version_id == doc.current_version_id for row in shown):
            unchanged.append(doc.id)
            present[doc.id] = {row.link_id for row in shown}
            continue
        found = mentions.setdefault(doc.id, [])
        if spec is not None and spec.kind == "form":
            url = canonical_url(spec.url)
            found.append(
                store.Mention(url, spec.locale, "form", spec.title, "", doc.current_version_id)
            )
        version = doc.current_version
        if version is None:
            continue
        for mention in optout_links(get_text(session, version.text_blob), doc.language):
            found.append(
                store.Mention(
                    mention.url, doc.locale, mention.kind, mention.text, mention.context, version.id
                )
            )
    present.update(store.record_sightings(session, mentions, known, at))
    for doc in documents(session):  # documents no longer tracked: their links are gone
        if doc.id not in known:
            store.unsight_others(session, doc.id, set())
    store.touch_sightings(session, unchanged, at)
    session.flush()
    return sum(len(ids) for ids in present.values())


def targets(
    session: Session, sources: Sources, only: set[str] | None = None
) -> tuple[list[LinkTarget], list[Link]]:
    """The links to check now, and those skipped (their host is not in sources.toml).

    Only links of the kinds in CHECKED_KINDS are either; with ``only`` (document ids), only
    links that appear in those documents or in their locales and posts.
    """
    hosts = sources.hosts()
    forms = {(canonical_url(d.url), d.locale): d for d in sources.documents if d.kind == "form"}
    checked: list[LinkTarget] = []
    skipped: list[Link] = []
    for link in store.present_links(session):
        if link.kind not in CHECKED_KINDS or (only and not _appears_in(session, link, only)):
            continue
        if (urlsplit(link.url).hostname or "").lower() not in hosts:
            skipped.append(link)
            continue
        form = forms.get((link.url, link.locale))
        render, select = (form.render, form.select) if form else ("http", ())
        checked.append(LinkTarget(link.id, link.url, link.locale, render, tuple(select)))
    return checked, skipped


def _appears_in(session: Session, link: Link, only: set[str]) -> bool:
    for sighting in store.sightings(session, link.id):
        doc = session.get(Document, sighting.document_id)
        if doc is not None and (doc.id in only or doc.group_id in only):
            return True
    return False


def _name(session: Session, link: Link) -> tuple[str, str]:
    """What a headline calls the link, and the document the change belongs to."""
    docs = [session.get(Document, s.document_id) for s in store.sightings(session, link.id)]
    form = next((d for d in docs if d is not None and d.kind == "form"), None)
    if form is not None:
        return form.title, form.id
    first = store.sightings(session, link.id)[0]
    doc = docs[0]
    assert doc is not None
    label = KIND_LABELS.get(link.kind, "Link")
    return f"{label} \u201c{first.anchor}\u201d in {doc.title}", doc.id


def record_check(session: Session, event: LinkEvent, run_id: int | None) -> bool:
    """Store one check's outcome; True if it changed the link's confirmed outcome (news)."""
    link = session.get(Link, event.link_id)
    assert link is not None
    html = None
    if event.blob:
        html = html_to_unicode(None, get_blob(session, event.blob))[1]
    health = classify_check(event.status, event.final_url, html, event.error, event.error_detail)
    at = datetime.fromisoformat(event.started_at)
    previous = store.last_check(session, link.id)
    store.add_check(
        session,
        link,
        run_id,
        at,
        event.status,
        event.final_url,
        health.outcome,
        health.evidence,
        event.blob,
    )
    settled = settle(link.outcome, previous.outcome if previous else None, health.outcome)
    old = link.outcome
    if settled.outcome != old:
        link.outcome, link.outcome_since = settled.outcome, at
    if settled.changed:
        name, document_id = _name(session, link)
        summary = {
            "link": link.url,
            "locale": link.locale,
            "outcome": f"{old} -> {health.outcome}",
            "evidence": health.evidence,
            "http_status": event.status,
            "final_url": event.final_url,
        }
        title = headline(name, link.locale, health.outcome, health.evidence)
        store.add_link_change(session, link, document_id, at, run_id, title, summary)
    session.flush()
    return settled.changed


def check_links(cfg: RunConfig, run_id: int | None) -> dict[str, int]:
    """Sight, check and record every opt-out link; counts for the run."""
    sources = sources_of(cfg)
    sessions = open_db(cfg.db_url)
    with sessions.begin() as session:
        sight_links(session, sources, datetime.now(UTC))
        checked, skipped = targets(session, sources, set(cfg.documents))
    if skipped:  # on purpose (never fetch a host sources.toml does not name): one line
        hosts = Counter((urlsplit(link.url).hostname or "?") for link in skipped)
        log.info(
            "%d link(s) not checked, their hosts are not in sources.toml: %s",
            len(skipped),
            ", ".join(f"{host} ({n})" for host, n in sorted(hosts.items())),
        )
    events: list[SpiderEvent] = []
    if checked:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "links.json"
            path.write_text(json.dumps([vars(t) for t in checked]), encoding="utf-8")
            run_spider(cfg, ["--links", str(path)], events.append)
    changed = 0
    with sessions.begin() as session:
        for event in events:
            if isinstance(event, LinkEvent):
                changed += record_check(session, event, run_id)
    checks = sum(1 for e in events if isinstance(e, LinkEvent))
    return {
        "links": len(checked) + len(skipped),
        "checked": checks,
        "skipped": len(skipped),
        "link_changes": changed,
    }
