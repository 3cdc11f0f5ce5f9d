"""Small, pure string helpers for everything feeds/ writes: nothing here touches files or the DB."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

# XML 1.0 forbids these (lxml refuses to serialise them); HTML parsers treat them as errors.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SAFE_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*")
_MAX_SLUG = 120
SHOWN_ELSEWHERE = frozenset({"words_added", "words_removed"})  # pages and entries show counts


# The C0 controls of _ILLEGAL as bytes. In UTF-8 a byte below 0x80 is always that
# character itself, never part of another one.
_ILLEGAL_C0 = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def _legal(text: str) -> bool:
    """True if ``text`` holds nothing _ILLEGAL matches, found without the regular
    expression (4-5x faster on a long text): its C0 controls are deleted from its UTF-8
    bytes (strict encoding fails on a surrogate), and U+FFFE and U+FFFF looked for."""
    if text.isascii():
        data = text.encode("ascii")
    else:
        if "\ufffe" in text or "\uffff" in text:
            return False
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate
            return False
    return len(data.translate(None, _ILLEGAL_C0)) == len(data)


_LONG = 4096
_last_long: tuple[str, str] = ("", "")  # the last long text cleaned, and its cleaned form


def clean(text: str) -> str:
    """``text`` without the control characters that XML 1.0 and HTML cannot carry.

    A printable string (``str.isprintable``: no control, surrogate or unassigned character)
    holds none of them and is returned without a regular expression: most of the short
    strings a page prints (a title, a date) are. So is a text found legal by
    :func:`_legal` (text with newlines: diff chunks, versions). The last long text cleaned
    is remembered
    (the same string object: a version's text is cleaned for its Markdown file, then
    again for its page)."""
    global _last_long
    if text.isprintable():
        return text
    if len(text) < _LONG:
        return text if _legal(text) else _ILLEGAL.sub("", text)
    last = _last_long
    if last[0] is text:
        return last[1]
    cleaned = text if _legal(text) else _ILLEGAL.sub("", text)
    _last_long = (text, cleaned)
    return cleaned


try:  # markupsafe's own escaping of a plain string, without making a Markup of it
    from markupsafe import _escape_inner as _escape_str
except ImportError:  # pragma: no cover - another markupsafe: the same escapes, in Python

    def _escape_str(s: str, /) -> str:
        s = s.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
        return s.replace("'", "&#39;").replace('"', "&#34;")


def escape_html(s: str) -> str:
    """``str(markupsafe.escape(s))`` for a plain string ``s``: ``&<>'"`` as entities."""
    return _escape_str(s)


def slug(name: str) -> str:
    """A file-name-safe, deterministic stand-in for ``name`` (kept as is when already safe)."""
    if len(name) <= _MAX_SLUG and _SAFE_SLUG.fullmatch(name):
        return name
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:60] or "x"
    return f"{base}-{hashlib.sha256(name.encode('utf-8', 'surrogatepass')).hexdigest()[:10]}"


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL fit to be a link target, else None."""
    if not url:
        return None
    url = url.strip()
    if url != clean(url) or any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


_LANG = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")


def language_tag(locale: str | None) -> str:
    """The BCP 47 tag of a locale (``en_US`` -> ``en-US``); "" (unknown) if it is not one.

    >>> language_tag("fr_FR"), language_tag("en"), language_tag('x" onload="y')
    ('fr-FR', 'en', '')
    """
    tag = (locale or "").strip().replace("_", "-")
    return tag if _LANG.fullmatch(tag) else ""


def tag_uri(base: str, *parts: str | int) -> str:
    """A ``tag:`` URI (RFC 4151) naming a feed or an entry below ``base``
    (``tag:host,date:prefix``, the installation's own, chosen once): stable whatever the
    base URL, and unique to the installation.

    >>> tag_uri("tag:example.org,2026-11-23:pw-1a2b3c4d", "change", "fb privacy", 7)
    'tag:example.org,2026-11-23:pw-1a2b3c4d/change/fb%20privacy/7'
    """
    specific = "/".join(quote(str(p), safe="-._~") for p in parts)
    return f"{base}/{specific}"


MAX_TITLE = 140


def short_title(title: str, limit: int = MAX_TITLE) -> str:
    """``title`` cut at a word boundary to at most ``limit`` characters (ellipsis included).

    >>> short_title("Privacy Policy: legal basis changed", 20)
    'Privacy Policy\u2026'
    """
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-\u2013\u2014") + "\u2026"


def fmt_datetime(moment: datetime) -> str:
    """``2024-06-10 14:03 UTC``: what a reader sees (the ISO form goes in <time datetime>)."""
    utc = moment.astimezone(UTC)
    if utc.year < 1000:  # strftime does not pad the year: keep its form
        return utc.strftime("%Y-%m-%d %H:%M UTC")
    return f"{utc.year}-{utc.month:02d}-{utc.day:02d} {utc.hour:02d}:{utc.minute:02d} UTC"


def _label(key: str) -> str:
    words = re.sub(r"[_\-]+", " ", key).strip()
    return words[:1].upper() + words[1:] if words else key


def is_empty(value: Any) -> bool:
    """None, or an empty string, list or mapping: nothing to show."""
    return value is None or (isinstance(value, str | list | tuple | Mapping) and not value)


def _flat(value: Any) -> str:
    if isinstance(value, Mapping):
        shown = (f"{_label(str(k))}: {_flat(v)}" for k, v in value.items() if not is_empty(v))
        return "; ".join(shown)
    if isinstance(value, list | tuple):
        return ", ".join(_flat(v) for v in value)
    return str(value)


def summary_items(summary: Mapping[str, Any] | None) -> list[tuple[str, list[str]]]:
    """A change's structured summary as (label, lines) pairs a human can read; empties dropped."""
    items: list[tuple[str, list[str]]] = []
    for key, value in (summary or {}).items():
        if is_empty(value) or key in SHOWN_ELSEWHERE:
            continue
        if isinstance(value, list | tuple):
            lines = [clean(_flat(v)) for v in value]
        else:
            lines = [clean(_flat(value))]
        items.append((clean(_label(str(key))), lines))
    return items
