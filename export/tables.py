"""Export changes and versions as JSON Lines or CSV, for notebooks and spreadsheets.

``changes.{jsonl,csv}``: one row per change with its document, dates (detected, and the
effective date the new text states), title, categories, summary, the legal-basis claims it
carries, word counts, whether it alerted, whether it is technical, and its page on the site.
``versions.{jsonl,csv}``: one row per distinct text (its sha256, words, first and last
seen, state); with ``with_text`` the text itself too.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, tab or carriage return: crawled text is hostile) are prefixed with ``'``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from storage.blobs import get_text
from storage.dataset import all_changes, all_versions
from storage.models import Change, Document, Version
from storage.repo import documents

__all__ = ["FORMATS", "change_rows", "export_tables", "version_rows"]

FORMATS = ("jsonl", "csv")
CHANGE_FIELDS = (
    "id", "document_id", "document_title", "service", "kind", "detected_at", "effective_date",
    "title", "categories", "summary", "claims", "words_added", "words_removed", "alert",
    "technical", "from_version_id", "to_version_id", "url",
)  # fmt: skip
VERSION_FIELDS = (
    "id", "document_id", "text_hash", "words", "first_seen", "last_seen", "effective_date",
    "state", "extractor_version", "text",
)  # fmt: skip
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def claims_of(summary: dict[str, Any]) -> list[Any]:
    """The legal-basis claims a change's summary carries (purpose, basis, action...)."""
    claims = summary.get("claims", summary.get("bases", []))
    return claims if isinstance(claims, list) else []


def change_rows(session: Session, base_url: str) -> Iterator[dict[str, Any]]:
    docs = {d.id: d for d in documents(session)}
    for change in all_changes(session):
        yield _change_row(session, change, docs.get(change.document_id), base_url)


def _change_row(
    session: Session, change: Change, doc: Document | None, base_url: str
) -> dict[str, Any]:
    version = session.get(Version, change.to_version_id) if change.to_version_id else None
    summary = dict(change.summary or {})
    return {
        "id": change.id,
        "document_id": change.document_id,
        "document_title": doc.title if doc else None,
        "service": doc.service if doc else None,
        "kind": change.kind,
        "detected_at": _iso(change.detected_at),
        "effective_date": version.effective_date if version else None,
        "title": change.title,
        "categories": list(change.categories or []),
        "summary": summary,
        "claims": claims_of(summary),
        "words_added": change.words_added,
        "words_removed": change.words_removed,
        "alert": change.alert,
        "technical": change.technical,
        "from_version_id": change.from_version_id,
        "to_version_id": change.to_version_id,
        "url": f"{base_url.rstrip('/')}/changes/{change.id}.html",
    }


def version_rows(session: Session, with_text: bool) -> Iterator[dict[str, Any]]:
    for version in all_versions(session):
        row: dict[str, Any] = {
            "id": version.id,
            "document_id": version.document_id,
            "text_hash": version.text_hash,
            "words": version.words,
            "first_seen": _iso(version.first_seen),
            "last_seen": _iso(version.last_seen),
            "effective_date": version.effective_date,
            "state": version.state,
            "extractor_version": version.extractor_version,
        }
        if with_text:
            row["text"] = get_text(session, version.text_blob)
        yield row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = ";".join(value)
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def _write(path: Path, fmt: str, fields: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        if fmt == "jsonl":
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
        else:
            writer = csv.writer(out)
            header = (
                [f for f in fields if f != "text"] if fields is VERSION_FIELDS else list(fields)
            )
            wrote_header = False
            for row in rows:
                if not wrote_header:
                    header = [f for f in fields if f in row]
                    writer.writerow(header)
                    wrote_header = True
                writer.writerow([_cell(row.get(f)) for f in header])
                count += 1
            if not wrote_header:
                writer.writerow(header)
    return count


def export_tables(
    session: Session, out_dir: Path, fmt: str, base_url: str, with_text: bool = False
) -> dict[str, int]:
    """Write ``changes.<fmt>`` and ``versions.<fmt>`` into ``out_dir``; their row counts."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    changes = _write(out_dir / f"changes.{fmt}", fmt, CHANGE_FIELDS, change_rows(session, base_url))
    versions = _write(
        out_dir / f"versions.{fmt}", fmt, VERSION_FIELDS, version_rows(session, with_text)
    )
    return {"changes": changes, "versions": versions}
