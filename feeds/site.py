"""The static HTML site: index (+ index.json), category pages, a page per change, per
document and per archived version, links.html, and the static files.

Every file goes through :class:`feeds.incremental.Output` with a key made of what it shows,
so an unchanged page is reused from the previous build instead of rendered again.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property, partial
from importlib import resources
from typing import Any, Protocol

import orjson

from changes.diff import Hunk
from feeds import parallel as feeds_parallel
from feeds import passages, render, story, summary, text
from feeds.health import LinkView
from feeds.incremental import Output
from feeds.index_records import FINGERPRINT, assemble
from feeds.timeline import Failing, FailureRun, timeline
from feeds.views import (
    SITE_FEEDS,
    ChangeView,
    DocumentView,
    VersionView,
    category_feeds,
    category_page,
)

DEFAULT_INDEX_LIMIT = 200
BATCH = 500  # change pages rendered per batch of diffs loaded from the database


class Loader(Protocol):
    """Where pages get the stored diffs and texts they show (loaded only when rendered)."""

    def preload(self, blob_hashes: Iterable[str]) -> None: ...

    def hunks(self, change: ChangeView) -> list[Hunk]: ...

    def text(self, version: VersionView) -> str: ...

    def can_fork(self) -> bool: ...

    def forked(self) -> Loader: ...


@dataclass(frozen=True)
class Site:
    """Everything the pages show, as views (no database rows)."""

    title: str
    documents: Sequence[DocumentView]
    changes: Sequence[ChangeView]  # newest first; only published ones
    versions: Mapping[str, Sequence[VersionView]] = field(default_factory=dict)  # per document
    archived: Mapping[int, VersionView] = field(default_factory=dict)  # versions with a page
    failures: Mapping[str, Sequence[FailureRun]] = field(default_factory=dict)
    failing: Mapping[str, Failing] = field(default_factory=dict)  # last fetch failed, by doc
    links: Sequence[LinkView] = ()
    attribution: str | None = None
    index_limit: int = DEFAULT_INDEX_LIMIT

    @cached_property
    def categories(self) -> list[str]:
        return sorted({cat for c in self.changes for cat in c.categories})


def write_static(out: Output) -> None:
    """Copy feeds/static (stylesheet, script) to ``static/``."""
    for item in resources.files("feeds").joinpath("static").iterdir():
        if item.is_file():
            rel = f"static/{item.name}"
            key = out.key("static", item.name)
            if not out.keep(rel, key):
                out.write(rel, item.read_bytes(), key)


Pair = tuple[ChangeView | None, ChangeView | None]
#: A page to render: ("change", the change, its neighbours) or ("version", it, its document).
Job = tuple[str, Any, Any]


def neighbours(changes: Sequence[ChangeView]) -> dict[int, Pair]:
    """For each change: the previous and next change of the same document, by detection time."""
    result: dict[int, Pair] = {}
    for doc_changes in by_document(changes).values():
        ordered = sorted(doc_changes, key=lambda c: (c.detected_at, c.id))
        for i, c in enumerate(ordered):
            prev = ordered[i - 1] if i > 0 else None
            nxt = ordered[i + 1] if i + 1 < len(ordered) else None
            result[c.id] = (prev, nxt)
    return result


def by_document(changes: Sequence[ChangeView]) -> dict[str, list[ChangeView]]:
    grouped: dict[str, list[ChangeView]] = defaultdict(list)
    for c in changes:
        grouped[c.document.id].append(c)
    return grouped


def document_files(changes: Sequence[ChangeView], versions: Sequence[VersionView]) -> list[str]:
    """The pages of a document's changes and versions (and the versions' Markdown)."""
    found = [c.path for c in changes]
    return found + [rel for v in versions for rel in (v.path, v.markdown_path)]


def index_record(c: ChangeView) -> dict[str, Any]:
    """One change as index.json lists it (the filters' data; text only, never HTML)."""
    return {
        "id": c.id,
        "title": c.title,
        "document": c.document.slug,
        "document_title": c.document.title,
        "kind": c.kind,
        "detected": c.detected_at.isoformat(),
        "detected_text": text.fmt_datetime(c.detected_at),
        "effective": c.effective_date,
        "categories": c.categories,
        "summary": c.one_line,
        "words_added": c.words_added,
        "words_removed": c.words_removed,
        "has_diff": c.has_diff,
    }


def safe_json(data: Any) -> str:
    """JSON with ``<``, ``>`` and ``&`` as \\u escapes: inert even if served as HTML.
    Compact, by orjson: the bytes of ``json.dumps(data, ensure_ascii=False,
    separators=(",", ":"))`` for strings, integers, lists and dicts (the records of
    index.json and the JSON Feeds hold nothing else), several times faster."""
    raw = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")
    return raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def index_head(title: str) -> bytes:
    """index.json up to its first record: ``safe_json({"title": title, "changes": [...]})``
    is this, the records encoded by :func:`safe_json` one by one and joined by commas,
    and ``]}`` (compact JSON is its parts joined; the escapes apply part by part)."""
    return f'{{"title":{safe_json(title)},"changes":['.encode()


class Lazy:
    """A page value computed only if the page is rendered (a diff, a full text)."""

    def __init__(self, compute: Callable[[], Any]) -> None:
        self.compute = compute


class _Pages:
    """Renders each page of ``site`` unless ``out`` can reuse it; counts the HTML pages."""

    def __init__(self, out: Output, site: Site, load: Loader) -> None:
        self.out, self.site, self.load = out, site, load
        self.common = {"site_title": site.title, "attribution": site.attribution}
        self.common_key = out.key(self.common)
        self.pages = 0
        self.kept: set[str] = set()  # documents whose pages are reused wholesale
        self.todo: list[Job] = []  # pages of changes and versions to render
        self.in_worker = False  # a forked worker of render_todo (feeds/parallel.py)

    def page(self, rel: str, key_parts: Sequence[Any], template: str, **context: Any) -> bool:
        """Keep or render one page; :class:`Lazy` values are computed only if it is rendered."""
        self.pages += 1
        key = self.out.key(self.common_key, rel, *key_parts)
        if self.out.keep(rel, key):
            return False
        values = {k: v.compute() if isinstance(v, Lazy) else v for k, v in context.items()}
        root = "../" * rel.count("/")
        html = render.render(template, root=root, **self.common, **values)
        self.out.write(rel, html, key)
        return True

    def index(self) -> None:
        site, changes = self.site, self.site.changes
        listed = list(changes[: site.index_limit])
        feeds = [*SITE_FEEDS, *(f for cat in site.categories for f in category_feeds(cat))]
        self.page(
            "index.html",
            [
                [c.fingerprint for c in listed],
                len(changes),
                [d.fingerprint for d in site.documents],
                site.categories,
                len(site.links),
                sorted(site.failing.items()),
            ],
            "index.html",
            feeds=feeds,
            changes=listed,
            omitted=len(changes) - len(listed),
            documents=site.documents,
            categories=site.categories,
            links_count=len(site.links),
            failing=self._failing(),
        )
        fingerprints = [c.fingerprint for c in changes]
        key = self.out.key("index.json", site.title, fingerprints)
        if not self.out.keep("index.json", key):
            head = index_head(site.title)
            data, lengths = assemble(
                head,
                fingerprints,
                self.out.previous_index(),  # the records an earlier build encoded
                lambda k: safe_json(index_record(changes[k])).encode(),
            )
            self.out.write("index.json", data, key)
            if all(len(fp) == FINGERPRINT for fp in fingerprints):
                self.out.index_order = {
                    "fingerprints": "".join(fingerprints),
                    "lengths": lengths,
                    "start": len(head),
                    "size": len(data),
                }

    def _failing(self) -> list[tuple[DocumentView, Failing]]:
        """The documents whose latest fetches all failed, longest failing first. Forms are
        not sources: their health is that of a link (links.html), checked apart."""
        docs = {d.id: d for d in self.site.documents if d.kind != "form"}
        found = [(docs[i], f) for i, f in self.site.failing.items() if i in docs]
        return sorted(found, key=lambda pair: (pair[1].since, pair[0].id))

    def categories(self) -> None:
        grouped: dict[str, list[ChangeView]] = defaultdict(list)
        for c in self.site.changes:  # one pass, not one per category
            for cat in dict.fromkeys(c.categories):
                grouped[cat].append(c)
        for cat in self.site.categories:
            members = grouped[cat]
            listed = members[: self.site.index_limit]
            self.page(
                category_page(cat),
                [cat, [c.fingerprint for c in listed], len(members)],
                "category.html",
                feeds=[*SITE_FEEDS, *category_feeds(cat)],
                category=cat,
                category_feeds=category_feeds(cat),
                changes=listed,
                omitted=len(members) - len(listed),
            )

    def _objection(self, c: ChangeView) -> list[LinkView]:
        """The document's objection links, shown on legal-basis and opt-out changes."""
        return self._why(c)[2]

    def _why(self, c: ChangeView) -> tuple[list[story.Explanation], bool, list[LinkView]]:
        """Why a change matters: the bases it names explained, whether it is about opt-out
        links, and the document's objection links (shown if either)."""
        explained, opt_out = story.explanations(c), story.about_opt_out(c)
        objection = story.objection_links(c, self.site.links) if explained or opt_out else []
        return explained, opt_out, objection

    def _change_key(
        self, c: ChangeView, around: Pair, objection: list[LinkView] | None = None
    ) -> list[Any]:
        """What a change's page shows; ``objection``: its :meth:`_objection`, if known."""
        prev, nxt = around
        archived = self.site.archived
        return [
            c.fingerprint,
            [(n.id, n.detected_at.isoformat(), n.title) if n else None for n in (prev, nxt)],
            [  # its versions' first sightings, not their last, which move at every check
                archived[v].fingerprint_without_last_seen if v in archived else None
                for v in (c.from_version_id, c.to_version_id)
            ],
            self._objection(c) if objection is None else objection,
        ]

    def kept_documents(self) -> set[str]:
        """The documents whose change pages and version pages (and Markdown) are reused
        wholesale: nothing any of them shows changed (the document, its changes, hence
        their neighbours, its archived versions, the links, the site's title), so the
        pages' own keys are not computed. Call it before :meth:`changes` and
        :meth:`versions`, which then skip these documents, when ``out`` can reuse files
        (:attr:`Output.incremental`); otherwise it keeps none and may come later (it
        records the documents' keys for the next build)."""
        links = self.out.key("links", list(self.site.links))
        grouped = by_document(self.site.changes)
        archived: dict[str, list[VersionView]] = defaultdict(list)
        for version in self.site.archived.values():
            archived[version.document_id].append(version)
        kept = set()
        for doc in self.site.documents:
            changes, versions = grouped.get(doc.id, []), archived.get(doc.id, [])
            current = doc.current_version_id
            key = self.out.key(
                "document pages",
                self.common_key,
                doc.fingerprint,
                current,  # the current version's page says so, and not its last sighting
                links,
                [c.fingerprint for c in changes],
                [
                    v.fingerprint_without_last_seen if v.id == current else v.fingerprint
                    for v in versions
                ],
            )
            files = partial(document_files, changes, versions)  # made if not kept
            if self.out.keep_group(f"document {doc.id}", key, files):
                kept.add(doc.id)
                self.pages += len(changes) + len(versions)
        self.kept = kept
        return kept

    def changes(self) -> None:
        shown = [c for c in self.site.changes if c.document.id not in self.kept]
        around = neighbours(shown)  # by document: those of the kept ones are not needed
        if not self.out.incremental:  # nothing to reuse: each page's key is made once, as
            self.todo += [("change", c, around[c.id]) for c in shown]  # it is rendered
            return
        todo = []
        for c in shown:
            key = self._change_key(c, around[c.id])
            rel = c.path
            if self.out.keep(rel, self.out.key(self.common_key, rel, *key)):
                self.pages += 1
            else:
                todo.append(c)
        self.todo += [("change", c, around[c.id]) for c in todo]

    def _change(self, c: ChangeView, around: Pair) -> None:
        prev, nxt = around
        # each of these once per page (the key and the page both show them)
        explained, opt_out, objection = self._why(c)
        blocks = summary.blocks(c.summary)
        self.page(
            c.path,
            self._change_key(c, around, objection),
            "change.html",
            feeds=[*SITE_FEEDS, *c.document.feeds()],
            change=c,
            hunks=Lazy(lambda: self.load.hunks(c)),
            blocks=blocks,
            passages=Lazy(lambda: passages.passages(self.load.hunks(c), blocks)),
            sentence=Lazy(lambda: story.sentence(c, len(self.load.hunks(c)))),
            explained=explained,
            opt_out=opt_out,
            objection=objection,
            previous=prev,
            next=nxt,
            before=self.site.archived.get(c.from_version_id or -1),
            after=self.site.archived.get(c.to_version_id or -1),
        )

    def documents(self) -> None:
        grouped = by_document(self.site.changes)
        for doc in self.site.documents:
            changes = grouped.get(doc.id, [])
            versions = list(self.site.versions.get(doc.id, []))
            failures = list(self.site.failures.get(doc.id, []))
            current = self.site.archived.get(doc.current_version_id or -1)
            if current is None and versions:  # current not recorded: the newest accepted one
                current = versions[-1]
            self.page(
                doc.path,
                [
                    doc.fingerprint,
                    [c.fingerprint for c in changes],
                    [v.fingerprint for v in versions],
                    failures,
                    current.fingerprint if current else None,
                ],
                "document.html",
                feeds=[*SITE_FEEDS, *doc.feeds()],
                document=doc,
                changes=changes,
                versions=versions,
                events=Lazy(lambda c=changes, v=versions, f=failures: timeline(c, v, f)),
                failed=sum(f.count for f in failures),
                current=current,
                current_text=Lazy(lambda v=current: self.load.text(v) if v else ""),
            )

    def versions(self) -> None:
        docs = {d.id: d for d in self.site.documents}
        todo = []
        reuse = self.out.incremental  # else nothing to reuse: no key made twice
        for version in self.site.archived.values():
            doc = docs.get(version.document_id)
            if doc is None or doc.id in self.kept:
                continue
            if not reuse:
                todo.append((version, doc))
                continue
            key = self.out.key(self.common_key, version.path, *self._version_key(version, doc))
            if self._keep_markdown(version) and self.out.keep(version.path, key):
                self.pages += 1
            else:
                todo.append((version, doc))
        self.todo += [("version", version, doc) for version, doc in todo]

    def render_todo(self, parallel: bool = True) -> None:
        """Render the pages of changes and versions that :meth:`changes` and
        :meth:`versions` could not reuse, and wait for them (:meth:`rendering`)."""
        with self.rendering(parallel) as finish:
            finish()

    @contextmanager
    def rendering(self, parallel: bool = True) -> Iterator[Callable[[], None]]:
        """Render the pages of changes and versions that :meth:`changes` and
        :meth:`versions` could not reuse: on every core when there are many
        (feeds/parallel.py), in the background, so this process can write other pages
        meanwhile; in this process otherwise, before anything is yielded. Same pages
        either way. Yields the function that waits for them and records them."""
        jobs, self.todo = self.todo, []
        allowed = parallel and bool(jobs) and self.load.can_fork()
        if allowed:
            render.warm(("change.html", "version.html"))  # compiled once, before forking
        here = os.getpid()
        with feeds_parallel.started(
            jobs, self._render_chunk, self._forked, allowed=allowed
        ) as results:

            def finish() -> None:
                # each chunk's files recorded as soon as it is done, while the last chunks
                # are still rendered (not all 30,000 of a full build at the end, one core idle)
                for pid, wrote, pages in results():
                    if pid != here:  # rendered by a worker, which named its pages
                        for rel, key, size in wrote:
                            self.out.adopt(rel, key, size, named=True)
                        self.pages += pages

            yield finish

    def _forked(self) -> None:
        """In a worker: its own connection to the database."""
        self.load = self.load.forked()
        self.in_worker = True

    def _render_chunk(self, jobs: Sequence[Job]) -> tuple[int, list[tuple[str, str, int]], int]:
        """Render ``jobs``; returns this process's id, the files written and the pages."""
        self.load.preload(
            blob
            for kind, item, _ in jobs
            if (blob := item.diff_blob if kind == "change" else item.text_blob)
        )
        pages, wrote = self.pages, self.out.start_log()
        for kind, item, extra in jobs:
            if kind == "change":
                self._change(item, extra)
            else:
                self._version(item, extra)
        self.out.stop_log()
        if self.in_worker:  # name its pages here, on this core, not all in the parent
            self.out.name_pages(wrote)
        return os.getpid(), [(rel, *self.out.files[rel]) for rel in wrote], self.pages - pages

    @staticmethod
    def _version_key(version: VersionView, doc: DocumentView) -> list[Any]:
        """What a version's page shows. The page of the document's current version does not
        show its last sighting, which moves at every check (the document's page shows it):
        an unchanged page checked again renders no archived text again."""
        current = version.id == doc.current_version_id
        shown = version.fingerprint_without_last_seen if current else version.fingerprint
        return [doc.fingerprint, shown, current]

    def _markdown_key(self, version: VersionView) -> str:
        """The Markdown is the stored text and nothing else: keyed by it alone."""
        return self.out.key(version.markdown_path, version.text_hash)

    def _keep_markdown(self, version: VersionView) -> bool:
        """Reuse the version's text as Markdown (``versions/<id>.md``) from the last build."""
        return self.out.keep(version.markdown_path, self._markdown_key(version))

    def _version(self, version: VersionView, doc: DocumentView) -> None:
        if version.markdown_path not in self.out.files:  # the text for download, as stored
            markdown = text.clean(self.load.text(version))
            self.out.write(version.markdown_path, markdown, self._markdown_key(version))
        self.page(
            version.path,
            self._version_key(version, doc),
            "version.html",
            feeds=[*SITE_FEEDS, *doc.feeds()],
            document=doc,
            version=version,
            current=version.id == doc.current_version_id,
            body=Lazy(lambda: self.load.text(version)),
        )

    def links(self) -> None:
        self.page(
            "links.html",
            [list(self.site.links)],
            "links.html",
            feeds=list(SITE_FEEDS),
            links=self.site.links,
        )


def write_site(
    out: Output,
    site: Site,
    load: Loader,
    meanwhile: Callable[[], object] | None = None,
    *,
    index: bool = True,
) -> int:
    """Write (or reuse) every page and static file of ``site``; returns the HTML page count.

    ``meanwhile`` (the feeds) runs after the pages this process renders and before the
    pages rendered by workers are waited for: on other cores, those go on meanwhile.
    Without ``index``, the index page and index.json are left to :func:`write_index`."""
    write_static(out)
    pages = _Pages(out, site, load)
    reuse = out.incremental  # else no document's pages can be kept: decided at once
    if reuse:
        pages.kept_documents()
    pages.changes()
    pages.versions()
    with pages.rendering() as finish:  # on other cores while this process writes the rest
        if not reuse:  # the documents' keys, for the next build, once the workers started
            pages.kept_documents()
        pages.documents()
        pages.categories()
        pages.links()
        if index:
            pages.index()
        if meanwhile is not None:
            meanwhile()
        finish()
    return pages.pages


def write_index(out: Output, site: Site, load: Loader) -> int:
    """Write (or reuse) the index page and index.json alone; returns the HTML page count."""
    pages = _Pages(out, site, load)
    pages.index()
    return pages.pages
