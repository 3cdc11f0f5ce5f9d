"""sources.toml: the tracked documents, validated on load with messages that name the field."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from storage.repo import DocumentSpec

KINDS = ("policy", "genai", "help", "form", "newsroom")
RENDERS = ("http", "browser")
_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")


class SourcesError(ValueError):
    """A sources file that cannot be used; the message names the entry and the field."""


@dataclass(frozen=True)
class CrawlSettings:
    """Politeness and limits, from the optional ``[crawl]`` table."""

    contact_url: str = "https://github.com/policywatch/policywatch"
    download_delay: float = 2.0
    timeout: float = 30.0
    max_bytes: int = 20_000_000
    min_words: int = 30
    shrink_threshold: float = 0.5


@dataclass(frozen=True)
class Sources:
    documents: tuple[DocumentSpec, ...]
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    path: Path | None = None

    def hosts(self) -> frozenset[str]:
        """Every host a crawl may fetch from: the hosts of the configured URLs, nothing else."""
        return frozenset((urlsplit(d.url).hostname or "").lower() for d in self.documents) - {""}

    def select(self, ids: list[str] | None) -> tuple[DocumentSpec, ...]:
        """The documents named by ``ids`` (all if None); unknown ids are an error."""
        if not ids:
            return self.documents
        known = {d.id: d for d in self.documents}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise SourcesError(
                f"unknown document id(s): {', '.join(unknown)}; known: {', '.join(known)}"
            )
        return tuple(known[i] for i in ids)


def _str(entry: dict[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = entry.get(key)
    if value is None:
        if required:
            raise SourcesError(f"{where}: missing field '{key}'")
        return None
    if not isinstance(value, str) or not value.strip():
        raise SourcesError(f"{where}: field '{key}' must be a non-empty string, got {value!r}")
    return value.strip()


def _url(value: str, where: str, key: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourcesError(f"{where}: field '{key}' must be an http(s) URL, got {value!r}")
    return value


def _selectors(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SourcesError(f"{where}: field '{key}' must be a list of CSS selectors")
    return tuple(v.strip() for v in value)


def _document(entry: Any, index: int) -> DocumentSpec:
    where = f"document #{index + 1}"
    if not isinstance(entry, dict):
        raise SourcesError(f"{where}: must be a table ([[document]])")
    doc_id = _str(entry, "id", where)
    assert doc_id is not None
    where = f"document '{doc_id}' (#{index + 1})"
    if not set(doc_id) <= _ID_CHARS:
        raise SourcesError(f"{where}: field 'id' may use only a-z, 0-9, '-', '_' and '.'")
    known = {
        "id",
        "service",
        "title",
        "kind",
        "url",
        "page_url",
        "locale",
        "render",
        "select",
        "remove",
    }
    extra = sorted(set(entry) - known)
    if extra:
        raise SourcesError(f"{where}: unknown field(s) {', '.join(extra)}")
    kind = _str(entry, "kind", where)
    if kind not in KINDS:
        raise SourcesError(f"{where}: field 'kind' must be one of {', '.join(KINDS)}, got {kind!r}")
    render = _str(entry, "render", where, required=False) or "http"
    if render not in RENDERS:
        raise SourcesError(f"{where}: field 'render' must be one of {', '.join(RENDERS)}")
    url = _url(_str(entry, "url", where) or "", where, "url")
    page_url = _str(entry, "page_url", where, required=False)
    return DocumentSpec(
        id=doc_id,
        service=_str(entry, "service", where) or "",
        title=_str(entry, "title", where) or "",
        kind=kind,
        url=url,
        page_url=_url(page_url, where, "page_url") if page_url else None,
        locale=_str(entry, "locale", where, required=False) or "en_US",
        render=render,
        select=_selectors(entry, "select", where),
        remove=_selectors(entry, "remove", where),
    )


def _crawl(table: Any) -> CrawlSettings:
    if table is None:
        return CrawlSettings()
    if not isinstance(table, dict):
        raise SourcesError("[crawl]: must be a table")
    defaults = CrawlSettings()
    values: dict[str, Any] = {}
    for key, default in defaults.__dict__.items():
        if key not in table:
            continue
        value = table[key]
        ok = isinstance(value, type(default)) or (
            isinstance(default, float) and isinstance(value, int)
        )
        if not ok or isinstance(value, bool) or (not isinstance(value, str) and value < 0):
            raise SourcesError(f"[crawl]: field '{key}' must be a {type(default).__name__} >= 0")
        values[key] = type(default)(value)
    extra = sorted(set(table) - set(defaults.__dict__))
    if extra:
        raise SourcesError(f"[crawl]: unknown field(s) {', '.join(extra)}")
    return CrawlSettings(**values)


def parse_sources(text: str, path: Path | None = None) -> Sources:
    """Parse and validate the TOML text of a sources file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(f"not valid TOML: {exc}") from exc
    extra = sorted(set(data) - {"crawl", "document"})
    if extra:
        raise SourcesError(f"unknown top-level key(s) {', '.join(extra)}")
    entries = data.get("document")
    if not isinstance(entries, list) or not entries:
        raise SourcesError("no [[document]] entries")
    docs = tuple(_document(e, i) for i, e in enumerate(entries))
    seen: set[str] = set()
    for doc in docs:
        if doc.id in seen:
            raise SourcesError(f"document '{doc.id}': id used twice")
        seen.add(doc.id)
    return Sources(documents=docs, crawl=_crawl(data.get("crawl")), path=path)


def load_sources(path: Path) -> Sources:
    """Read ``path``; a missing or invalid file raises SourcesError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourcesError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        return parse_sources(text, path)
    except SourcesError as exc:
        raise SourcesError(f"{path}: {exc}") from exc
