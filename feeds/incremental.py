"""Incremental publishing: reuse the files of the previous build whose inputs did not change.

Each output file is written with a *key*: a digest of everything it is made of (the rows it
shows and the code that renders it). The keys go to a manifest in the output folder. The
next build, writing a fresh generation, reuses a file of the previous one when its key is
unchanged, and renders it only otherwise; the fresh generation then replaces the old one in
one swap (feeds/atomic.py).

The pages of changes and versions (``changes/<id>.html``, ``versions/<id>.html`` and
``.md``: nearly every file of a large site) are kept in *buckets* of :data:`BUCKET` ids,
folders below ``.public.sites/store/`` that generations share by symlink: a generation
writes a new bucket folder only where a page in it changed (hard-linking that bucket's
other pages into it), and links to the previous generation's folder for every other
bucket. So a publish touches a few hundred files, not every file of the site.
See docs/decisions/0004-incremental-publish.md.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from collections.abc import Callable, Iterable, Sequence
from contextlib import suppress
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from feeds import entry_texts, grouped
from feeds.atomic import NAMES, PAGES, STORE
from feeds.grouped import Group
from feeds.index_records import Laid

MANIFEST = ".policywatch-manifest.json"
#: Where each record of index.json is in its bytes: the fingerprints of their changes in
#: order (64 hex digits each, joined), each record's length, where the first begins and
#: the file's size. The next build takes the records of unchanged changes from those bytes
#: and encodes only those of changes that are new or changed (feeds/index_records.py),
#: without reading 10,000 records as JSON and writing them again.
INDEX_ORDER = ".policywatch-index-order.json"
#: The HTML content of feed entries, by the fingerprint of their change, for every change
#: a feed lists, with the base URL they link to: a feed rendered again because one change
#: is new renders only the new entry (feeds/entry_texts.py: the layout and the texts).
ENTRIES = (entry_texts.LAYOUT, entry_texts.TEXTS)
_FORMAT = 3  # 2: pages of changes and versions in shared buckets; 3: groups as text
BUCKET = 256  # ids per bucket folder of change or version pages
PAGED_TOPS = ("changes", "versions")  # top folders made of buckets (symlinks to NAMES)
#: A file kept or written by a forked process: its path, key, size, and whether written.
Noted = tuple[str, str, int, bool]


def bucket_of(rel: str) -> str | None:
    """The bucket of a change or version page (``changes-3`` for ``changes/812.html``);
    None for every other file, which each generation holds itself. (String methods, not
    a regular expression: it runs for every page, 40,000 times a publish.)"""
    top, _, name = rel.partition("/")
    if top not in PAGED_TOPS:
        return None
    stem, _, ext = name.partition(".")
    if ext not in ("html", "md") or not (stem.isascii() and stem.isdigit()):
        return None
    return f"{top}-{int(stem) // BUCKET}"


def by_bucket(rels: Iterable[str]) -> tuple[dict[str, list[str]], list[str]]:
    """``rels`` grouped by :func:`bucket_of` (in their order), and those of no bucket: the
    same, inlined, for the 30,000 files of a publish (a call each was 8% of a publish of
    one new change)."""
    buckets: dict[str, list[str]] = {}
    others = []
    size = BUCKET
    for rel in rels:
        top, _, name = rel.partition("/")
        if top in PAGED_TOPS:
            stem, _, ext = name.partition(".")
            if (ext == "html" or ext == "md") and stem.isascii() and stem.isdigit():
                key = f"{top}-{int(stem) // size}"
                if key in buckets:
                    buckets[key].append(rel)
                else:
                    buckets[key] = [rel]
                continue
        others.append(rel)
    return buckets, others


def write_new(path: str, data: bytes) -> None:
    """Write ``data`` to the file ``path`` (created or emptied, mode 0666 less the umask,
    as ``open(path, "wb")``) in three system calls: a buffered file object added a
    ``fstat``, an ``ioctl`` and two ``lseek`` calls to each of 30,000 pages."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def digest(*parts: Any) -> str:
    """A stable sha256 of values: strings, numbers, datetimes, lists, dicts, dataclasses.

    Made of ``repr``, which is exact for these types and done in C (JSON with a hook for
    datetimes and dataclasses cost 3-4x more, at 40,000 keys a publish). Dataclasses are
    digested by their fields, in their ``repr``; the views pass their own cached
    ``fingerprint`` for nested views (feeds/views.py), so each is serialised once. Values
    must have a stable ``repr``: no sets, no objects that show their address.
    """
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


