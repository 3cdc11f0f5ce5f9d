"""Publishing to object storage (``--out s3://bucket/site``): the site is built in a local
folder as usual (feeds.publish, incremental), then mirrored to the bucket: changed files are
uploaded, files no longer built are deleted, and a manifest of what is there (path ->
sha256) saves re-uploading unchanged files. Objects are uploaded before the manifest and
the index pages last, so a reader never gets an index linking to a page not yet there.

One publisher at a time: the deployment runs one flow at a time, and every publish holds
the database's publish lock (storage.dblock) while it builds and mirrors.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from feeds.atomic import site_files

MANIFEST = ".policywatch-mirror.json"  # what the bucket holds: path -> sha256
#: Uploaded last: the pages that link to everything else.
LAST = ("index.html", "index.json", "feed.atom", "feed.rss")


def is_remote(out: str) -> bool:
    """``out`` names object storage (``s3://...``), not a local folder."""
    return "://" in out and not out.startswith("file://")


def _filesystem(url: str) -> tuple[Any, str]:
    import fsspec

    options: dict[str, object] = {}
    endpoint = os.environ.get("POLICYWATCH_S3_ENDPOINT")
    if url.startswith("s3://") and endpoint:
        options["client_kwargs"] = {"endpoint_url": endpoint}
    fs, root = fsspec.core.url_to_fs(url, **options)
    return fs, root.rstrip("/")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mirror(local: Path, url: str) -> dict[str, int]:
    """Make ``url`` hold what ``local`` holds; return how many files were uploaded, kept and
    deleted."""
    fs, root = _filesystem(url)
    try:
        before: dict[str, str] = json.loads(fs.cat_file(f"{root}/{MANIFEST}"))
    except FileNotFoundError:
        before = {}
    now = {name: _digest(path) for name, path in site_files(local).items()}
    changed = [name for name, digest in now.items() if before.get(name) != digest]
    changed.sort(key=lambda name: (name in LAST, name))
    for name in changed:
        fs.pipe_file(f"{root}/{name}", (local / name).read_bytes())  # through the symlinks
    fs.pipe_file(f"{root}/{MANIFEST}", json.dumps(now, sort_keys=True).encode())
    gone = sorted(set(before) - set(now))
    for name in gone:
        try:
            fs.rm_file(f"{root}/{name}")
        except FileNotFoundError:
            pass
    return {"uploaded": len(changed), "kept": len(now) - len(changed), "deleted": len(gone)}


def staging_folder(url: str) -> Path:
    """Where the site for ``url`` is built before mirroring: kept between publishes, so that
    the build stays incremental (POLICYWATCH_STAGING, else below the user's cache)."""
    base = os.environ.get("POLICYWATCH_STAGING") or str(Path.home() / ".cache" / "policywatch")
    return Path(base) / hashlib.sha256(url.encode()).hexdigest()[:16] / "public"
