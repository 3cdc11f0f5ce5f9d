"""Publish: read storage, write the feeds and the site into ``out_dir`` in one atomic swap.

Files whose inputs did not change since the previous publish are reused from it (hard
links), not rendered again; ``out_dir`` is a symlink flipped to each new generation, never
to one built from older data: see feeds/incremental.py, feeds/atomic.py and
docs/decisions/0004-incremental-publish.md.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from changes.diff import Hunk
from feeds import atomic, feed, health, outputs, render, site, timeline
from feeds import parallel as feeds_parallel
from feeds.atomic import Build, Stamp, generation
from feeds.incremental import Noted, Output
from feeds.outputs import Publication
from feeds.views import ChangeView, DocumentView, VersionView, change_views, version_views
from storage import published, repo
from storage.blobs import Packed, get_text, packed_blobs, store_of, unpack
from storage.blobstore import FolderStore
from storage.installation import tag_scheme

#: The feed files written or kept, and those of each output (feeds/outputs/), by name.
Written = tuple[list[str], dict[str, list[str]]]


@dataclass(frozen=True)
class PublishResult:
    out_dir: Path
    feeds: list[Path]  # every feed file, below out_dir
    pages: int  # HTML pages in the site
    changes: int  # changes published (technical and silent ones never are)
    written: int = 0  # files rendered by this publish
    reused: int = 0  # files reused unchanged from the previous publish
    outcome: str = "published"  # or "unchanged" (site in place kept), "superseded" (newer)
    outputs: dict[str, list[Path]] = field(default_factory=dict)  # feeds/outputs/, by name


class StoredData:
    """Loads stored diffs (folded, never recomputed) and texts for the pages.

    A diff is computed once, when the change is stored (pipeline.detect.record_change).
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._held: dict[str, Packed] = {}
        self._hunks: dict[str, list[Hunk]] = {}
        self._text: tuple[str, str] = ("", "")

    def preload(self, blob_hashes: Iterable[str]) -> None:
        """Read these blobs' rows in a few queries: held until the next preload."""
        self._held = packed_blobs(self.session, blob_hashes)

    def _get_text(self, digest: str) -> str:
        packed = self._held.get(digest)
        if packed is None:
            return get_text(self.session, digest)
        return unpack(self.session, digest, packed).decode("utf-8")

    def prepare(self, changes: list[ChangeView]) -> None:
        """Load the diffs of ``changes`` not folded yet, in a few queries, and fold them."""
        missing = [c for c in changes if c.diff_blob and c.diff_blob not in self._hunks]
        for start in range(0, len(missing), site.BATCH):
            batch = missing[start : start + site.BATCH]
            self.preload(c.diff_blob for c in batch if c.diff_blob)
            for c in batch:
                self.hunks(c)
        self._held = {}

    def hunks(self, change: ChangeView) -> list[Hunk]:
        if change.diff_blob is None:  # link-health and source-health changes have no diff
            return []
        if change.diff_blob not in self._hunks:
            self._hunks[change.diff_blob] = render.fold(self._get_text(change.diff_blob))
        return self._hunks[change.diff_blob]

    def can_fork(self) -> bool:
        """A forked worker can open its own connection to the database and read the blob
        store: a database in a file or on a server (not one in memory) and blobs in the
        database or a folder (an object store's client is not shared across a fork)."""
        engine = self.session.get_bind()
        if not isinstance(engine, Engine):
            return False
        if engine.url.get_backend_name() == "sqlite" and engine.url.database in (
            None,
            "",
            ":memory:",
        ):
            return False
        store = store_of(self.session)
        return store is None or isinstance(store, FolderStore)

    def forked(self) -> StoredData:
        """The loader of a forked worker: its own connections (the parent's stay the
        parent's), the same blob store."""
        engine = self.session.get_bind()
        assert isinstance(engine, Engine)
        engine.dispose(close=False)
        return StoredData(Session(bind=engine, info=dict(self.session.info)))

    def text(self, version: VersionView) -> str:
        """The version's text; the last one is kept (its page and its Markdown both read it)."""
        if self._text[0] != version.text_blob:
            self._text = (version.text_blob, self._get_text(version.text_blob))
        return self._text[1]