def quick_digest(*parts: Any) -> str:
    """:func:`digest` for the fingerprints of 20,000 views a publish: the values encoded by
    orjson (strings, numbers, booleans, None, lists, dicts with string keys, datetimes
    with their offsets: exact, and several times faster than ``repr``, which was a sixth
    of a publish of one new change; only a float NaN or infinity reads as None). Values
    orjson refuses (a lone surrogate, an integer over 64 bits, another type) are digested
    by :func:`digest` instead."""
    try:
        raw = orjson.dumps(parts)
    except TypeError:
        return digest(*parts)
    return hashlib.sha256(b"json:" + raw).hexdigest()


@cache
def code_salt() -> str:
    """A digest of the code that renders the site: feeds/ (modules, templates, static files)
    and the folding of diffs. Any edit to them makes every key new: a full rebuild."""
    h = hashlib.sha256(f"format {_FORMAT}".encode())
    roots = [resources.files("feeds"), resources.files("changes").joinpath("diff.py")]
    stack = list(roots)
    files = []
    while stack:
        item = stack.pop()
        if item.is_dir():
            stack.extend(c for c in item.iterdir() if c.name != "__pycache__")
        elif item.name.endswith((".py", ".html", ".css", ".js", ".svg")):
            files.append(item)
    for item in sorted(files, key=lambda f: str(f)):
        h.update(item.name.encode())
        h.update(item.read_bytes())
    return h.hexdigest()


