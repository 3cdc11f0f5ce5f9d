"""Read archived histories of a document: the versions someone else recorded, with dates.

Three shapes, recognised from the path:

- a corpus archive ``*.tar.xz`` (or a folder) with ``index.tsv`` (recorded_at, commit,
  kind, file) and ``versions/``: the shape of ``demo/data`` (Platform Governance Archive);
  ``kind = technical`` marks the archive's own re-extractions;
- a folder of Markdown files named by date (``2024-06-26.md``,
  ``2024-06-26T00-30-35_cece8c85.md``);
- a git repository and a file path in it (Open Terms Archive ``*-versions`` datasets):
  one version per commit that touched the file, dated by its author date. Commits whose
  message starts like Open Terms Archive's technical ones (``Apply technical or
  declaration upgrade on``, formerly ``Refilter``) are the archive's re-extractions.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["ArchiveError", "ArchivedVersion", "TECHNICAL_PREFIXES", "read_archive"]

#: Open Terms Archive commit-message prefixes of technical commits (engine
#: ``COMMIT_MESSAGE_PREFIXES``: ``extractOnly`` and the deprecated ``refilter``).
TECHNICAL_PREFIXES: tuple[str, ...] = ("Apply technical or declaration upgrade on", "Refilter")

_DATED_NAME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:[T _](?P<h>\d{2})[-:]?(?P<m>\d{2})(?:[-:]?(?P<s>\d{2}))?)?"
)


class ArchiveError(ValueError):
    """The archive cannot be read: the message says what is wrong and where."""


@dataclass(frozen=True)
class ArchivedVersion:
    """One recorded text of a document: when it was recorded, whether the archive marks it
    technical, and where it came from (file or commit)."""

    recorded_at: datetime
    text: str
    technical: bool = False
    origin: str = ""


def read_archive(path: Path, file: str | None = None) -> list[ArchivedVersion]:
    """The versions of an archive, oldest first (stable order for equal dates).

    ``file`` is the document's path inside a git repository, and only that.
    """
    if not path.exists():
        raise ArchiveError(f"{path}: no such file or folder")
    if (path / ".git").exists() or file is not None:
        if file is None:
            raise ArchiveError(f"{path} is a git repository: name the document's file (--file)")
        versions = list(_git_versions(path, file))
    elif path.is_file() and path.name.endswith((".tar.xz", ".tar.gz", ".tar", ".tgz")):
        versions = _tar_versions(path)
    elif path.is_dir() and (path / "index.tsv").is_file():
        versions = _indexed_versions(
            (path / "index.tsv").read_text("utf-8"),
            lambda name: (path / "versions" / name).read_text("utf-8"),
            str(path),
        )
    elif path.is_dir():
        versions = _folder_versions(path)
    else:
        raise ArchiveError(f"{path}: not a .tar.xz archive, a folder or a git repository")
    if not versions:
        raise ArchiveError(f"{path}: no versions found")
    return sorted(versions, key=lambda v: v.recorded_at)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _tar_versions(path: Path) -> list[ArchivedVersion]:
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:  # in order: random access into xz restarts decompression
                if member.isfile():
                    handle = tar.extractfile(member)
                    if handle is not None:
                        files[member.name.removeprefix("./")] = handle.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(f"{path}: cannot read the archive ({exc})") from exc
    if "index.tsv" not in files:
        raise ArchiveError(f"{path}: no index.tsv in the archive")

    def read(name: str) -> str:
        key = f"versions/{name}"
        if key not in files:
            raise ArchiveError(f"{path}: index.tsv names {key}, which is not in the archive")
        return files[key].decode("utf-8")

    return _indexed_versions(files["index.tsv"].decode("utf-8"), read, str(path))


def _indexed_versions(index: str, read: Callable[[str], str], where: str) -> list[ArchivedVersion]:
    reader = csv.DictReader(io.StringIO(index), delimiter="\t")
    missing = {"recorded_at", "file"} - set(reader.fieldnames or [])
    if missing:
        raise ArchiveError(f"{where}: index.tsv lacks the column(s) {', '.join(sorted(missing))}")
    out = []
    for line, row in enumerate(reader, start=2):
        try:
            recorded = _aware(datetime.fromisoformat(row["recorded_at"]))
        except (TypeError, ValueError) as exc:
            raise ArchiveError(f"{where}: index.tsv line {line}: bad recorded_at") from exc
        text = read(row["file"])
        technical = (row.get("kind") or "").strip() == "technical"
        out.append(ArchivedVersion(recorded, text, technical, row["file"]))
    return out


def _folder_versions(path: Path) -> list[ArchivedVersion]:
    out = []
    for file in sorted(path.iterdir()):
        if file.suffix.lower() not in (".md", ".markdown", ".txt") or not file.is_file():
            continue
        match = _DATED_NAME.match(file.name)
        if not match:
            raise ArchiveError(f"{file}: the file name does not start with a date (YYYY-MM-DD)")
        stamp = match.group("date")
        if match.group("h"):
            stamp += f"T{match.group('h')}:{match.group('m')}:{match.group('s') or '00'}"
        try:
            recorded = _aware(datetime.fromisoformat(stamp))
        except ValueError as exc:
            raise ArchiveError(f"{file}: {stamp} is not a valid date") from exc
        out.append(ArchivedVersion(recorded, file.read_text("utf-8"), False, file.name))
    return out


def _git(repo: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
        )
    except FileNotFoundError as exc:
        raise ArchiveError("git is not installed") from exc
    except subprocess.CalledProcessError as exc:
        raise ArchiveError(f"{repo}: git {args[0]} failed: {exc.stderr.strip()[:300]}") from exc
    return done.stdout


def _git_versions(repo: Path, file: str) -> Iterator[ArchivedVersion]:
    log = _git(repo, "log", "--reverse", "--format=%H%x09%aI%x09%s", "--", file)
    if not log.strip():
        raise ArchiveError(f"{repo}: no commit touches {file}")
    for line in log.splitlines():
        sha, date, subject = line.split("\t", 2)
        try:
            text = _git(repo, "show", f"{sha}:{file}")
        except ArchiveError:
            continue  # the commit deleted the file
        technical = subject.startswith(TECHNICAL_PREFIXES)
        yield ArchivedVersion(datetime.fromisoformat(date), text, technical, sha[:12])