def data_stamp(session: Session) -> Stamp:
    """What this publish reads (``storage.published.data_marks``), and when. Taken before
    reading, inside the same transaction."""
    read_at = time.time_ns()
    source, marks = published.data_marks(session)
    return Stamp(source, marks, read_at)


def load_site(session: Session, site_title: str, limit: int, attribution: str | None) -> site.Site:
    """Read everything the site shows from storage, as views."""
    rows = repo.documents(session)
    docs = {d.id: DocumentView.of(d) for d in rows}
    accepted = published.accepted_version_rows(session)
    versions = {d.id: version_views(accepted.get(d.id, [])) for d in rows}
    archived = {v.id: v for vs in versions.values() for v in vs}
    change_rows = published.published_change_rows(session)
    wanted = {i for c in change_rows for i in (c.from_version_id, c.to_version_id) if i}
    for v in repo.versions_by_id(session, wanted - set(archived)):
        archived[v.id] = VersionView.of(v)
    changes = change_views(change_rows, docs, archived)
    outcomes = list(repo.fetch_outcomes(session))
    links = health.link_views(
        repo.links(session), repo.link_sightings(session), repo.link_checks(session), docs
    )
    return site.Site(
        title=site_title,
        documents=list(docs.values()),
        changes=changes,
        versions=versions,
        archived=dict(sorted(archived.items())),
        failures=timeline.failure_runs(outcomes),
        failing=timeline.failing_now(outcomes),
        links=links,
        attribution=attribution,
        index_limit=limit,
    )


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: reading every row made the collector run again
    and again over the objects just made, all of which stay (its runs cost as much as
    building the views did)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def heap_frozen() -> Iterator[None]:
    """Keep the cyclic garbage collector off the objects that exist now (the views of
    10,000 changes and versions): a publish allocates a lot, so full collections ran
    again and again over all of them, 0.4 s of a 1.9 s publish of one new change. Call
    :func:`gc.freeze` again inside to add what was made since; memory is still freed
    by reference counting, and everything is unfrozen when the publish ends."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def feeds_aside(build: Build, stamp: Stamp, out: Output, stored: StoredData) -> bool:
    """Render the index and the feeds in a forked process while this one writes the other
    pages: when a change is new since the previous build (by the highest change id of the
    stamps) and that build is reused (the index and some feeds must be rendered again, the
    pages of changes and versions are few). A full build's feeds already run beside the
    workers rendering its pages, and a publish without a new change renders no feed: a
    fork would cost more than it saves; so does one on a single core."""
    if build.previous is None or not out.incremental or feeds_parallel.workers() < 2:
        return False
    before = Stamp.read(build.previous)
    if before is not None and before.source == stamp.source and before.marks[:1] == stamp.marks[:1]:
        return False
    return stored.can_fork()


def publish(
    session: Session,
    out_dir: Path,
    base_url: str,
    site_title: str = "policywatch",
    *,
    limit: int = feed.DEFAULT_LIMIT,
    attribution: str | None = None,
) -> PublishResult:
    """Write Atom/RSS feeds and the static site of all published changes to ``out_dir``.

    ``base_url`` is the public URL of ``out_dir``: feed links are absolute on it, pages link
    relatively. Feeds, the index and category pages keep the ``limit`` newest changes; every
    change gets a page. ``attribution`` (e.g. the ODC-BY credit of archived texts) goes in
    every page footer and every feed's rights. Readers see the old folder or the new one,
    never a half-written one. The first publish of a database chooses the installation's
    tag URI authority (``base_url``'s host and today's date) and stores it (commits).
    """
    read: list[object] = []
    with heap_frozen():
        result = _publish(session, Path(out_dir), base_url, site_title, limit, attribution, read)
    # The views and manifests it read (some 200,000 objects at 10,000 changes, 25 ms to
    # deallocate) are released in a thread once the new site is live, not before returning.
    atomic.in_background(lambda: release(read), "policywatch-release")
    return result


def release(objects: list[object], piece: int = 1000) -> None:
    """Empty ``objects``, deallocating the lists and dicts they hold ``piece`` items at a
    time: deallocating a whole publish's views is one call that holds the interpreter
    lock for 25 ms; in pieces, other threads (the one that published) go on between them.
    The objects must be no one else's."""
    while objects:
        held = objects.pop()
        for value in [held] if isinstance(held, list | dict) else list(vars(held).values()):
            _empty(value, piece)


