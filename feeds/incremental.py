"""Incremental publishing: reuse the files of the previous build whose inputs did not change.

Each output file is written with a *key*: a digest of everything it is made of (the rows it
shows and the code that renders it). The keys go to a manifest in the output folder. The
next build, writing a fresh folder, hard-links a file from the previous folder when its key
is unchanged, and renders it only otherwise; the fresh folder then replaces the old one in
one swap (feeds/atomic.py). See docs/decisions/0004-incremental-publish.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import stat
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

MANIFEST = ".policywatch-manifest.json"
_FORMAT = 1


_NAMES: dict[type, tuple[str, ...]] = {}


def _fields(obj: Any) -> dict[str, Any]:
    names = _NAMES.get(type(obj))
    if names is None:
        names = _NAMES[type(obj)] = tuple(f.name for f in dataclasses.fields(obj))
    return {name: getattr(obj, name) for name in names}


def _is_dataclass(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _plain(value: Any) -> Any:
    """Nested values: a view's own (cached) fingerprint, a dataclass's fields, else text."""
    if isinstance(value, datetime):
        return value.isoformat()
    fingerprint = getattr(value, "fingerprint", None)
    if isinstance(fingerprint, str):
        return fingerprint
    if _is_dataclass(value):
        return _fields(value)
    return str(value)


_ENCODE = json.JSONEncoder(
    sort_keys=True, default=_plain, ensure_ascii=False, separators=(",", ":")
).encode


def digest(*parts: Any) -> str:
    """A stable sha256 of JSON-able values and dataclasses (datetimes as ISO text).

    A dataclass given directly is digested by its fields; nested ones that have a
    ``fingerprint`` (the views) by that, so each view is serialised once per publish.
    """
    data = _ENCODE([_fields(p) if _is_dataclass(p) else p for p in parts])
    return hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()


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
    manifest; ``link_kept()`` then hard-links every reused file in (all at once, by folder,
    so that a build with nothing new can be dropped without linking anything).
    """

    def __init__(self, root: Path, previous: Path | None, salt: str = "") -> None:
        self.root = root
        self.previous = previous
        self.salt = salt or code_salt()
        self.files: dict[str, list[Any]] = {}
        self.written = 0
        self.reused = 0
        self._old = self._read_manifest(previous)
        self._kept: list[str] = []
        self._dirs: set[str] = set()

    def _read_manifest(self, previous: Path | None) -> dict[str, list[Any]]:
        if previous is None:
            return {}
        try:
            data = json.loads((previous / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("salt") != self.salt:
            return {}
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
            return False
        try:
            st = os.lstat(os.path.join(self.previous, rel))
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode) or st.st_size != old[1]:
            return False
        self.files[rel] = [key, old[1]]
        self._kept.append(rel)
        self.reused += 1
        return True

    def write(self, rel: str, data: str | bytes, key: str) -> None:
        """Write ``rel`` (a path below the root, with ``/``) made of the inputs ``key``."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        self._mkdir(rel)
        (self.root / rel).write_bytes(raw)
        self.files[rel] = [key, len(raw)]
        self.written += 1

    @property
    def same_as_previous(self) -> bool:
        """Nothing written and every previous file reused: the build would equal it."""
        return self.previous is not None and self.written == 0 and self.files == self._old

    def link_kept(self) -> None:
        """Hard-link every reused file from the previous build (copy where links fail)."""
        assert self.previous is not None or not self._kept
        by_dir: dict[str, list[str]] = {}
        for rel in self._kept:
            parent, _, name = rel.rpartition("/")
            by_dir.setdefault(parent, []).append(name)
        for parent, names in by_dir.items():
            self._mkdir(parent + "/x")
            src_dir = os.path.join(self.previous or "", parent)
            dst_dir = os.path.join(self.root, parent)
            src = os.open(src_dir, os.O_RDONLY | os.O_DIRECTORY)
            dst = os.open(dst_dir, os.O_RDONLY | os.O_DIRECTORY)
            try:
                for name in names:
                    try:
                        os.link(name, name, src_dir_fd=src, dst_dir_fd=dst)
                    except OSError:  # another file system, or no hard links: copy it
                        shutil.copy2(os.path.join(src_dir, name), os.path.join(dst_dir, name))
            finally:
                os.close(src)
                os.close(dst)
        self._kept = []

    def close(self) -> None:
        """Write the manifest of this build (keys and sizes of every file)."""
        manifest = {"format": _FORMAT, "salt": self.salt, "files": dict(sorted(self.files.items()))}
        (self.root / MANIFEST).write_text(json.dumps(manifest, indent=0), encoding="utf-8")
