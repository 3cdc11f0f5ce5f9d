"""sources.toml: the tracked documents, validated on load with messages that name the field."""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cssselect import SelectorError
from lxml.cssselect import CSSSelector

from config.documents import DocumentSpec, FeedSettings
from config.noise import DEFAULT_PROFILE, ProfileError, load_profile, profile_names
from config.notify import NotifyConfigError, NotifyTarget, parse_targets, unknown_categories

KINDS = ("policy", "genai", "help", "form", "newsroom")
RENDERS = ("http", "browser")
_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")
_LOCALE = re.compile(r"[a-z]{2,3}_[A-Z]{2}")


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
    follow_posts_days: float = 30.0  # newsroom posts are re-fetched this long after discovery
    alert_after_hours: float = 24.0  # a source failing this long raises one source-health change


@dataclass(frozen=True)
class Sources:
    documents: tuple[DocumentSpec, ...]  # every locale of a document is one here
    crawl: CrawlSettings = field(default_factory=CrawlSettings)
    path: Path | None = None
    feeds: dict[str, FeedSettings] = field(default_factory=dict)  # newsroom feeds, by id
    notify: tuple[NotifyTarget, ...] = ()  # [[notify]]: where alerts are sent

    def hosts(self) -> frozenset[str]:
        """Every host a crawl may fetch from: the hosts of the configured URLs, nothing else."""
        return frozenset((urlsplit(d.url).hostname or "").lower() for d in self.documents) - {""}

    def check_categories(self, known: Iterable[str]) -> None:
        """Every category a ``[[notify]]`` target filters on is in ``known`` (the names of
        changes/categories/, which this layer cannot import), or SourcesError."""
        error = unknown_categories(self.notify, known)
        if error is not None:
            where = f"{self.path}: " if self.path else ""
            raise SourcesError(f"{where}{error}")

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
    for selector in value:
        try:
            CSSSelector(selector.strip())
        except SelectorError as exc:
            reason = str(exc).splitlines()[0]
            raise SourcesError(
                f"{where}: field '{key}': {selector!r} is not a CSS selector ({reason})"
            ) from exc
    return tuple(v.strip() for v in value)


