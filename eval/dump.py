"""Print what a replay of one history stored, change by change, to label it by reading.

Run: ``python -m eval.dump <archive stem> [--from YYYY-MM-DD] [--context N]``. For each
stored change: its recorded day, alert flag, categories, title, legal-basis items, and the
lines that differ between its two texts (clipped), so a person can write the gold file.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tempfile
from pathlib import Path

from eval.meaning import archive_path, score_document
from pipeline.archive import read_archive
from pipeline.replay import replay
from storage.blobs import get_text
from storage.db import open_db
from storage.models import Change, Version

__all__ = ["main"]


def _clip(line: str, limit: int) -> str:
    return line if len(line) <= limit else line[: limit - 1] + "…"


def changed_lines(old: str, new: str, limit: int = 220, most: int = 40) -> list[str]:
    """The lines only in one text, marked - and +, in diff order, clipped."""
    out = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith(("---", "+++", "@@")) or not line[1:].strip():
            continue
        out.append(_clip(line, limit))
    if len(out) > most:
        out = out[:most] + [f"... {len(out) - most} more lines"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("document")
    parser.add_argument("--since", default="", help="only changes recorded from this day")
    parser.add_argument("--lines", type=int, default=40, help="changed lines per change")
    args = parser.parse_args()
    try:
        archive_path(args.document)
    except FileNotFoundError as err:
        print(f"error: {err}")
        sys.exit(2)
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'dump.db'}"
        from eval.meaning import spec_for

        replay(
            db,
            spec_for(args.document, "fr" if args.document.endswith("-fr") else "en"),
            read_archive(archive_path(args.document)),
        )
        with open_db(db)() as session:
            for change in session.query(Change).order_by(Change.detected_at, Change.id):
                day = change.detected_at.date().isoformat()
                if day < args.since:
                    continue
                flag = "ALERT" if change.alert else "quiet"
                tech = " technical" if change.technical else ""
                print(f"=== {day} {flag}{tech} {change.categories} :: {change.title}")
                for item in change.summary.get("bases", []):
                    print(f"    basis: {item}")
                if change.summary.get("bases_stated"):
                    print(f"    bases_stated: {change.summary['bases_stated']}")
                if change.summary.get("no_alert"):
                    print(f"    no_alert: {change.summary['no_alert']}")
                if change.from_version_id is None or change.to_version_id is None:
                    continue
                old = get_text(session, session.get(Version, change.from_version_id).text_blob)
                new = get_text(session, session.get(Version, change.to_version_id).text_blob)
                for line in changed_lines(old, new, most=args.lines):
                    print(f"    {line}")
    _ = score_document


if __name__ == "__main__":
    main()
