"""HTML -> normalised Markdown: the text a version of a document is made of.

``extract`` keeps the part of a page that a document's rules select, removes what can
never be content (scripts, styles, embedded frames, decorative images), canonicalises
every link and converts the rest to Markdown with ATX headings and Markdown tables.
``normalise_markdown`` is the last step of every extraction and is also applied to
Markdown that comes from elsewhere (the recorded history), so that texts compare equal
whenever only noise differs. Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from lxml import etree
from lxml.cssselect import CSSSelector

from changes import markdown
from changes.links import canonical_url, canonicalise_markdown
from changes.plain import WORD_RE

__all__ = [
    "EXTRACTOR_VERSION",
    "MAX_DEPTH",
    "Extraction",
    "Prepared",
    "UnparsablePage",
    "convert",
    "extract",
    "normalise_markdown",
    "prepare",
    "word_count",
]

#: Bump whenever ``extract`` or ``normalise_markdown`` would produce different text for the
#: same input: versions re-derived with a new extractor are technical changes, not news.
EXTRACTOR_VERSION: str = "2"  # the lxml rewrite writes the same text: still 2

#: Content nested deeper than this many elements is refused (:class:`UnparsablePage`): the
#: Markdown converter recurses once per level, real policy pages stay below 40 levels, and a
#: hostile page of 100,000 nested ``<div>`` must fail alone, not crash the run.
MAX_DEPTH: int = 120


class UnparsablePage(ValueError):
    """A page that parses into something no extraction can turn into text."""


#: Elements that are never content.
DROP_TAGS: tuple[str, ...] = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "iframe",
    "object",
    "embed",
    "canvas",
    "link",
    "meta",
    "head",
)

_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


@dataclass(frozen=True)
class Extraction:
    """The Markdown text of a page and what the extractor saw on the way."""

    text: str
    selector_matched: bool
    title: str | None
    links: tuple[tuple[str, str], ...]


def _parse(html: str) -> Any:
    """The page's root element (None for an empty page), parsed by libxml2 as BeautifulSoup's
    lxml builder parsed it."""
    try:
        return etree.fromstring(html, _PARSER) if html.strip() else None
    except ValueError:  # a str with an XML encoding declaration: hand lxml the bytes
        return etree.fromstring(html.encode("utf-8"), _PARSER_UTF8)
    except etree.XMLSyntaxError:
        return None


# collect_ids=False: no table of id attributes (XPath's id(), unused) while parsing
_PARSER = etree.HTMLParser(recover=True, collect_ids=False)
_PARSER_UTF8 = etree.HTMLParser(recover=True, encoding="utf-8", collect_ids=False)


def _is_layout_table(table: Any) -> bool:
    """A table used for page layout rather than data (Meta's mbasic pages nest them)."""
    if str(table.get("role", "")).lower() in ("presentation", "none"):
        return True
    if next(table.iterdescendants("table"), None) is not None:
        return True
    rows = [tr for tr in table.iterdescendants("tr") if _parent_table(tr) is table]
    widths = [sum(1 for c in tr if c.tag in ("td", "th")) for tr in rows]
    return not widths or max(widths) <= 1


def _parent_table(el: Any) -> Any:
    return next(el.iterancestors("table"), None)


def _unwrap_layout_tables(root: Any) -> None:
    for table in [t for t in root.iterdescendants("table") if _is_layout_table(t)]:
        parts = ("thead", "tbody", "tfoot", "tr", "td", "th", "caption")
        for part in list(table.iterdescendants(*parts)):
            if _parent_table(part) is table:
                part.tag = "div"
                part.attrib.clear()
        table.tag = "div"
        table.attrib.clear()


def _document_base(root: Any, base_url: str) -> str:
    tag = next((b for b in root.iter("base") if b.get("href") is not None), None)
    if tag is not None:
        return urljoin(base_url, str(tag.get("href")).strip())
    return base_url


def _scheme(url: str) -> str:
    """The scheme a browser would see (it ignores tabs and newlines inside URLs)."""
    if "\t" in url or "\n" in url or "\r" in url:
        url = _TAB_NEWLINE.sub("", url)
    match = _SCHEME.match(url.strip())
    return match.group(1).lower() if match else ""


_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


_URL_ATTRS = ("src", "href", "srcset", "poster", "action", "formaction")
_URL_ATTR_SET = frozenset(_URL_ATTRS)


def _rewrite_links(root: Any, base: str) -> list[tuple[str, str]]:
    """Canonicalise href/src in place; neutralise unsafe targets; return (text, url) pairs."""
    links: list[tuple[str, str]] = []
    for a in list(root.iterdescendants("a", "area")):
        href = a.get("href")
        if href is None:
            continue
        url = canonical_url(str(href), base)
        scheme = _scheme(url)
        if scheme and scheme not in _SAFE_SCHEMES:
            del a.attrib["href"]  # javascript:, data:, vbscript: ... keep only the anchor text
            continue
        a.attrib.clear()
        a.set("href", url)
        if url:
            links.append((" ".join(markdown.text_of(a, " ").split()), url))
    for img in list(root.iterdescendants("img")):
        src = str(img.get("src") or "").strip()
        alt = " ".join(str(img.get("alt") or "").split())
        url = canonical_url(src, base) if src else ""
        if not alt or not url or _scheme(url) not in ("http", "https", ""):
            markdown.remove(img)  # decorative, tracking pixel, data: or script URL
            continue
        img.attrib.clear()
        img.set("src", url)
        img.set("alt", alt)
    # Every element below the root but a, area, img, td and th loses its URL attributes:
    # all of them are stripped in one pass, and those five kinds get theirs back.
    kept = [
        (el, [(k, v) for k, v in el.items() if k in _URL_ATTR_SET])
        for el in root.iterdescendants("a", "area", "img", "td", "th")
    ]
    kept.append((root, [(k, v) for k, v in root.items() if k in _URL_ATTR_SET]))
    etree.strip_attributes(root, *_URL_ATTRS)
    for el, items in kept:
        for k, v in items:
            el.set(k, v)
    return links


def _deeper_than(root: Any, limit: int) -> bool:
    """Does some element lie more than ``limit`` levels below ``root``? (No recursion: one
    XPath of ``limit + 1`` child steps, evaluated by libxml2 level by level.)"""
    path = _DEPTH_PATHS.get(limit)
    if path is None:
        path = _DEPTH_PATHS[limit] = etree.XPath("boolean(" + "/".join(["*"] * (limit + 1)) + ")")
    return bool(path(root))


_DEPTH_PATHS: dict[int, Any] = {}


def _select(root: Any, selectors: Sequence[str]) -> list[Any]:
    """Elements matching any of ``selectors``, in document order (CSS via cssselect)."""
    if not selectors:
        return []
    return list(CSSSelector(", ".join(selectors))(root))


@dataclass
class Prepared:
    """A parsed page cut down to its document: what :func:`extract` converts and
    :mod:`changes.region` fingerprints. ``roots`` are detached from nothing: their
    ancestors and siblings are still there (the converter looks at them)."""

    roots: list[Any]
    base: str
    selector_matched: bool
    title: str


def prepare(
    html: str, base_url: str, select: Sequence[str] = (), remove: Sequence[str] = ()
) -> Prepared | None:
    """Parse ``html``, drop what is never content and the ``remove`` matches, and choose
    the roots ``select`` keeps (None for an empty page). Invalid selectors raise
    ``cssselect.SelectorError``, before any work."""
    selectors = [CSSSelector(s) for s in remove]
    if select:
        CSSSelector(", ".join(select))  # invalid selectors fail before any work
    root = _parse(html)
    if root is None:
        return None
    title_tag = next(root.iter("title"), None)
    title = " ".join(markdown.text_of(title_tag, " ").split()) if title_tag is not None else ""
    base = _document_base(root, base_url)

    for tag in list(root.iter(*DROP_TAGS)):
        if tag.getparent() is not None:
            markdown.remove(tag)
    for selector in selectors:
        for tag in selector(root):
            if tag.getparent() is not None:
                markdown.remove(tag)

    selector_matched = True
    roots: list[Any] = []
    if select:
        matches = _select(root, select)
        chosen = set(matches)
        roots = [m for m in matches if not any(p in chosen for p in m.iterancestors())]
    if not roots:
        selector_matched = not select
        body = next(root.iter("body"), None)
        roots = [body if body is not None else root]
    return Prepared(roots, base, selector_matched, title)


def extract(
    html: str,
    base_url: str,
    select: Sequence[str] = (),
    remove: Sequence[str] = (),
) -> Extraction:
    """Convert a page to normalised Markdown.

    ``select`` are CSS selectors of the content (all matches, document order, nested
    matches counted once); with none, or if none matches, ``<body>`` is used and
    ``selector_matched`` is False in the latter case. ``remove`` selectors are dropped
    first. Invalid selectors raise ``cssselect.SelectorError``.
    """
    page = prepare(html, base_url, select, remove)
    if page is None:
        return Extraction(text="", selector_matched=not select, title=None, links=())
    return convert(page)


def convert(page: Prepared) -> Extraction:
    """The Markdown of a prepared page (changes its tree: links rewritten, layout tables
    unwrapped)."""
    roots, base = page.roots, page.base
    for part in roots:
        if _deeper_than(part, MAX_DEPTH):
            raise UnparsablePage(f"content nested more than {MAX_DEPTH} elements deep")
    links: list[tuple[str, str]] = []
    parts: list[str] = []
    for part in roots:
        _unwrap_layout_tables(part)
        links.extend(_rewrite_links(part, base))
        try:
            parts.append(markdown.convert(part))
        except RecursionError as exc:  # a deep stack already: refuse, never crash the run
            raise UnparsablePage("content nested too deep to convert") from exc
    text = normalise_markdown("\n\n".join(parts), base)
    return Extraction(
        text=text,
        selector_matched=page.selector_matched,
        title=page.title or None,
        links=tuple(links),
    )


# C0/C1 control characters except tab and newline; zero-width and BOM characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2060\ufeff]")
_SPACES = re.compile(r"[\u00a0\u2007\u202f]")
_BLANK_RUNS = re.compile(r"\n{3,}")
# "*   item" / "1.  item" -> "* item" / "1. item"; also at a table cell start or after <br>
_LIST_MARKER = re.compile(r"((?:^|<br>|\|)[ \t]*)([*+-]|\d{1,9}[.)])[ \t]{2,}(?=\S)", re.MULTILINE)
# "[\n\ntext\n\n](url)" -> "[text](url)": blank lines just inside link brackets
_LINK_OPEN = re.compile(r"(?<!\\)\[[ \t]*\n\s*")
_LINK_CLOSE = re.compile(r"\s*\n\s*\]\(")
_LINK_OPEN_HINT = re.compile(r"\[[ \t]*\n")
_LINK_CLOSE_HINT = re.compile(r"\n\s*\]\(")
_LIST_MARKER_HINT = re.compile(r"[*+\-.)][ \t]{2}")


_SPACE_CHARS = "\u00a0\u2007\u202f"
_SPACE_OR_CONTROL = re.compile(f"[{_SPACE_CHARS}]|{_CONTROL.pattern}")


def _space_or_nothing(match: re.Match[str]) -> str:
    return " " if match.group() in _SPACE_CHARS else ""


def _may_have_wide_list_marker(text: str) -> bool:
    """Does ``_LIST_MARKER_HINT`` match? Without a tab, only where two spaces follow a
    marker character: those places are found with ``str.find`` (the regex scans every
    character)."""
    if "\t" in text:
        return _LIST_MARKER_HINT.search(text) is not None
    at = text.find("  ")
    while at != -1:
        if at and text[at - 1] in "*+-.)":
            return True
        at = text.find("  ", at + 2)  # a run starting just after a marker is never skipped
    return False


def normalise_markdown(md: str, base: str | None = None) -> str:
    """Canonicalise link targets and whitespace; idempotent.

    Link targets go through :func:`changes.links.canonicalise_markdown` (``base``: the
    page URL, see there). NBSP and narrow spaces become spaces, control and zero-width
    characters go, line ends become ``\\n``, trailing spaces are stripped, whitespace
    just inside link brackets and after list markers shrinks, runs of blank lines
    collapse to one, and the text ends with one newline (empty text stays empty).
    """
    text = md.replace("\r\n", "\n").replace("\r", "\n") if "\r" in md else md
    # _SPACES become " " and _CONTROL characters go: one pass (the two sets are disjoint)
    text = _SPACE_OR_CONTROL.sub(_space_or_nothing, text)
    text = unicodedata.normalize("NFC", text)
    # Each costly pattern runs only if a cheap search finds what every match contains.
    if _LINK_OPEN_HINT.search(text):
        text = _LINK_OPEN.sub("[", text)
    if _LINK_CLOSE_HINT.search(text):
        text = _LINK_CLOSE.sub("](", text)
    text = canonicalise_markdown(text, base)
    if _may_have_wide_list_marker(text):
        text = _LIST_MARKER.sub(r"\1\2 ", text)
    if " \n" in text or "\t\n" in text or text.endswith((" ", "\t")):
        text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    if "\n\n\n" in text:
        text = _BLANK_RUNS.sub("\n\n", text)
    text = text.strip("\n")
    return text + "\n" if text else ""


def word_count(text: str) -> int:
    """Number of words (letter/digit runs, inner apostrophes and hyphens included)."""
    return len(WORD_RE.findall(text))
