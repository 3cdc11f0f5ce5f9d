"""Read the real recorded Meta history shipped in demo/data (ODC-BY 1.0, see ATTRIBUTION.md)."""

from __future__ import annotations

import csv
import io
import lzma
import tarfile
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class RecordedVersion:
    recorded_at: datetime
    commit: str
    kind: str  # first | record | technical
    file: str
    text: str


@cache
def load_history(name: str) -> tuple[RecordedVersion, ...]:
    """All versions of ``demo/data/<name>.tar.xz``, oldest first (the index is not sorted)."""
    files: dict[str, bytes] = {}
    # Read members in archive order: random access into an xz stream decompresses it again
    # from the start for every member (20 s instead of 0.2 s for 492 versions).
    with tarfile.open(DATA / f"{name}.tar.xz", "r:xz") as tar:
        for member in tar:
            if member.isfile():
                handle = tar.extractfile(member)
                assert handle is not None
                files[member.name.removeprefix("./")] = handle.read()
    index = io.StringIO(files["index.tsv"].decode("utf-8"))
    versions = [
        RecordedVersion(
            recorded_at=datetime.fromisoformat(row["recorded_at"]),
            commit=row["commit"],
            kind=row["kind"],
            file=row["file"],
            text=files[f"versions/{row['file']}"].decode("utf-8"),
        )
        for row in csv.DictReader(index, delimiter="\t")
    ]
    # The index follows the archive's commit order, which jumps back in time where
    # histories were merged: sort (stably) by recording time.
    return tuple(sorted(versions, key=lambda v: v.recorded_at))


@cache
def load_html(name: str) -> str:
    """A raw HTML snapshot from demo/data/html/<name>.html.xz."""
    return lzma.decompress((DATA / "html" / f"{name}.html.xz").read_bytes()).decode("utf-8")
