"""Atom and RSS 2.0 feeds (feedgen): all changes, one per document, one per category.

Everything a feed holds is derived from stored rows, never from the clock, so rebuilding
with no new change writes byte-identical files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from itertools import islice
from typing import Any
from urllib.parse import urlsplit

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from markupsafe import escape

from changes.diff import Hunk
from feeds import fragments, lists, render, story, summary, text
from feeds.entry_texts import Texts
from feeds.incremental import Output
from feeds.views import ChangeView, DocumentView, category_feeds

DEFAULT_LIMIT = 200
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)  # a feed without entries: fixed, not now


@dataclass(frozen=True)
class Entry:
    """One change as a feed entry, rendered once and shared by every feed that lists it."""

    change_id: int
    document_id: str
    id: str
    title: str
    link: str
    updated: datetime
    categories: tuple[str, ...]
    content: str  # HTML, every crawled character escaped
    #: its feedgen entries, by author (name, URI): made once, shared by every feed listing it
    made: dict[tuple[str, str], FeedEntry] = field(
        default_factory=dict, compare=False, repr=False, hash=False
    )

    def feed_entry(self, author: dict[str, str]) -> FeedEntry:
        """This entry for feedgen, written by ``author``. Made once and added to every
        feed (Atom and RSS) that lists it: feedgen only reads an entry when it writes a
        feed, and setting one up took as long as writing it, 2,000 times a publish."""
        key = (author["name"], author["uri"])
        fe = self.made.get(key)
        if fe is None:
            fe = FeedEntry()
            fe.id(self.id)
            fe.title(self.title)
            fe.author(author)
            fe.link(href=self.link, rel="alternate")
            fe.updated(self.updated)
            fe.published(self.updated)
            for cat in self.categories:
                fe.category(term=cat, label=cat)
            fe.content(self.content, type="html")
            self.made[key] = fe
        return fe


@dataclass(frozen=True)
class FeedSpec:
    """What one feed is: its files (``<path>.atom`` / ``.rss``), stable id and titles."""

    path: str
    id: str
    title: str
    subtitle: str
    page: str  # the HTML page the feed mirrors, relative to the site root
    document_id: str | None = None  # only this document's changes
    category: str | None = None  # only changes in this category
    rights: str | None = None  # attribution / licence of the texts (Atom rights, RSS copyright)
    author: str = "policywatch"  # the installation (its site title): it writes the entries

    def wants(self, entry: Entry | ChangeView) -> bool:
        doc_id = entry.document.id if isinstance(entry, ChangeView) else entry.document_id
        if self.document_id is not None and doc_id != self.document_id:
            return False
        return self.category is None or self.category in entry.categories


def normalize_base_url(base_url: str) -> str:
    """``base_url`` with a trailing slash; it must be an absolute http(s) URL."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base_url must be an absolute http(s) URL, not {base_url!r}")
    url = base_url.strip()
    return url if url.endswith("/") else url + "/"


def build_entry(
    change: ChangeView,
    folded: list[Hunk],
    base_url: str,
    tag_base: str,
    content: str | None = None,
) -> Entry:
    """The feed entry of ``change``: a short summary then the first hunks of its diff.

    ``tag_base`` (``tag:host,date:prefix``) is the installation's own: entry ids are unique
    to it and never change. Insertions and deletions are marked in the text too
    (``{+new+}``, ``[-old-]``) for readers that drop <ins> and <del>. ``content``: the
    :func:`entry_content` of the same change on the same ``base_url``, kept from an
    earlier build (``folded`` is then not read).
    """
    link = base_url + change.path
    return Entry(
        change_id=change.id,
        document_id=change.document.id,
        id=text.tag_uri(tag_base, "change", change.document.id, change.id),
        title=text.short_title(change.title),
        link=link,
        updated=change.detected_at,
        categories=tuple(change.categories),
        content=entry_content(change, folded, base_url) if content is None else content,
    )


def entry_content(change: ChangeView, folded: list[Hunk], base_url: str) -> str:
    """The HTML of ``change``'s entry (every crawled character escaped): made of the
    change's view, its folded diff and ``base_url`` only. Built in Python, not by a
    template (4,000 entries in a full build at 10,000 changes): the HTML the template
    entry.html printed, which tests/test_feed_entry.py keeps and compares."""
    shown, more = render.excerpt(folded)
    sentence = story.sentence(change, len(folded))
    if change.has_diff:
        head = (
            f"+{lists.shown(change.words_added)} / \u2212{lists.shown(change.words_removed)} words"
        )
    else:
        head = lists.shown(change.kind)
    if change.categories:
        head += f" \u00b7 {_joined(change.categories, ', ')}"
    out = [
        f"<p>{head} \u00b7 recorded {lists.shown(fragments.fmt_datetime(change.detected_at))}"
        f" \u00b7 effective {lists.shown(change.effective_date or 'date not stated')}</p>\n"
        f"<p>{lists.shown(sentence)}</p>\n"
    ]
    blocks = summary.blocks(change.summary)
    if blocks:
        out.append("<ul>\n")
        for block in blocks:
            lines = _joined([line.plain for line in block.lines], "; ")
            out.append(f"<li><strong>{lists.shown(block.label)}:</strong> {lines}</li>\n")
        out.append("</ul>\n")
    if change.has_diff:
        out.append(f"<p>{lists.shown(fragments.TEXT_MARKS_LEGEND)}</p>\n")
        out.append(f"{fragments.diff(shown, breaks=True, marks=True)}\n")
        if more:
            s = "s" if more > 1 else ""
            out.append(f"<p>\u2026 and {lists.shown(more)} more changed passage{s}.</p>")
    read = "full diff" if change.has_diff else "details"
    out.append(f'<p><a href="{lists.shown(base_url + change.path)}">Read the {read}</a></p>\n')
    return text.clean("".join(out))


