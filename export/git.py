"""Export the history as a git repository in Open Terms Archive's versions layout.

Each document is one file, ``<Service>/<Document type>.md``; each text it showed is one
commit touching that file, authored (and committed) at the recorded date, in time order
across documents. Commit subjects follow Open Terms Archive: ``First record of ...``,
``Record new changes of ...``, and ``Apply technical or declaration upgrade on ...`` for
technical changes (texts re-extracted, not changed by the page), which is what
``policywatch replay`` reads back as technical. The repository is written in one go with
``git fast-import`` (fast, and the same database gives the same commits).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from storage.blobs import get_text
from storage.dataset import text_history
from storage.models import Document
from storage.repo import documents

__all__ = ["ExportError", "GitExport", "document_paths", "export_git"]

TECHNICAL_SUBJECT = "Apply technical or declaration upgrade on"  # pipeline.archive reads it
AUTHOR = "policywatch <policywatch@users.noreply.github.com>"
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
_ATTRIBUTION = Path(__file__).resolve().parent.parent / "demo" / "data" / "ATTRIBUTION.md"


class ExportError(ValueError):
    """The export cannot be written; the message says why."""


@dataclass(frozen=True)
class GitExport:
    out_dir: Path
    documents: int
    commits: int


def _line(text: str) -> str:
    """Crawled text as one line of a commit message."""
    return re.sub(r"\s+", " ", re.sub(r"[\x00-\x1f\x7f]", " ", text)).strip()[:300]


def _part(text: str) -> str:
    cleaned = _UNSAFE.sub(" ", text).strip().strip(".").strip()
    return re.sub(r"\s+", " ", cleaned)[:150] or "untitled"


def document_type(doc: Document) -> str:
    """The title without the service's name in front: ``Facebook Privacy Policy`` ->
    ``Privacy Policy``; ``Facebook: Privacy and generative AI`` -> ``Privacy and ...``."""
    title = doc.title.strip()
    if title.lower().startswith(doc.service.lower()):
        rest = title[len(doc.service) :].lstrip(" :-\u2013\u2014")
        if rest:
            return rest[:1].upper() + rest[1:]
    return title


def document_paths(docs: Sequence[Document]) -> dict[str, str]:
    """``<Service>/<Document type>.md`` per document id, unique (the id breaks ties)."""
    paths: dict[str, str] = {}
    taken: set[str] = set()
    for doc in sorted(docs, key=lambda d: d.id):
        path = f"{_part(doc.service)}/{_part(document_type(doc))}.md"
        if path.lower() in taken:
            path = f"{_part(doc.service)}/{_part(document_type(doc))} ({_part(doc.id)}).md"
        taken.add(path.lower())
        paths[doc.id] = path
    return paths


def _git(*args: str, cwd: Path, stdin: bytes | None = None) -> None:
    try:
        subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, check=True)
    except FileNotFoundError as exc:
        raise ExportError("git is not installed") from exc
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace").strip()[-300:]
        raise ExportError(f"git {args[0]} failed: {detail}") from exc


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def _stamp(moment: datetime) -> bytes:
    return b"%d +0000" % int(moment.astimezone(UTC).timestamp())


def _readme(paths: dict[str, str], docs: dict[str, Document], archived: bool) -> str:
    lines = [
        "# policywatch versions",
        "",
        "Every text of the watched documents, one commit per version, dated when it was",
        "recorded (Open Terms Archive's versions layout: `<Service>/<Document type>.md`).",
        'Commits named "Apply technical or declaration upgrade on ..." re-extract a text',
        "the page did not change: they are not news. Browse with `git log -p`.",
        "",
        "Replay a document into policywatch:",
        "",
    ]
    for doc_id, path in sorted(paths.items(), key=lambda item: item[1]):
        doc = docs[doc_id]
        lines.append(
            f'    policywatch replay . --file "{path}" --doc {doc_id} '
            f'--title "{doc.title}" --url {doc.url}'
        )
    lines += ["", "`documents.json` lists each file's document (id, title, URL, locale, kind)."]
    if archived:
        lines += [
            "",
            "Some versions were imported from an archive with `policywatch replay`; they keep",
            "that archive's licence and attribution (see ATTRIBUTION.md).",
        ]
    return "\n".join(lines) + "\n"


def export_git(session: Session, out_dir: Path) -> GitExport:
    """Write the repository to ``out_dir``, which must not exist or be empty."""
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ExportError(f"{out_dir} exists and is not an empty folder")
    if shutil.which("git") is None:
        raise ExportError("git is not installed")
    docs = {d.id: d for d in documents(session)}
    paths = document_paths(list(docs.values()))
    entries = []
    archived = False
    for doc_id, doc in docs.items():
        for seq, step in enumerate(text_history(session, doc)):
            entries.append((step.at, doc_id, seq, step))
            archived = archived or step.version.extractor_version.startswith("archive")
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    stream: list[bytes] = []
    exported: set[str] = set()
    mark = 0
    for at, doc_id, _seq, step in entries:
        doc, path = docs[doc_id], paths[doc_id]
        name = f"{doc.service} {document_type(doc)}"
        if step.change is None or doc_id not in exported:
            subject = f"First record of {name}"
        elif step.change.technical or _reextracted(step.change.summary):
            subject = f"{TECHNICAL_SUBJECT} {name}"
        else:
            subject = f"Record new changes of {name}"
        body = [f"policywatch document: {doc_id}", f"version: {step.version.text_hash}"]
        if step.change is not None:
            body.insert(0, f"policywatch change {step.change.id}: {_line(step.change.title)}")
        message = f"{subject}\n\n" + "\n".join(body) + "\n"
        exported.add(doc_id)
        mark += 1
        stream += [b"blob\n", b"mark :%d\n" % mark]
        stream.append(_data(get_text(session, step.version.text_blob).encode("utf-8")))
        stream += _commit(at, message, [(path, mark)])
    if not entries:
        raise ExportError("the database holds no versions to export")
    last = entries[-1][0]
    extra = {
        "README.md": _readme(paths, docs, archived),
        "documents.json": json.dumps(
            {
                path: {
                    "id": doc_id,
                    "service": docs[doc_id].service,
                    "title": docs[doc_id].title,
                    "kind": docs[doc_id].kind,
                    "url": docs[doc_id].url,
                    "locale": docs[doc_id].locale,
                }
                for doc_id, path in sorted(paths.items(), key=lambda item: item[1])
                if doc_id in exported
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
    }
    if archived and _ATTRIBUTION.is_file():
        extra["ATTRIBUTION.md"] = _ATTRIBUTION.read_text("utf-8")
    files = []
    for name, text in extra.items():
        mark += 1
        stream += [b"blob\n", b"mark :%d\n" % mark, _data(text.encode("utf-8"))]
        files.append((name, mark))
    stream += _commit(last, "Describe the dataset\n", files)
    out_dir.mkdir(parents=True, exist_ok=True)
    _git("init", "-q", "-b", "main", cwd=out_dir)
    _git("fast-import", "--quiet", "--date-format=raw", cwd=out_dir, stdin=b"".join(stream))
    _git("reset", "-q", "--hard", "main", cwd=out_dir)
    return GitExport(out_dir, len(exported), len(entries) + 1)


def _commit(at: datetime, message: str, files: list[tuple[str, int]]) -> list[bytes]:
    """A fast-import commit on main (its parent: the branch's previous commit)."""
    stamp = _stamp(at)
    out = [
        b"commit refs/heads/main\n",
        b"author " + AUTHOR.encode() + b" " + stamp + b"\n",
        b"committer " + AUTHOR.encode() + b" " + stamp + b"\n",
        _data(message.encode("utf-8")),
    ]
    for path, blob in files:
        out.append(b"M 100644 :%d %s\n" % (blob, path.encode("utf-8")))
    out.append(b"\n")
    return out


def _reextracted(summary: dict[str, Any] | None) -> bool:
    """A re-extraction that also carried news (only what it added was told, decision 0013
    §15): still a technical record, so that a replay of the export tells the same."""
    told = (summary or {}).get("additions_only") or {}
    return told.get("kind") == "technical"