class Output:
    """The generation being built, and what can be reused from the ``previous`` one.

    ``keep(rel, key)`` says whether the previous file can be reused (its key and size
    match) and notes it; ``write(rel, data, key)`` writes a new one. ``link_kept()`` puts
    the reused files in place and nothing else; ``close()`` writes the manifest.

    Paths (``rel``) are the site's: ``changes/12.html``. A page of a bucket (:func:`bucket_of`)
    is written into a bucket folder of this build, ``store/<token>.<bucket>`` below the
    generations folder, which ``.policywatch-pages/<bucket>`` in the generation links to;
    ``link_kept`` hard-links the bucket's reused pages into it, and links every bucket in
    which nothing was written or removed to the previous generation's folder. Other files
    are written into the generation and reused by a hard link. Nothing is ever written
    into a file or folder of the previous generation (readers may have it open). Each
    page of a bucket also gets, once, its name ``names/changes/<id>.html``, a symlink
    through ``public``, which the generation's ``changes`` (a symlink to ``names/changes``)
    shows.
    """

    def __init__(self, root: Path, previous: Path | None, token: str = "", salt: str = "") -> None:
        self.root = root
        self.previous = previous
        self.token = token or root.name
        self.salt = salt or code_salt()
        sites = root.parent
        self.store = sites / STORE
        self.names = sites / NAMES
        self.site_name = sites.name[1 : -len(".sites")] if sites.name.endswith(".sites") else ""
        self.files: dict[str, list[Any]] = {}
        self.written = 0
        self.reused = 0
        self.groups: dict[str, str] = {}  # keys of groups of files (keep_group)
        self._old_groups: dict[str, str] = {}
        self._old_grouped: dict[str, Group] = {}  # the previous build's groups, unread
        self._old = self._read_manifest(previous)  # its files, and those of groups read
        self._kept: dict[str, Group] = {}  # groups reused wholesale: passed on unread
        self._group_files: dict[str, list[str]] = {}  # groups recorded file by file
        self._read_groups: set[str] = set()  # previous groups whose files are in _old
        self._folders: dict[str, list[int]] | None = None  # grouped.FOLDERS of previous
        self._unchanged: dict[str, bool] = {}  # its bucket folders as noted, by bucket
        self._named: dict[str, set[str]] = {}  # names in NAMES/<top>, listed once (name_pages)
        self._dirs: set[str] = set()
        self._fresh: set[str] = set()  # buckets this build has its own folder for
        self._bucket_paths: dict[str, str] = {}  # their paths, once made (write)
        self._listed: dict[str, set[str]] = {}  # names in the previous generation's buckets
        self._written: set[str] = set()
        self._named_pages: set[str] = set()  # pages written and named by workers (adopt)
        self._bucket_of: dict[str, str] = {}  # each page's bucket, once link_kept ran
        self.index_order: dict[str, Any] | None = None  # INDEX_ORDER of this build, if renewed
        # ENTRIES of this build, if renewed: their base URL, and (fingerprint, content)s
        self.entries: tuple[str, list[tuple[str, bytes]]] | None = None
        self._log: list[str] | None = None  # files written since start_log (in a worker)
        self._journal: list[Noted] | None = None  # files kept or written since start_journal
        self.records_closed = False  # INDEX_ORDER and ENTRIES written (close_records) already
        self._linked = False  # link_kept ran: files recorded since are linked by the next call
        self._late: list[str] = []  # files reused, recorded after link_kept ran (replay)

    def __enter__(self) -> Output:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def _read_manifest(self, previous: Path | None) -> dict[str, list[Any]]:
        if previous is None:
            return {}
        try:
            data = orjson.loads((previous / MANIFEST).read_bytes())
        except (OSError, ValueError):  # orjson.JSONDecodeError is a ValueError
            return {}
        if not isinstance(data, dict) or data.get("salt") != self.salt:
            return {}
        groups = data.get("groups")
        self._old_groups = groups if isinstance(groups, dict) else {}
        kept = data.get("grouped")
        if isinstance(kept, dict):
            self._old_grouped = {g: v for g, v in kept.items() if grouped.is_group(v)}
        files = data.get("files")
        return files if isinstance(files, dict) else {}

    def _previous_strings(self, name: str) -> dict[str, Any]:
        """A JSON object the previous build kept beside its manifest, if it was made by
        this code (same salt); {} if there is none or it cannot be read."""
        if self.previous is None or not self._old:
            return {}
        try:
            data = orjson.loads((self.previous / name).read_bytes())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def previous_index(self) -> Laid | None:
        """The previous build's index.json and where its records are (:data:`INDEX_ORDER`),
        if that build was made by this code (same salt) and the file is laid out as noted
        (not edited by hand); None otherwise: every record is encoded again."""
        order = self._previous_strings(INDEX_ORDER)
        if not order:
            return None
        try:
            raw = (self.previous or Path()).joinpath("index.json").read_bytes()
        except OSError:
            return None
        return Laid.of(raw, order)

    def previous_entries(self, base_url: str) -> entry_texts.Texts:
        """The previous build's :data:`ENTRIES` (content by change fingerprint), if it was
        made by this code (same salt) for the same ``base_url``."""
        if self.previous is None or not self.incremental:
            return entry_texts.Texts()
        return entry_texts.read(self.previous, base_url)

    def key(self, *parts: Any) -> str:
        return digest(self.salt, *parts)

    @staticmethod
    def where(rel: str) -> str:
        """Where ``rel`` is below a generation: in its bucket's folder, or as it is."""
        bucket = bucket_of(rel)
        if bucket is None:
            if rel.partition("/")[0] in PAGED_TOPS:
                raise ValueError(f"{rel}: only pages of a bucket may go below changes/, versions/")
            return rel
        return f"{PAGES}/{bucket}/{rel.rpartition('/')[2]}"

    def _old_size_matches(self, rel: str, size: Any) -> bool:
        """The previous generation still has ``rel`` as a regular file of ``size`` bytes."""
        try:
            st = os.lstat(os.path.join(self.previous or "", self.where(rel)))
        except OSError:
            return False
        return stat.S_ISREG(st.st_mode) and st.st_size == size

    def _old_present(self, rel: str, size: Any) -> bool:
        """The previous generation has ``rel``: a page of a bucket is looked up in the
        bucket's listing (read once), any other file as :meth:`_old_size_matches`."""
        bucket = bucket_of(rel)
        if bucket is None:
            return self._old_size_matches(rel, size)
        return rel.rpartition("/")[2] in self._previous_names(bucket)

    def _previous_names(self, bucket: str) -> set[str]:
        """The names in the previous generation's folder of ``bucket`` (listed once)."""
        if bucket not in self._listed:
            try:
                names = set(os.listdir(os.path.join(self.previous or "", PAGES, bucket)))
            except OSError:
                names = set()
            self._listed[bucket] = names
        return self._listed[bucket]

    def keep(self, rel: str, key: str) -> bool:
        """Reuse ``rel`` from the previous build if it was made of the same inputs (and
        still has the size it was written with: a file edited by hand is rendered again)."""
        old = self._old.get(rel)
        if self.previous is None or not old or old[0] != key:
            return False
        if not self._old_size_matches(rel, old[1]):
            return False
        self.files[rel] = [key, old[1]]
        self.reused += 1
        if self._journal is not None:
            self._journal.append((rel, key, old[1], False))
        return True

    def keep_group(self, group: str, key: str, rels: Callable[[], Sequence[str]]) -> bool:
        """Reuse all the files of ``group`` at once if ``key``, a digest of everything they
        are made of, is the one the previous build recorded for it: their own keys need
        not be computed, nor their entries read (grouped.py). Its pages must still be
        there: each bucket folder they are in as that build noted it, else (a folder
        changed since) each page by one listing of its folder. False (nothing reused) if
        one is not, or the key differs; ``rels()``, the group's files, is then called and
        they are recorded one by one by :meth:`keep` or :meth:`write`, as a group."""
        if self._journal is not None:
            raise RuntimeError("keep_group is not journaled: call it in the publishing process")
        self.groups[group] = key
        old = self._old_grouped.get(group)
        if self.previous is not None and old is not None and self._old_groups.get(group) == key:
            if all(self._folder_unchanged(b) for b in old["in"]) or self._pages_present(old):
                self._kept[group] = old
                self.reused += old["files"]
                return True
        self._group_files[group] = list(rels())
        self._read_group(group)
        return False

    def _folder_unchanged(self, bucket: str) -> bool:
        """The previous generation's folder of ``bucket`` is as that build noted it."""
        if bucket not in self._unchanged:
            if self._folders is None:
                self._folders = grouped.noted_folders(self.previous)
            noted = self._folders.get(bucket)
            here = grouped.identity(os.path.join(self.previous or "", PAGES, bucket))
            self._unchanged[bucket] = noted is not None and noted == here
        return self._unchanged[bucket]

    def _pages_present(self, group: Group) -> bool:
        """Every page of ``group`` is in the previous generation (one listing a folder)."""
        found = grouped.entries(group)
        return bool(found) and all(self._old_present(rel, entry[1]) for rel, entry in found.items())

    def _read_group(self, group: str) -> None:
        """Add the previous build's files of ``group`` to those :meth:`keep` can reuse."""
        if group in self._read_groups:
            return
        self._read_groups.add(group)
        old = self._old_grouped.get(group)
        if old is not None:
            self._old.update(grouped.entries(old))

    def _read_gone_groups(self) -> None:
        """Read the previous build's groups this build has not seen (a document gone):
        their files are gone too."""
        for group in self._old_grouped.keys() - self._kept.keys():
            self._read_group(group)

    def _bucket_folder(self, bucket: str) -> Path:
        """This build's own folder for ``bucket`` (made on first use)."""
        folder = self.store / f"{self.token}.{bucket}"
        if bucket not in self._fresh:
            folder.mkdir(parents=True, exist_ok=True)
            self._fresh.add(bucket)
        return folder

    def write(self, rel: str, data: str | bytes, key: str) -> None:
        """Write ``rel`` (a path below the root, with ``/``) made of the inputs ``key``."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        bucket = bucket_of(rel)
        if bucket is not None:
            folder = self._bucket_paths.get(bucket)
            if folder is None:  # a Path made once a bucket, not once a page (30,000)
                folder = self._bucket_paths[bucket] = str(self._bucket_folder(bucket))
            path = f"{folder}/{rel.rpartition('/')[2]}"
        else:
            self.where(rel)  # refuses a path below changes/ or versions/ that is not a page
            self._mkdir(rel)
            path = os.path.join(self.root, rel)
        write_new(path, raw)  # a new file of this build: never one a reader has open
        self.files[rel] = [key, len(raw)]
        self._written.add(rel)
        self.written += 1
        if self._log is not None:
            self._log.append(rel)
        if self._journal is not None:
            self._journal.append((rel, key, len(raw), True))

    def start_log(self) -> list[str]:
        """From now on, note the files written in the list returned (a worker of
        feeds/parallel.py reports them to the parent, which :meth:`adopt` s them)."""
        self._log = []
        return self._log

    def stop_log(self) -> None:
        self._log = None

    def start_journal(self) -> list[Noted]:
        """From now on, note every file kept or written, with its key and size, in the list
        returned: a process forked by ``feeds/parallel.py: aside`` reports them to the
        publishing process, which :meth:`replay` s them."""
        self._journal = []
        return self._journal

    def replay(self, journal: Iterable[Noted]) -> None:
        """Record the files another process kept or wrote into this build
        (:meth:`start_journal`), as if this process had."""
        for rel, key, size, wrote in journal:
            if self._linked and bucket_of(rel) is not None:
                raise RuntimeError(f"{rel}: a page of a bucket recorded after link_kept")
            if wrote:
                self.adopt(rel, key, size)
            else:
                self.files[rel] = [key, size]
                self.reused += 1
                if self._linked:
                    self._late.append(rel)

    def adopt(self, rel: str, key: str, size: int, named: bool = False) -> None:
        """Record ``rel`` as written by this build: a worker process wrote it (into this
        build's own folders, as :meth:`write` does); ``named``: and gave the page its name
        (:meth:`name_pages`), which :meth:`link_kept` then does not look for again."""
        self.files[rel] = [key, size]
        self._written.add(rel)
        self.written += 1
        bucket = bucket_of(rel)
        if bucket is not None:
            self._fresh.add(bucket)
            if named:
                self._named_pages.add(rel)

    def _mkdir(self, rel: str) -> None:
        parent = rel.rpartition("/")[0]
        if parent not in self._dirs:
            (self.root / parent).mkdir(parents=True, exist_ok=True)
            self._dirs.add(parent)

    @property
    def incremental(self) -> bool:
        """A previous build made by this code is there: its files can be reused."""
        return self.previous is not None and bool(self._old or self._old_grouped)

    @property
    def same_as_previous(self) -> bool:
        """Nothing written and every previous file reused: the build would equal it."""
        if self.previous is None or self.written:
            return False
        self._read_gone_groups()
        return self.files == self._old

    def link_kept(self) -> None:
        """Put every reused file in place: a hard link for files of the generation (a copy
        where the file system refuses links); for buckets, the previous generation's folder
        when nothing in the bucket changed, else this build's own folder with the bucket's
        reused pages hard-linked into it. Then the names of new pages.

        May be called before a forked process's files are replayed (feeds/publish.py links
        while it waits for that process): the next call then links only the files replayed
        since, which are never pages of a bucket (:meth:`replay` refuses those)."""
        if self._linked:
            late, self._late = self._late, []
            for rel in late:
                self._reuse(rel)
            return
        self._linked = True
        buckets, others = by_bucket(self.files)
        self._bucket_of = {rel: bucket for bucket, rels in buckets.items() for rel in rels}
        for rel in others:
            if rel not in self._written:
                self._reuse(rel)
        self._read_gone_groups()
        gone = self._old.keys() - self.files.keys()
        removed = {bucket_of(rel) for rel in gone}
        for group in self._kept.values():  # its pages' buckets (its entries unread)
            for bucket in group["in"]:
                buckets.setdefault(bucket, [])
        pages = self.root / PAGES
        if buckets:
            pages.mkdir(exist_ok=True)
        for bucket, rels in buckets.items():
            if bucket in self._fresh or bucket in removed:
                folder = self._bucket_folder(bucket)
                reused = [r for r in rels if r not in self._written]
                if self._kept:  # the pages of groups kept unread: what the folder holds
                    top = bucket.rpartition("-")[0]
                    for name in self._previous_names(bucket):
                        rel = f"{top}/{name}"
                        if rel not in self.files and rel not in gone:
                            reused.append(rel)
                self._link_bucket(bucket, reused, folder)
                os.symlink(os.path.join("..", "..", STORE, folder.name), pages / bucket)
            else:  # every page reused: share the previous generation's folder
                self._share_symlink(os.path.join(PAGES, bucket))
        tops = {bucket.rpartition("-")[0] for bucket in buckets}
        for top in sorted(tops):
            self._share_symlink(top, os.path.join("..", NAMES, top))
        self._name_pages(buckets)

    def _share_symlink(self, rel: str, target: str | None = None) -> None:
        """Make ``rel`` in this generation the symlink the previous generation has there
        (pointing at ``target``, if given): that symlink itself, hard-linked, with no new
        inode (making one cost 0.06-0.8 ms on the machines measured, and a publish of one
        change shares some 80); a new symlink where the previous one differs or links
        are refused."""
        old, new = os.path.join(self.previous or "", rel), os.path.join(self.root, rel)
        same = None
        if self.previous is not None:
            with suppress(OSError):
                same = os.readlink(old)
        if same is not None and (target is None or same == target):
            try:
                os.link(old, new, follow_symlinks=False)
                return
            except OSError:
                pass
        if target is None and same is None:
            raise FileNotFoundError(f"{old}: the previous generation has no such link")
        os.symlink(target if target is not None else same, new)

    def _reuse(self, rel: str) -> None:
        self._mkdir(rel)
        src, dst = os.path.join(self.previous or "", rel), os.path.join(self.root, rel)
        try:
            os.link(src, dst)
        except OSError:  # another file system, or no hard links
            shutil.copy2(src, dst)

    def _link_bucket(self, bucket: str, names: list[str], folder: Path) -> None:
        """Hard-link the reused pages ``names`` of ``bucket`` from the previous generation's
        folder into this build's ``folder``, with directory descriptors."""
        if not names:
            return
        src = os.open(os.path.join(self.previous or "", PAGES, bucket), os.O_RDONLY)
        dst = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for rel in names:
                name = rel.rpartition("/")[2]
                try:
                    os.link(name, name, src_dir_fd=src, dst_dir_fd=dst)
                except OSError:
                    shutil.copy2(os.path.join(self.previous or "", self.where(rel)), folder / name)
        finally:
            os.close(src)
            os.close(dst)

    def _name_pages(self, buckets: dict[str, list[str]]) -> None:
        """Give every page its name in NAMES once: ``names/changes/<id>.html`` -> the page
        through ``public`` (so through the live generation). Names are never changed nor
        removed: one whose page is gone from the live site leads nowhere (not found).

        Only pages this build wrote can be new: a page reused from the previous generation
        got its name when it was first written, before that generation went live (a
        build without a previous generation names every page). Pages a worker wrote and
        named (:meth:`adopt`) are not looked for again."""
        named = self._named_pages
        if not self.incremental:
            self.name_pages(rel for rels in buckets.values() for rel in rels if rel not in named)
        else:
            self.name_pages(rel for rel in self._written if rel not in named)

    def name_pages(self, rels: Iterable[str]) -> None:
        """Give the pages of buckets among ``rels`` their names (:meth:`_name_pages`), those
        that have none yet; a worker of feeds/parallel.py names the pages it wrote."""
        by_top: dict[str, list[tuple[str, str]]] = {}
        for rel in rels:
            bucket = bucket_of(rel)
            if bucket is not None:
                top, _, name = rel.partition("/")
                by_top.setdefault(top, []).append((name, bucket))
        for top, named_here in by_top.items():
            folder = self.names / top
            # one listing beats a failing symlink() per page when most are named already;
            # made once a process (a worker names its pages chunk by chunk), then kept up
            named = self._named.get(top)
            if named is None and len(named_here) > 64:
                folder.mkdir(parents=True, exist_ok=True)
                named = self._named[top] = set(os.listdir(folder))
            elif named is None:
                folder.mkdir(parents=True, exist_ok=True)
                named = set()
            up = f"../../../{self.site_name}/{PAGES}" if self.site_name else f"../../../{PAGES}"
            where = str(folder)  # strings, not a Path a page: 20,000 names in a full build
            for name, bucket in named_here:
                if name not in named:
                    with suppress(FileExistsError):  # named before, or by another build
                        os.symlink(f"{up}/{bucket}/{name}", f"{where}/{name}")
                    named.add(name)

    def close(self) -> None:
        """Write the manifest of this build (keys and sizes of every file): compact JSON,
        one line, by orjson (10x faster than the standard library's C encoder here: 4 ms
        against 40 ms for 30,000 entries), its keys sorted by orjson too (sorting the
        30,000 files in Python first took 4-5 times as long as encoding them)."""
        files = dict(self.files)
        groups = dict(self._kept)  # as the previous build wrote them
        for group, rels in self._group_files.items():
            found = {rel: entry for rel in rels if (entry := files.pop(rel, None)) is not None}
            known = self._bucket_of  # made by link_kept, 30x faster than bucket_of again
            where = {rel: known.get(rel) or str(bucket_of(rel)) for rel in found}
            groups[group] = grouped.group_of(found, where)
        manifest = {
            "format": _FORMAT,
            "salt": self.salt,
            "groups": self.groups,
            "grouped": groups,
            "files": files,
        }
        (self.root / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_SORT_KEYS))
        grouped.note_folders(self.root, PAGES)
        if not self.records_closed:
            self.close_records()

    def close_records(self) -> None:
        """Write this build's :data:`INDEX_ORDER`, or keep the previous build's when its
        index.json was kept (a hard link; a copy where links are refused). The same for
        :data:`ENTRIES` when no feed was rendered again (they list the same changes).
        Called by :meth:`close`, unless the process that wrote the index and the feeds
        did (``records_closed``: a process forked aside, feeds/publish.py)."""
        if self.index_order is not None:
            (self.root / INDEX_ORDER).write_bytes(orjson.dumps(self.index_order))
        elif self._old and "index.json" in self.files and "index.json" not in self._written:
            with suppress(OSError):  # none: the next build encodes every record again
                self._reuse(INDEX_ORDER)
        if self.entries is not None:
            entry_texts.write(self.root, *self.entries)
        elif self.incremental:
            with suppress(OSError):  # none: the next build renders the entries it needs
                for name in ENTRIES:
                    self._reuse(name)