def _empty(value: object, piece: int) -> None:
    """Empty a list or a dict (and the long lists it holds) ``piece`` items at a time."""
    if isinstance(value, list):
        while value:
            del value[-piece:]
    elif isinstance(value, dict):
        for inner in value.values():
            if isinstance(inner, list) and len(inner) > piece:
                _empty(inner, piece)
        while value:
            for key in list(islice(value, piece)):
                del value[key]


def _publish(
    session: Session,
    final: Path,
    base_url: str,
    site_title: str,
    limit: int,
    attribution: str | None,
    read: list[object],
) -> PublishResult:
    """:func:`publish`; what it read is left in ``read``, released by the caller."""
    base = feed.normalize_base_url(base_url)
    scheme = tag_scheme(session, urlsplit(base).hostname)  # may commit: before the stamp
    tag_base = f"tag:{scheme.authority}:{scheme.prefix}"
    stamp = data_stamp(session)
    with collector_paused():  # 40,000 rows and views, all kept: nothing to collect
        data = load_site(session, site_title, limit, attribution)
        # the views, read once and kept to the end; frozen before the collector is back
        # on, or its first run goes over all of them (10% of a publish of one change)
        gc.freeze()
    stored = StoredData(session)

    with generation(final, stamp) as build, Output(build.path, build.previous, build.token) as out:
        specs = feed.feed_specs(
            site_title, data.documents, data.categories, tag_base, rights=attribution
        )
        written: list[str] = []
        extra: dict[str, list[str]] = {}

        def feeds(loader: StoredData) -> Written:
            entry = feed.Entries(out, base, tag_base, loader.hunks, loader.prepare)
            listing = feed.listed(specs, data.changes, limit)  # once for every format
            files = feed.write_feeds(
                out, base, specs, data.changes, entry, limit, entry.prepare, listing=listing
            )
            publication = Publication(
                out, data, base, specs, entry, entry.prepare, limit, listing=listing
            )
            more = {name: write(publication) for name, write in outputs.registered().items()}
            entry.keep(specs, data.changes, limit, listing)  # the entries the next build reuses
            return files, more

        def feeds_here() -> None:
            written[:], more = feeds(stored)
            extra.update(more)

        def aside() -> tuple[Written, int, list[Noted]]:
            """In the forked process (its own database connection): the index and the
            feeds, and the records and entries the next build reuses; reports every file."""
            journal = out.start_journal()
            loader = stored.forked()
            index_pages = site.write_index(out, data, loader)
            done = feeds(loader)
            out.close_records()
            return done, index_pages, journal

        if feeds_aside(build, stamp, out, stored):
            with feeds_parallel.aside(aside) as forked:
                pages = site.write_site(out, data, stored, index=False)
                out.link_kept()  # the pages in place while the forked process goes on
                (written[:], more), index_pages, journal = forked()
            pages += index_pages
            extra.update(more)
            out.replay(journal)  # its files: the kept ones are linked by link_kept below
            out.records_closed = True
        else:
            # the feeds after the pages rendered here (they reuse the diffs those folded),
            # while the pages rendered by workers, if any, are still being rendered
            pages = site.write_site(out, data, stored, meanwhile=feeds_here)
        if out.same_as_previous:
            build.unchanged = True  # nothing new: the site in place stays, no tree is built
        else:
            out.link_kept()
            out.close()
    read += [data, out, specs]  # plain values: no row of the session, which stays here
    return PublishResult(
        out_dir=final,
        feeds=[final / rel for rel in written],
        outputs={name: [final / rel for rel in files] for name, files in extra.items()},
        pages=pages,
        changes=len(data.changes),
        written=out.written,
        reused=out.reused,
        outcome=build.outcome,
    )