def _joined(items: Sequence[Any], separator: str) -> str:
    """``{{ items|join(separator) }}`` as an autoescaped template prints it: the items
    joined then cleaned and escaped, or, if one of them is Markup, each other one escaped."""
    if any(hasattr(item, "__html__") for item in items):
        return str(escape(separator).join(items))
    return lists.shown(separator.join([str(item) for item in items]))


class Entries:
    """The feed entries of one publish, each made once and shared by every feed listing
    it. The HTML content of an entry an earlier build made for the same change (same
    fingerprint) and base URL is taken from ``out`` (incremental.ENTRIES) instead of
    folding its diff and rendering it again: a feed rendered again because one change is
    new renders one entry, not 200."""

    def __init__(
        self,
        out: Output,
        base_url: str,
        tag_base: str,
        hunks: Callable[[ChangeView], list[Hunk]],
        load: Callable[[list[ChangeView]], None],
    ) -> None:
        self.out, self.base_url, self.tag_base = out, base_url, tag_base
        self.hunks, self.load = hunks, load
        self.made: dict[int, Entry] = {}
        self.rendered = False  # a feed was rendered (write_feeds prepared its changes)

    @cached_property
    def known(self) -> Texts:
        """The previous build's entries (4 MB at 10,000 changes), read only if a feed is
        rendered (not by a publish with no news), each decoded only if a feed lists it."""
        return self.out.previous_entries(self.base_url)

    def __call__(self, change: ChangeView) -> Entry:
        made = self.made.get(change.id)
        if made is None:
            content = self.known.get(change.fingerprint)
            folded = [] if content is not None else self.hunks(change)
            made = build_entry(change, folded, self.base_url, self.tag_base, content)
            self.made[change.id] = made
        return made

    def prepare(self, changes: list[ChangeView]) -> None:
        """Load at once the diffs of the ``changes`` whose entries must be rendered."""
        self.rendered = True
        self.load([c for c in changes if c.fingerprint not in self.known])

    def keep(
        self,
        specs: Sequence[FeedSpec],
        changes: Sequence[ChangeView],
        limit: int,
        listing: list[list[ChangeView]] | None = None,
    ) -> None:
        """Give ``out`` the content of every entry a feed lists (``listing``: the feeds'
        :func:`listed`, if made already), for the next build: when a feed was rendered by
        this build (otherwise the previous build's are kept as they are). Sorted by
        fingerprint: the same bytes however the site was built."""
        if not self.rendered:
            return
        kept: dict[str, bytes] = {}
        known = self.known
        for chosen in listed(specs, changes, limit) if listing is None else listing:
            for c in chosen:
                if c.fingerprint in kept:
                    continue
                made = self.made.get(c.id)
                found = made.content.encode() if made is not None else known.raw(c.fingerprint)
                if found is not None:  # the bytes kept, copied without decoding them
                    kept[c.fingerprint] = found
        self.out.entries = (self.base_url, sorted(kept.items()))


