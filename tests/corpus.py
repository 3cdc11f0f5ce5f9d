"""Test fixtures from the real recorded Meta history in demo/data (ODC-BY 1.0, see
demo/data/ATTRIBUTION.md)."""

from __future__ import annotations

import csv
import io
import lzma
import tarfile
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "demo" / "data"


@dataclass(frozen=True)
class CorpusVersion:
    """One recorded version: when, which archive commit, first|record|technical, Markdown."""

    recorded_at: datetime
    commit: str
    kind: str
    text: str


@cache
def _load(name: str) -> tuple[CorpusVersion, ...]:
    with tarfile.open(DATA / f"{name}.tar.xz", "r:xz") as tar:
        files: dict[str, bytes] = {}
        for member in tar:
            if member.isfile():
                handle = tar.extractfile(member)
                assert handle is not None
                files[member.name.removeprefix("./")] = handle.read()
    index = csv.DictReader(io.StringIO(files["index.tsv"].decode("utf-8")), delimiter="\t")
    versions = [
        CorpusVersion(
            recorded_at=datetime.fromisoformat(row["recorded_at"]),
            commit=row["commit"],
            kind=row["kind"],
            text=files[f"versions/{row['file']}"].decode("utf-8"),
        )
        for row in index
    ]
    # The index follows the archive's commit order, which jumps back in time where
    # histories were merged; sort (stably) by recording time.
    return tuple(sorted(versions, key=lambda v: v.recorded_at))


def load_corpus(name: str) -> list[CorpusVersion]:
    """All versions of ``demo/data/<name>.tar.xz``, oldest first (parsed once, cached)."""
    return list(_load(name))


@cache
def load_html(name: str) -> str:
    """A raw HTML snapshot, ``demo/data/html/<name>.html.xz``."""
    return lzma.decompress((DATA / "html" / f"{name}.html.xz").read_bytes()).decode("utf-8")


def recorded_on(versions: list[CorpusVersion], day: str) -> int:
    """Index of the first version recorded on ``day`` (YYYY-MM-DD)."""
    for i, version in enumerate(versions):
        if version.recorded_at.date().isoformat() == day:
            return i
    raise LookupError(f"no version recorded on {day}")