def _locale_url(template: str, locale: str, where: str, key: str) -> str:
    """Expand ``{locale}`` (fr_FR), ``{lang}`` (fr), ``{region}`` (fr), ``{tag}`` (fr-FR)."""
    lang, region = locale.split("_")
    values = {"locale": locale, "lang": lang, "region": region.lower(), "tag": f"{lang}-{region}"}
    names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    unknown = sorted({n for n in names if n not in values})
    if unknown or not names:
        raise SourcesError(
            f"{where}: field '{key}' must use {{locale}}, {{lang}}, {{region}} or {{tag}}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    return _url(template.format(**values), where, key)


def _locales(entry: dict[str, Any], where: str, base: str) -> tuple[str, ...]:
    value = entry.get("locales", [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SourcesError(f"{where}: field 'locales' must be a list of locales like \"fr_FR\"")
    for locale in value:
        if not _LOCALE.fullmatch(locale):
            raise SourcesError(f"{where}: field 'locales': {locale!r} is not like \"fr_FR\"")
    if len(set(value)) != len(value) or base in value:
        raise SourcesError(f"{where}: field 'locales' repeats a locale (or the document's own)")
    if value and "locale_url" not in entry:
        raise SourcesError(
            f"{where}: field 'locales' needs 'locale_url', e.g. \"...?locale={{locale}}\""
        )
    if not value and ("locale_url" in entry or "locale_page_url" in entry):
        raise SourcesError(f"{where}: field 'locale_url' needs 'locales'")
    return tuple(value)


_FIELDS = {
    "id", "service", "title", "kind", "url", "page_url", "locale", "render", "select", "remove",
    "locales", "locale_url", "locale_page_url", "keywords", "post_select", "post_remove",
    "profile",
}  # fmt: skip
_FEED_FIELDS = ("keywords", "post_select", "post_remove")


def _document(entry: Any, index: int) -> tuple[list[DocumentSpec], FeedSettings | None]:
    """The document an entry names, one more per extra locale, and its feed settings."""
    where = f"document #{index + 1}"
    if not isinstance(entry, dict):
        raise SourcesError(f"{where}: must be a table ([[document]])")
    doc_id = _str(entry, "id", where)
    assert doc_id is not None
    where = f"document '{doc_id}' (#{index + 1})"
    if not set(doc_id) <= _ID_CHARS:
        raise SourcesError(f"{where}: field 'id' may use only a-z, 0-9, '-', '_' and '.'")
    extra = sorted(set(entry) - _FIELDS)
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
    locale = _str(entry, "locale", where, required=False) or "en_US"
    if not _LOCALE.fullmatch(locale):
        raise SourcesError(f"{where}: field 'locale': {locale!r} is not like \"fr_FR\"")
    locales = _locales(entry, where, locale)
    feed = _feed(entry, where, kind)
    if feed and locales:
        raise SourcesError(f"{where}: field 'locales': a newsroom feed has one locale")
    base = DocumentSpec(
        id=doc_id,
        service=_str(entry, "service", where) or "",
        title=_str(entry, "title", where) or "",
        kind=kind,
        url=url,
        page_url=_url(page_url, where, "page_url") if page_url else None,
        locale=locale,
        render=render,
        select=_selectors(entry, "select", where),
        remove=_selectors(entry, "remove", where),
        group_id=doc_id if locales else None,
        profile=_profile(entry, where),
    )
    docs = [base]
    page_template = _str(entry, "locale_page_url", where, required=False)
    for other in locales:
        docs.append(
            replace(
                base,
                id=f"{doc_id}.{other}",
                title=f"{base.title} [{other}]",
                locale=other,
                url=_locale_url(entry["locale_url"], other, where, "locale_url"),
                page_url=(
                    _locale_url(page_template, other, where, "locale_page_url")
                    if page_template
                    else None
                ),
            )
        )
    return docs, feed


def _profile(entry: dict[str, Any], where: str) -> str:
    """The noise profile an entry names (``config/profiles/<name>.toml``), else ``default``."""
    name = _str(entry, "profile", where, required=False) or DEFAULT_PROFILE
    known = profile_names()
    if name not in known:
        raise SourcesError(
            f"{where}: field 'profile': unknown noise profile {name!r}; known: {', '.join(known)}"
        )
    try:
        load_profile(name)
    except ProfileError as exc:
        raise SourcesError(f"{where}: field 'profile': {exc}") from exc
    return name


def _feed(entry: dict[str, Any], where: str, kind: str | None) -> FeedSettings | None:
    given = [k for k in _FEED_FIELDS if k in entry]
    if kind != "newsroom":
        if given:
            raise SourcesError(f"{where}: field '{given[0]}' is only for kind newsroom")
        return None
    keywords = entry.get("keywords")
    if (
        not isinstance(keywords, list)
        or not keywords
        or not all(isinstance(k, str) and k.strip() for k in keywords)
    ):
        raise SourcesError(f"{where}: field 'keywords' must be a non-empty list of words")
    return FeedSettings(
        keywords=tuple(k.strip() for k in keywords),
        post_select=_selectors(entry, "post_select", where),
        post_remove=_selectors(entry, "post_remove", where),
    )


#: [crawl] fields where 0 would switch a safeguard off (Scrapy reads a size cap of 0 as none).
_POSITIVE = frozenset({"max_bytes", "timeout"})


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
        if key in _POSITIVE and value <= 0:
            raise SourcesError(f"[crawl]: field '{key}' must be more than 0, got {value!r}")
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
    extra = sorted(set(data) - {"crawl", "document", "notify"})
    if extra:
        raise SourcesError(f"unknown top-level key(s) {', '.join(extra)}")
    entries = data.get("document")
    if not isinstance(entries, list) or not entries:
        raise SourcesError("no [[document]] entries")
    docs: list[DocumentSpec] = []
    feeds: dict[str, FeedSettings] = {}
    for i, entry in enumerate(entries):
        expanded, feed = _document(entry, i)
        docs += expanded
        if feed:
            feeds[expanded[0].id] = feed
    seen: set[str] = set()
    for doc in docs:
        if doc.id in seen:
            raise SourcesError(f"document '{doc.id}': id used twice")
        seen.add(doc.id)
    try:
        notify = parse_targets(data.get("notify"), seen)
    except NotifyConfigError as exc:
        raise SourcesError(str(exc)) from exc
    return Sources(tuple(docs), _crawl(data.get("crawl")), path, feeds, notify)


def load_sources(path: Path) -> Sources:
    """Read ``path``; a missing or invalid file raises SourcesError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourcesError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise SourcesError(
            f"{path}: line {line} is not UTF-8 (byte 0x{exc.object[exc.start]:02x}); "
            "save the file as UTF-8"
        ) from exc
    try:
        return parse_sources(text, path)
    except SourcesError as exc:
        raise SourcesError(f"{path}: {exc}") from exc
