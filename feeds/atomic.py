"""Publish a folder all at once: generations of the site behind a symlink flipped by rename.

``out`` (say ``public``) is a symbolic link to one *generation*, a complete site in the
sibling folder ``.public.sites/``. A publish builds a new generation next to it
(``new-*`` while it is being written), then, holding ``.public.sites/.lock``, checks that
the site in place was not built from newer data (:class:`Stamp`) and points ``public`` at
the new generation by renaming a fresh symlink over it: one ``rename(2)``, so ``public``
is never missing and readers see the old site or the new one, never a mix.

Builders create and lock (shared ``flock``) the folder they write, and lock the
generation they read from, while holding ``.lock``. After every publish a sweep chooses,
under the same lock, every other folder below ``.public.sites/`` (generations older than
the one the live site replaced, ``new-*`` folders of killed runs) and takes an exclusive
lock on each before deleting it, so a live builder's folders are never touched.

The pages of changes and versions (tens of thousands) are not in the generation itself:
they live in *bucket* folders of ``.public.sites/store/`` that generations share (a
generation holds one symlink per bucket in ``.policywatch-pages/``; a publish writes a new
bucket only where a page in it changed), and ``changes/<id>.html`` reaches them through
``.public.sites/names/`` (one symlink per page, made once, pointing through ``public``).
The sweep also removes bucket folders no remaining generation or live builder uses.
See docs/decisions/0004-incremental-publish.md and feeds/incremental.py.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARKER = ".policywatch-site"  # only folders holding it (or empty ones) are ever replaced
STAMP = ".policywatch-stamp.json"  # what data a generation was built from
LOCK = ".lock"
PREVIOUS = ".policywatch-previous"  # the generation this one replaced: kept until the next
PAGES = ".policywatch-pages"  # in a generation: a symlink per bucket of pages, into STORE
STORE = "store"  # below the generations folder: bucket folders, shared by generations
NAMES = "names"  # below it too: names/changes/<id>.html -> ../../../public/PAGES/<bucket>/...
SHARED = (LOCK, STORE, NAMES)  # not generations: never swept as one


def sites_dir(out_dir: Path) -> Path:
    """The folder of generations next to ``out_dir``."""
    return out_dir.with_name(f".{out_dir.name}.sites")


@dataclass(frozen=True)
class Stamp:
    """What a site was built from: which database, the highest row ids it had read (they
    only grow), and when reading began. A site is never replaced by one built from a
    strictly older reading of the same database."""

    source: str = ""
    marks: tuple[int, ...] = ()
    read_at: int = field(default_factory=time.time_ns)

    def older_than(self, other: Stamp | None) -> bool:
        if other is None or other.source != self.source or len(other.marks) != len(self.marks):
            return False  # another database (or no stamp): the newest publish wins
        if any(mine < theirs for mine, theirs in zip(self.marks, other.marks, strict=True)):
            return True
        return self.marks == other.marks and self.read_at < other.read_at

    def dumps(self) -> str:
        return json.dumps({"source": self.source, "marks": self.marks, "read_at": self.read_at})

    @classmethod
    def read(cls, folder: Path) -> Stamp | None:
        try:
            data = json.loads((folder / STAMP).read_text(encoding="utf-8"))
            return cls(str(data["source"]), tuple(int(m) for m in data["marks"]), data["read_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


@dataclass
class Build:
    """A generation being written. Fill ``path``; files may be hard-linked from
    ``previous`` (the live generation, held so no sweep removes it meanwhile). Set
    ``unchanged`` when the new site would equal the live one: nothing is flipped."""

    path: Path
    previous: Path | None
    token: str = ""  # the ``new-*`` folder's name: bucket folders in STORE start with it
    unchanged: bool = False
    outcome: str = ""  # published | unchanged | superseded (a newer site is in place)


def _check_replaceable(out_dir: Path, sites: Path) -> None:
    parent = out_dir.parent.name
    if parent.startswith(".") and parent.endswith(".sites") and (out_dir / MARKER).is_file():
        link = out_dir.parent.with_name(parent[1 : -len(".sites")])
        raise FileExistsError(f"{out_dir} is one generation of a site: publish to {link}")
    if out_dir.is_symlink():
        target = Path(os.path.realpath(out_dir))
        if target.parent != Path(os.path.realpath(sites)):
            raise FileExistsError(f"{out_dir} is a symlink that policywatch did not make")
        return
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise FileExistsError(f"{out_dir} exists and is not a folder")
    if any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise FileExistsError(f"{out_dir} is not empty and was not written by policywatch")


def _hold(folder: Path, exclusive: bool = False) -> int | None:
    """An open descriptor of ``folder`` with a flock on it; None if it is gone or (when
    ``exclusive``) somebody else holds it."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX | fcntl.LOCK_NB) if exclusive else fcntl.LOCK_SH)
    except OSError:
        os.close(fd)
        return None
    return fd


