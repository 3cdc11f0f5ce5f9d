"""Publish: read storage, write the feeds and the site into ``out_dir`` in one atomic swap."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from feeds import feed, render, site
from feeds.atomic import atomic_dir
from feeds.views import ChangeView, DocumentView, VersionView
from storage import repo


@dataclass(frozen=True)
class PublishResult:
    out_dir: Path
    feeds: list[Path]  # every feed file, below out_dir
    pages: int  # HTML pages written
    changes: int  # changes published (technical ones never are)


def publish(
    session: Session,
    out_dir: Path,
    base_url: str,
    site_title: str = "policywatch",
    *,
    limit: int = feed.DEFAULT_LIMIT,
    attribution: str | None = None,
) -> PublishResult:
    """Write Atom/RSS feeds and the static site of all non-technical changes to ``out_dir``.

    ``base_url`` is the public URL of ``out_dir``: feed links are absolute on it, pages link
    relatively. Feeds and the index keep the ``limit`` newest changes; every change gets a
    page. ``attribution`` (e.g. the ODC-BY credit of archived texts) goes in every page
    footer and every feed's rights. Readers see the old folder or the new one, never a
    half-written one.
    """
    base = feed.normalize_base_url(base_url)
    rows = repo.documents(session)
    docs = {d.id: DocumentView.of(d) for d in rows}
    versions = {
        docs[d.id].id: [VersionView.of(v) for v in repo.accepted_versions(session, d.id)]
        for d in rows
    }
    change_rows = repo.latest_changes(session)  # non-technical, newest first
    changes = [ChangeView.of(c, docs.get(c.document_id)) for c in change_rows]
    folded = {c.id: render.load_hunks(session, c) for c in change_rows}
    categories = sorted({cat for c in changes for cat in c.categories})
    documents = list(docs.values())

    with atomic_dir(out_dir) as tmp:
        entries = feed.entries_for(changes, folded, base)
        specs = feed.feed_specs(site_title, documents, categories, rights=attribution)
        written = feed.write_feeds(tmp, base, specs, entries, limit)
        pages = site.write_site(
            tmp,
            site_title,
            documents,
            versions,
            changes,
            folded,
            categories,
            index_limit=limit,
            attribution=attribution,
        )
    final = Path(out_dir)
    return PublishResult(
        out_dir=final,
        feeds=[final / p.relative_to(tmp) for p in written],
        pages=pages,
        changes=len(changes),
    )
