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
    path = DATA / f"{name}.tar.xz"
    with tarfile.open(path, "r:xz") as tar:
        members = {m.name.removeprefix("./"): m for m in tar.getmembers() if m.isfile()}

        def read(member_name: str) -> str:
            handle = tar.extractfile(members[member_name])
            assert handle is not None
            return handle.read().decode("utf-8")

        rows = list(csv.DictReader(io.StringIO(read("index.tsv")), delimiter="\t"))
        versions = [
            RecordedVersion(
                recorded_at=datetime.fromisoformat(row["recorded_at"]),
                commit=row["commit"],
                kind=row["kind"],
                file=row["file"],
                text=read(f"versions/{row['file']}"),
            )
            for row in rows
        ]
    # The index follows the archive's commit order, which jumps back in time where
    # histories were merged: sort (stably) by recording time.
    return tuple(sorted(versions, key=lambda v: v.recorded_at))


@cache
def load_html(name: str) -> str:
    """A raw HTML snapshot from demo/data/html/<name>.html.xz."""
    return lzma.decompress((DATA / "html" / f"{name}.html.xz").read_bytes()).decode("utf-8")