def live(out_dir: Path) -> Path | None:
    """The generation ``out_dir`` shows now (``out_dir`` itself if it is a plain folder)."""
    if out_dir.is_symlink():
        target = Path(os.path.realpath(out_dir))
        return target if target.is_dir() else None
    return out_dir if (out_dir / MARKER).is_file() else None


def sweep(out_dir: Path) -> int:
    """Remove what no publish uses any more: generations other than the live one and
    ``new-*`` folders of dead runs (nobody holds their lock), and the temporary siblings an
    older policywatch left (``.public.new-*``, ``.public.old-*``). Returns folders removed.

    Candidates are chosen and locked while holding ``.lock``, the lock a builder holds
    while it creates and locks its own folder, so a folder made a moment ago is never
    taken for a dead run's; the deleting happens after ``.lock`` is released."""
    sites = sites_dir(out_dir)
    doomed: list[tuple[Path, int]] = []
    try:
        with _flip_lock(sites):
            current = live(out_dir)
            kept = {current, _replaced_by(current)}  # readers may still be in the replaced one
            candidates = [p for p in sites.iterdir() if p.name not in SHARED and p not in kept]
            for pattern in (f".{out_dir.name}.new-*", f".{out_dir.name}.old-*"):
                candidates += list(out_dir.parent.glob(pattern))
            for path in candidates:
                if path.is_symlink() or not path.is_dir():
                    with suppress(OSError):
                        path.unlink()
                    continue
                fd = _hold(path, exclusive=True)
                if fd is not None:  # None: a live builder's folder (or gone already)
                    doomed.append((path, fd))
    except OSError:
        pass  # no generations folder (yet): nothing to sweep
    for path, fd in doomed:
        try:
            shutil.rmtree(path, ignore_errors=True)
        finally:
            os.close(fd)
    _sweep_store(sites)
    return len(doomed)


def _sweep_store(sites: Path) -> None:
    """Remove the bucket folders of STORE that no folder of ``sites`` links to and whose
    builder (the ``new-*`` folder their name starts with) is gone: chosen under ``.lock``,
    so a builder's fresh bucket (its ``new-*`` folder exists) is never taken."""
    store = sites / STORE
    try:
        with _flip_lock(sites):
            folders = [p for p in sites.iterdir() if p.name not in SHARED and p.is_dir()]
            used: set[str] = set()
            for folder in folders:
                with suppress(OSError), os.scandir(folder / PAGES) as entries:
                    for entry in entries:
                        with suppress(OSError):
                            used.add(os.path.basename(os.readlink(entry.path)))
            builders = {p.name for p in folders}
            unused = [
                p
                for p in store.iterdir()
                if p.name not in used and p.name.partition(".")[0] not in builders
            ]
    except OSError:
        return  # no store (yet)
    for path in unused:
        shutil.rmtree(path, ignore_errors=True)


def _replaced_by(generation: Path | None) -> Path | None:
    """The generation ``generation`` replaced, as its PREVIOUS file names it (if any)."""
    if generation is None:
        return None
    try:
        name = (generation / PREVIOUS).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return generation.parent / name if name and "/" not in name else None


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if result != 0:
        code = ctypes.get_errno()
        if code in (errno.ENOSYS, errno.EINVAL, errno.EPERM):
            return False
        raise OSError(code, os.strerror(code), str(a))
    return True


def flip(target: Path, out_dir: Path) -> None:
    """Point ``out_dir`` at ``target`` with one rename. A plain folder from an older
    policywatch is exchanged for the link atomically where the kernel can, and moved into
    the generations folder (the next sweep removes it)."""
    link = out_dir.with_name(f".{out_dir.name}.link-{uuid.uuid4().hex}")
    os.symlink(os.path.relpath(target, out_dir.parent), link)
    try:
        if out_dir.is_dir() and not out_dir.is_symlink():
            retired = sites_dir(out_dir) / f"old-{uuid.uuid4().hex}"
            if _exchange(link, out_dir):
                os.rename(link, retired)  # ``link`` now names the old folder
                return
            os.rename(out_dir, retired)  # no exchange here: a moment without out_dir, once
        os.replace(link, out_dir)
    except BaseException:
        with suppress(OSError):
            if link.is_symlink():
                link.unlink()
        raise


