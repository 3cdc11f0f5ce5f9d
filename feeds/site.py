"""The static HTML site: index, one page per change, one page per document, and the CSS."""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

from changes.diff import Hunk
from feeds import render
from feeds.views import SITE_FEEDS, ChangeView, DocumentView, VersionView, category_feeds

DEFAULT_INDEX_LIMIT = 200


def _write(path: Path, html: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")


def copy_static(out_dir: Path) -> None:
    """Copy feeds/static (the stylesheet) to ``out_dir/static``."""
    target = out_dir / "static"
    target.mkdir(parents=True, exist_ok=True)
    for item in resources.files("feeds").joinpath("static").iterdir():
        if item.is_file():
            with resources.as_file(item) as src:
                shutil.copyfile(src, target / item.name)


Pair = tuple[ChangeView | None, ChangeView | None]


def neighbours(changes: Sequence[ChangeView]) -> dict[int, Pair]:
    """For each change: the previous and next change of the same document, by detection time."""
    by_doc: dict[str, list[ChangeView]] = defaultdict(list)
    for c in changes:
        by_doc[c.document.id].append(c)
    result: dict[int, Pair] = {}
    for doc_changes in by_doc.values():
        ordered = sorted(doc_changes, key=lambda c: (c.detected_at, c.id))
        for i, c in enumerate(ordered):
            prev = ordered[i - 1] if i > 0 else None
            nxt = ordered[i + 1] if i + 1 < len(ordered) else None
            result[c.id] = (prev, nxt)
    return result


def write_site(
    out_dir: Path,
    site_title: str,
    documents: Sequence[DocumentView],
    versions: Mapping[str, Sequence[VersionView]],
    changes: Sequence[ChangeView],
    folded: Mapping[int, list[Hunk]],
    categories: Sequence[str] = (),
    index_limit: int = DEFAULT_INDEX_LIMIT,
    attribution: str | None = None,
) -> int:
    """Write the HTML pages and the stylesheet below ``out_dir``; ``changes`` newest first.

    Returns the number of HTML pages written.
    """
    copy_static(out_dir)
    common = {"site_title": site_title, "attribution": attribution}
    pages = 0

    listed = list(changes[:index_limit])
    _write(
        out_dir / "index.html",
        render.render(
            "index.html",
            root="",
            feeds=list(SITE_FEEDS),
            category_feeds=[f for cat in categories for f in category_feeds(cat)],
            changes=listed,
            omitted=len(changes) - len(listed),
            documents=documents,
            **common,
        ),
    )
    pages += 1

    around = neighbours(changes)
    for c in changes:
        prev, nxt = around[c.id]
        _write(
            out_dir / c.path,
            render.render(
                "change.html",
                root="../",
                feeds=[*SITE_FEEDS, *c.document.feeds()],
                change=c,
                hunks=folded[c.id],
                previous=prev,
                next=nxt,
                **common,
            ),
        )
        pages += 1

    by_doc: dict[str, list[ChangeView]] = defaultdict(list)
    for c in changes:
        by_doc[c.document.id].append(c)
    for doc in documents:
        _write(
            out_dir / "documents" / f"{doc.slug}.html",
            render.render(
                "document.html",
                root="../",
                feeds=[*SITE_FEEDS, *doc.feeds()],
                document=doc,
                changes=by_doc.get(doc.id, []),
                versions=versions.get(doc.id, []),
                **common,
            ),
        )
        pages += 1
    return pages
