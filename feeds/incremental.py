"""Incremental publishing: reuse the files of the previous build whose inputs did not change.

Each output file is written with a *key*: a digest of everything it is made of (the rows it
shows and the code that renders it). The keys go to a manifest in the output folder. The
next build, writing a fresh folder, hard-links a file from the previous folder when its key
is unchanged, and renders it only otherwise; the fresh folder then replaces the old one in
one swap (feeds/atomic.py). See docs/decisions/0004-incremental-publish.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import threading
from collections.abc import Sequence
from contextlib import suppress
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

MANIFEST = ".policywatch-manifest.json"
_FORMAT = 1


def digest(*parts: Any) -> str:
    """A stable sha256 of values: strings, numbers, datetimes, lists, dicts, dataclasses.

    Made of ``repr``, which is exact for these types and done in C (JSON with a hook for
    datetimes and dataclasses cost 3-4x more, at 40,000 keys a publish). Dataclasses are
    digested by their fields, in their ``repr``; the views pass their own cached
    ``fingerprint`` for nested views (feeds/views.py), so each is serialised once. Values
    must have a stable ``repr``: no sets, no objects that show their address.
    """
    return hashlib.sha256(repr(parts).encode("utf-8", "surrogatepass")).hexdigest()


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
    """The folder being built, and what can be reused from the ``previous`` one.

    ``keep(rel, key)`` says whether the previous file can be reused (its key and size
    match) and notes it; ``write(rel, data, key)`` writes a new one. ``close()`` writes the
    manifest; ``link_kept()`` makes sure every reused file is linked in and nothing else.

    Linking is the one cost of a publish that grows with the whole site (one hard link per
    file, mostly kernel time), so it overlaps the rendering: at the first file that cannot
    be reused, a thread starts hard-linking every file of the previous build into the new
    folder, by folder, while this thread goes on computing keys and rendering (``os.link``
    releases the GIL). A file written meanwhile replaces its link by a rename, never by
    writing through it (the link is the previous generation's file). A build in which every
    file is reused never starts the thread, so it can be dropped without linking anything.
    Use it as a context manager: leaving it stops and waits for the thread.
    """

    def __init__(self, root: Path, previous: Path | None, salt: str = "") -> None:
        self.root = root
        self.previous = previous
        self.salt = salt or code_salt()
        self.files: dict[str, list[Any]] = {}
        self.written = 0
        self.reused = 0
        self.groups: dict[str, str] = {}  # keys of groups of files (keep_group)
        self._old_groups: dict[str, str] = {}
        self._old = self._read_manifest(previous)
        self._dirs: set[str] = set()
        self._linker: threading.Thread | None = None
        self._stop = threading.Event()
        self._unlinked: list[str] = []  # previous files the thread could not link
        self._written: set[str] = set()

    def __enter__(self) -> Output:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._join()

    def _read_manifest(self, previous: Path | None) -> dict[str, list[Any]]:
        if previous is None:
            return {}
        try:
            data = json.loads((previous / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("salt") != self.salt:
            return {}
        groups = data.get("groups")
        self._old_groups = groups if isinstance(groups, dict) else {}
        files = data.get("files")
        return files if isinstance(files, dict) else {}

    def key(self, *parts: Any) -> str:
        return digest(self.salt, *parts)

    def _mkdir(self, rel: str) -> None:
        parent = rel.rpartition("/")[0]
        if parent not in self._dirs:
            (self.root / parent).mkdir(parents=True, exist_ok=True)
            self._dirs.add(parent)

    def keep(self, rel: str, key: str) -> bool:
        """Reuse ``rel`` from the previous build if it was made of the same inputs (and
        still has the size it was written with: a file edited by hand is rendered again)."""
        old = self._old.get(rel)
        if self.previous is None or not old or old[0] != key:
            self._start_linking()
            return False
        try:
            st = os.lstat(os.path.join(self.previous, rel))
        except OSError:
            self._start_linking()
            return False
        if not stat.S_ISREG(st.st_mode) or st.st_size != old[1]:
            self._start_linking()
            return False
        self.files[rel] = [key, old[1]]
        self.reused += 1
        return True

    def keep_group(self, group: str, key: str, rels: Sequence[str]) -> bool:
        """Reuse all of ``rels`` at once if ``key``, a digest of everything they are made
        of, is the one the previous build recorded for ``group``: their own keys need not
        be computed. Each file is still checked as :meth:`keep` does (there, same size);
        False (nothing reused) if one is not, or the key differs."""
        self.groups[group] = key
        if self.previous is None or self._old_groups.get(group) != key:
            return False
        for rel in rels:
            old = self._old.get(rel)
            if not old:
                return False
            try:
                st = os.lstat(os.path.join(self.previous, rel))
            except OSError:
                return False
            if not stat.S_ISREG(st.st_mode) or st.st_size != old[1]:
                return False
        for rel in rels:
            self.files[rel] = list(self._old[rel])
            self.reused += 1
        return True

    def write(self, rel: str, data: str | bytes, key: str) -> None:
        """Write ``rel`` (a path below the root, with ``/``) made of the inputs ``key``."""
        self._start_linking()
        raw = data.encode("utf-8") if isinstance(data, str) else data
        self._mkdir(rel)
        path = os.path.join(self.root, rel)
        if rel in self._old:  # the thread may link the previous file here: rename over it
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as f:
                f.write(raw)
            os.replace(tmp, path)
        else:
            with open(path, "wb") as f:
                f.write(raw)
        self.files[rel] = [key, len(raw)]
        self._written.add(rel)
        self.written += 1

    @property
    def same_as_previous(self) -> bool:
        """Nothing written and every previous file reused: the build would equal it."""
        return self.previous is not None and self.written == 0 and self.files == self._old

    def _start_linking(self) -> None:
        if self._linker is not None or not self._old or self.previous is None:
            return
        by_dir: dict[str, list[str]] = {}
        for rel in self._old:
            parent, _, name = rel.rpartition("/")
            by_dir.setdefault(parent, []).append(name)
        self._linker = threading.Thread(
            target=self._link_all, args=(self.previous, by_dir), name="policywatch-link"
        )
        self._linker.start()

    def _link_all(self, previous: Path, by_dir: dict[str, list[str]]) -> None:
        """Hard-link the previous build's files in, by folder (the thread's work)."""
        for parent, names in by_dir.items():
            src_dir = os.path.join(previous, parent)
            dst_dir = os.path.join(self.root, parent)
            os.makedirs(dst_dir, exist_ok=True)
            try:
                src = os.open(src_dir, os.O_RDONLY | os.O_DIRECTORY)
            except OSError:
                self._unlinked += [f"{parent}/{n}" if parent else n for n in names]
                continue
            dst = os.open(dst_dir, os.O_RDONLY | os.O_DIRECTORY)
            try:
                for name in names:
                    if self._stop.is_set():
                        return
                    try:
                        os.link(name, name, src_dir_fd=src, dst_dir_fd=dst)
                    except FileExistsError:
                        pass  # written by this build already
                    except OSError:  # another file system, or no hard links: copied later
                        self._unlinked.append(f"{parent}/{name}" if parent else name)
            finally:
                os.close(src)
                os.close(dst)

    def _join(self) -> None:
        if self._linker is not None:
            self._linker.join()

    def link_kept(self) -> None:
        """Wait for the linking thread; copy what it could not link; remove the previous
        files this build neither reused nor wrote (gone from the site)."""
        self._start_linking()
        self._join()
        for rel in self._unlinked:
            if rel in self.files and rel not in self._written:  # reused: copy it instead
                self._mkdir(rel)
                shutil.copy2(os.path.join(self.previous or "", rel), os.path.join(self.root, rel))
        self._unlinked = []
        for rel in self._old.keys() - self.files.keys():
            with suppress(FileNotFoundError):
                os.unlink(os.path.join(self.root, rel))

    def close(self) -> None:
        """Write the manifest of this build (keys and sizes of every file): compact JSON,
        one line, encoded by the C encoder (an indented one takes the slow Python path)."""
        manifest = {
            "format": _FORMAT,
            "salt": self.salt,
            "groups": dict(sorted(self.groups.items())),
            "files": dict(sorted(self.files.items())),
        }
        data = json.dumps(manifest, ensure_ascii=False, separators=(",", ":"))
        (self.root / MANIFEST).write_text(data, encoding="utf-8")
