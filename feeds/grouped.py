"""The manifest's groups of files, kept as text a build reuses without reading it.

A document's change and version pages (1,500 files at 10,000 changes) are reused as a
group when nothing they show changed (``feeds/incremental.py: Output.keep_group``). The
manifest held each of the site's 30,000 files apart, so every publish read them all,
copied the entries of every reused group and wrote them all again: about 100 ms of a
publish of one new change. Now each group's entries are held per bucket folder, as the
JSON text of ``{path: [key, size]}``: a group reused wholesale passes its texts on
unread; only a group rendered again, or a bucket folder written again, is read.

A group is reused only if its pages are still there. Rather than listing every bucket
folder at every publish, each build notes the identity of its bucket folders (inode
and modification time, :data:`FOLDERS`: a file removed from a folder changes its time);
a folder that is not as noted is listed and checked page by page, as before.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

import orjson

#: The identity of each bucket folder of a generation when it was complete: bucket ->
#: [inode, modification time in ns], beside the manifest (not in it: it differs between
#: two builds of the same site).
FOLDERS = ".policywatch-folders.json"

#: A group of the manifest: how many files, and the JSON text of their entries by bucket.
Group = dict[str, Any]


def group_of(entries: Mapping[str, list[Any]], buckets: Mapping[str, str]) -> Group:
    """The group of ``entries`` (path -> [key, size]); ``buckets``: each path's bucket."""
    by_bucket: dict[str, dict[str, list[Any]]] = {}
    for rel, entry in entries.items():
        by_bucket.setdefault(buckets[rel], {})[rel] = entry
    texts = {
        bucket: orjson.dumps(found, option=orjson.OPT_SORT_KEYS).decode()
        for bucket, found in sorted(by_bucket.items())
    }
    return {"files": len(entries), "in": texts}


def is_group(value: Any) -> bool:
    """``value`` is a group as :func:`group_of` makes them."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("files"), int)
        and isinstance(value.get("in"), dict)
        and all(isinstance(t, str) for t in value["in"].values())
    )


def entries(group: Group) -> dict[str, list[Any]]:
    """The entries of ``group``; {} for a text that cannot be read (then nothing of it
    is reused)."""
    found: dict[str, list[Any]] = {}
    for text in group["in"].values():
        try:
            data = orjson.loads(text)
        except ValueError:
            return {}
        if not isinstance(data, dict):
            return {}
        found.update(data)
    return found


def identity(folder: str) -> list[int] | None:
    """What tells a folder's content changed: its inode and modification time."""
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return [st.st_ino, st.st_mtime_ns]


def note_folders(generation: Path, pages: str) -> None:
    """Write :data:`FOLDERS` for the bucket folders of ``generation`` (``pages``: the
    folder of their links)."""
    folder = generation / pages
    noted = {}
    with suppress(OSError):
        for bucket in os.listdir(folder):
            found = identity(os.path.join(folder, bucket))
            if found is not None:
                noted[bucket] = found
    (generation / FOLDERS).write_bytes(orjson.dumps(noted, option=orjson.OPT_SORT_KEYS))


def noted_folders(generation: Path | None) -> dict[str, list[int]]:
    """The :data:`FOLDERS` of ``generation``; {} if there is none or it cannot be read."""
    if generation is None:
        return {}
    try:
        data = orjson.loads((generation / FOLDERS).read_bytes())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
