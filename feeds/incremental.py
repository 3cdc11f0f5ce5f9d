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
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

MANIFEST = ".policywatch-manifest.json"
_FORMAT = 1


def _fields(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def _is_dataclass(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _plain(value: Any) -> Any:
    """Nested values: a view's own (cached) fingerprint, a dataclass's fields, else text."""
    fingerprint = getattr(value, "fingerprint", None)
    if isinstance(fingerprint, str):
        return fingerprint
    if _is_dataclass(value):
        return _fields(value)
    return str(value)  # datetimes and the like


def digest(*parts: Any) -> str:
    """A stable sha256 of JSON-able values and dataclasses (datetimes as text).

    A dataclass given directly is digested by its fields; nested ones that have a
    ``fingerprint`` (the views) by that, so each view is serialised once per publish.
    """
    data = json.dumps(
        [_fields(p) if _is_dataclass(p) else p for p in parts],
        sort_keys=True,
        default=_plain,
        ensure_ascii=False,
        separators=(",", ":"),
    )
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

    ``keep(rel, key)`` links the previous file in when its key matches (and says so);
    ``write(rel, data, key)`` writes a new one. ``close()`` writes the manifest.
    """

    def __init__(self, root: Path, previous: Path | None, salt: str = "") -> None:
        self.root = root
        self.previous = previous
        self.salt = salt or code_salt()
        self.files: dict[str, list[Any]] = {}
        self.written = 0
        self.reused = 0
        self._old = self._read_manifest(previous)
        self._dirs: set[Path] = set()

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

    def _mkdir(self, path: Path) -> None:
        parent = path.parent
        if parent not in self._dirs:
            parent.mkdir(parents=True, exist_ok=True)
            self._dirs.add(parent)

    def keep(self, rel: str, key: str) -> bool:
        """Reuse ``rel`` from the previous build if it was made of the same inputs."""
        old = self._old.get(rel)
        if self.previous is None or not old or old[0] != key:
            return False
        src, dst = self.previous / rel, self.root / rel
        try:
            if src.is_symlink() or src.stat().st_size != old[1]:
                return False
            self._mkdir(dst)
            try:
                os.link(src, dst)
            except OSError:  # another file system, or no hard links: copy it
                shutil.copy2(src, dst)
        except OSError:
            return False
        self.files[rel] = [key, old[1]]
        self.reused += 1
        return True

    def write(self, rel: str, data: str | bytes, key: str) -> None:
        """Write ``rel`` (a path below the root, with ``/``) made of the inputs ``key``."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        path = self.root / rel
        self._mkdir(path)
        path.write_bytes(raw)
        self.files[rel] = [key, len(raw)]
        self.written += 1

    def close(self) -> None:
        """Write the manifest of this build (keys and sizes of every file)."""
        manifest = {"format": _FORMAT, "salt": self.salt, "files": dict(sorted(self.files.items()))}
        (self.root / MANIFEST).write_text(json.dumps(manifest, indent=0), encoding="utf-8")