@contextmanager
def _flip_lock(sites: Path) -> Iterator[None]:
    fd = os.open(sites / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_stamp(folder: Path, stamp: Stamp) -> None:
    tmp = folder / f"{STAMP}.{uuid.uuid4().hex}"
    tmp.write_text(stamp.dumps(), encoding="utf-8")
    os.replace(tmp, folder / STAMP)


_sweeps: list[threading.Thread] = []


def _start_sweep(out_dir: Path) -> None:
    """Sweep in a thread: deleting a replaced generation (one name per file) should not hold
    up the next one."""
    in_background(lambda: sweep(out_dir), "policywatch-sweep")


def in_background(work: Callable[[], object], name: str) -> None:
    """Run ``work`` in a thread, after a publish (a sweep; releasing what the publish read).
    Not a daemon: the process finishes it before it exits; :func:`wait_for_sweeps` waits
    for it."""
    thread = threading.Thread(target=work, name=name)
    thread.start()
    _sweeps[:] = [t for t in _sweeps if t.is_alive()] + [thread]


def wait_for_sweeps(timeout: float | None = None) -> None:
    """Wait until the sweeps (and other work :func:`in_background`) started by this process
    are done."""
    for thread in list(_sweeps):
        thread.join(timeout)


@contextmanager
def generation(out_dir: Path, stamp: Stamp | None = None) -> Iterator[Build]:
    """Yield a :class:`Build` for a new generation of ``out_dir``; when the block succeeds,
    flip ``out_dir`` to it unless the site in place was built from newer data (then the
    new one is dropped: ``outcome == "superseded"``) or the block set ``unchanged``.

    On any error the new folder is deleted and ``out_dir`` is left as it was. Afterwards,
    generations other than the live one and the one it replaced are swept in a background
    thread (see :func:`wait_for_sweeps`).
    """
    out_dir = Path(os.path.abspath(out_dir))
    sites = sites_dir(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _check_replaceable(out_dir, sites)
    sites.mkdir(exist_ok=True)
    stamp = stamp or Stamp()
    held: list[int] = []
    with _flip_lock(sites):  # a sweep chooses its folders under this lock: not ours
        tmp = Path(tempfile.mkdtemp(prefix="new-", dir=sites))
        token = tmp.name
        previous = live(out_dir)
        for folder in (tmp, previous):
            fd = _hold(folder) if folder is not None else None
            if fd is not None:
                held.append(fd)  # held now: no sweep removes it while we build
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; a web server must read the site
        build = Build(tmp, previous, token=token)
        yield build
        with _flip_lock(sites):
            current = live(out_dir)
            in_place = Stamp.read(current) if current is not None else None
            if stamp.older_than(in_place):
                build.outcome = "superseded"
            elif build.unchanged and current is not None and current == previous:
                build.outcome = "unchanged"
                if current.parent == sites:
                    _write_stamp(current, stamp)  # the site in place is as new as this data
            else:
                (tmp / MARKER).write_text("Written by policywatch; replaced on each publish.\n")
                _write_stamp(tmp, stamp)
                if current is not None and current.parent == sites:
                    (tmp / PREVIOUS).write_text(current.name + "\n", encoding="utf-8")
                final = sites / f"gen-{time.time_ns()}-{uuid.uuid4().hex[:8]}"
                os.rename(tmp, final)
                tmp = final
                flip(final, out_dir)
                build.path = final
                build.outcome = "published"
        if build.outcome != "published":
            _drop(tmp, sites, token)
    except BaseException:
        _drop(tmp, sites, token)
        raise
    finally:
        for fd in held:
            os.close(fd)
        _start_sweep(out_dir)  # after the flip: the live one and the one it replaced stay


def _drop(folder: Path, sites: Path, token: str) -> None:
    """Delete a build never flipped in: its folder and the bucket folders it wrote."""
    shutil.rmtree(folder, ignore_errors=True)
    for bucket in (sites / STORE).glob(f"{token}.*"):
        shutil.rmtree(bucket, ignore_errors=True)


def describe(out_dir: Path) -> dict[str, Any]:
    """Where ``out_dir`` points and which generations exist (for status and tests)."""
    current = live(Path(os.path.abspath(out_dir)))
    sites = sites_dir(Path(os.path.abspath(out_dir)))
    names = []
    if sites.is_dir():
        names = sorted(p.name for p in sites.iterdir() if p.name not in SHARED)
    return {"live": current.name if current else None, "generations": names}


def site_files(out_dir: Path) -> dict[str, Path]:
    """Every file of the generation ``out_dir`` shows (or of ``out_dir`` itself, a generation
    folder), by its path in the site (``changes/12.html``), with where it is in that
    generation: pages of changes and versions are read through its ``.policywatch-pages``
    buckets, so an older generation lists its own pages. For copying or mirroring a site
    (a plain ``rglob`` does not follow the symlinked folders)."""
    root = Path(os.path.realpath(out_dir))
    found: dict[str, Path] = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != PAGES]  # symlinked folders are not walked
        for name in names:
            path = Path(folder, name)
            found[path.relative_to(root).as_posix()] = path
    with suppress(OSError), os.scandir(root / PAGES) as buckets:
        for bucket in buckets:
            top = bucket.name.rpartition("-")[0]
            with os.scandir(bucket.path) as pages:
                for page in pages:
                    found[f"{top}/{page.name}"] = Path(page.path)
    return dict(sorted(found.items()))