def _generator(spec: FeedSpec, entries: Sequence[Entry], base_url: str, ext: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.id(spec.id)
    fg.title(text.clean(spec.title))
    author = {"name": text.clean(spec.author), "uri": base_url}
    fg.author(author)  # RFC 4287 4.1.1: a feed (or each entry) has an atom:author
    fg.subtitle(text.clean(spec.subtitle))  # also the RSS channel description
    fg.language("en")
    fg.generator("policywatch")
    if spec.rights:
        fg.rights(text.clean(spec.rights))
    fg.link(href=f"{base_url}{spec.path}.{ext}", rel="self")
    fg.link(href=base_url + spec.page, rel="alternate")
    fg.updated(max((e.updated for e in entries), default=EMPTY_FEED_UPDATED))
    for e in entries:
        fg.add_entry(e.feed_entry(author), order="append")
    return fg


def render_atom(spec: FeedSpec, entries: Sequence[Entry], base_url: str) -> bytes:
    """The Atom document of ``spec`` listing ``entries`` in the order given."""
    return _generator(spec, entries, base_url, "atom").atom_str(pretty=True)


def render_rss(spec: FeedSpec, entries: Sequence[Entry], base_url: str) -> bytes:
    """The RSS 2.0 document of ``spec`` listing ``entries`` in the order given."""
    return _generator(spec, entries, base_url, "rss").rss_str(pretty=True)


#: A feed format: the document of a spec listing entries, on a base URL.
Renderer = Callable[[FeedSpec, Sequence[Entry], str], bytes]
FORMATS: dict[str, Renderer] = {"atom": render_atom, "rss": render_rss}


def feed_specs(
    site_title: str,
    documents: Sequence[DocumentView],
    categories: Sequence[str],
    tag_base: str,
    rights: str | None = None,
) -> list[FeedSpec]:
    """Every feed the site offers: all changes, then one per document, then per category."""
    specs = [
        FeedSpec(
            "feed",
            text.tag_uri(tag_base, "feed"),
            f"{site_title}: all changes",
            "Changes to Meta's privacy and AI pages, newest first.",
            "index.html",
            rights=rights,
            author=site_title,
        )
    ]
    for doc in documents:
        specs.append(
            FeedSpec(
                f"documents/{doc.slug}",
                text.tag_uri(tag_base, "feed", "document", doc.id),
                f"{site_title}: {doc.title}",
                f"Changes to {doc.title} ({doc.service}, {doc.locale}), newest first.",
                f"documents/{doc.slug}.html",
                document_id=doc.id,
                rights=rights,
                author=site_title,
            )
        )
    for cat in categories:
        path = category_feeds(cat)[0].href.removesuffix(".atom")
        specs.append(
            FeedSpec(
                path,
                text.tag_uri(tag_base, "feed", "category", cat),
                f"{site_title}: {cat}",
                f"Changes in the category \u201c{cat}\u201d, newest first.",
                "index.html",
                category=cat,
                rights=rights,
                author=site_title,
            )
        )
    return specs


def listed(
    specs: Sequence[FeedSpec], changes: Sequence[ChangeView], limit: int
) -> list[list[ChangeView]]:
    """The ``limit`` first of ``changes`` each spec wants, in the order of ``specs``: in
    one pass over ``changes`` for the feeds of one document or one category (a spec's
    ``wants`` for every change and every feed was 160,000 calls at 10,000 changes; the
    pass stops once each of their lists is full), as ``wants`` chooses them otherwise."""
    by_document: dict[str, list[ChangeView]] = {}
    by_category: dict[str, list[ChangeView]] = {}
    documents = {s.document_id for s in specs if s.document_id is not None and s.category is None}
    categories = {s.category for s in specs if s.category is not None and s.document_id is None}
    unfilled = len(documents) + len(categories)  # the pass ends when every list is full
    for c in changes:
        if not unfilled:
            break
        if c.document.id in documents:
            mine = by_document.setdefault(c.document.id, [])
            if len(mine) < limit:
                mine.append(c)
                unfilled -= len(mine) == limit
        for cat in c.categories:
            if cat not in categories:
                continue
            members = by_category.setdefault(cat, [])
            if len(members) < limit and (not members or members[-1] is not c):
                members.append(c)
                unfilled -= len(members) == limit
    listed = []
    for spec in specs:
        if spec.document_id is not None and spec.category is None:
            listed.append(by_document.get(spec.document_id, []))
        elif spec.category is not None and spec.document_id is None:
            listed.append(by_category.get(spec.category, []))
        else:
            listed.append(list(islice((c for c in changes if spec.wants(c)), limit)))
    return listed


def write_feeds(
    out: Output,
    base_url: str,
    specs: Sequence[FeedSpec],
    changes: Sequence[ChangeView],
    entry: Callable[[ChangeView], Entry],
    limit: int = DEFAULT_LIMIT,
    prepare: Callable[[list[ChangeView]], None] | None = None,
    formats: Mapping[str, Renderer] | None = None,
    listing: list[list[ChangeView]] | None = None,
) -> list[str]:
    """Write ``<spec.path>.atom`` and ``.rss`` (or the ``formats`` given, by file extension)
    for every spec; ``changes`` newest first.

    Each feed keeps its ``limit`` newest changes. A feed whose changes and settings are
    those of the previous build is reused; ``entry`` is called only for feeds rendered,
    after ``prepare`` was given all the changes they list (to load their diffs at once).
    ``listing``: :func:`listed` for these specs and changes, if made already (it is the
    same for every format: made once a publish). Returns the files, relative to the
    output root.
    """
    written: list[str] = []
    todo: list[tuple[str, str, FeedSpec, list[ChangeView], Callable[..., bytes]]] = []
    chosen_by_spec = listed(specs, changes, limit) if listing is None else listing
    for spec, chosen in zip(specs, chosen_by_spec, strict=True):
        for ext, make in (formats or FORMATS).items():
            rel = f"{spec.path}.{ext}"
            key = out.key("feed", ext, spec, base_url, [c.fingerprint for c in chosen])
            if not out.keep(rel, key):
                todo.append((rel, key, spec, chosen, make))
            written.append(rel)
    if prepare is not None and todo:
        prepare(list({c.id: c for *_, chosen, _ in todo for c in chosen}.values()))
    for rel, key, spec, chosen, make in todo:
        out.write(rel, make(spec, [entry(c) for c in chosen], base_url), key)
    return written
