"""REFERENCE ONLY: changes/extract.py as it was with BeautifulSoup + markdownify (extractor
version 2), kept as the oracle that tests/test_extract_same.py and bench/extract_bench.py
compare the lxml extractor with. Not used by policywatch itself.

HTML -> normalised Markdown: the text a version of a document is made of.

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
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Comment, Tag, XMLParsedAsHTMLWarning
from markdownify import ATX, BACKSLASH, MarkdownConverter

from changes.links import canonical_url, canonicalise_markdown

__all__ = [
    "EXTRACTOR_VERSION",
    "Extraction",
    "extract",
    "normalise_markdown",
    "word_count",
]

#: Bump whenever ``extract`` or ``normalise_markdown`` would produce different text for the
#: same input: versions re-derived with a new extractor are technical changes, not news.
EXTRACTOR_VERSION: str = "2"

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
_BLOCK_TAGS: list[str] = [
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figure",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
    "ol", "p", "pre", "section", "table", "ul",
]  # fmt: skip

# Words: letters/digits with inner apostrophes or hyphens ("don't", "opt-out").
WORD_RE = re.compile(r"\w+(?:['’\-]\w+)*")


@dataclass(frozen=True)
class Extraction:
    """The Markdown text of a page and what the extractor saw on the way."""

    text: str
    selector_matched: bool
    title: str | None
    links: tuple[tuple[str, str], ...]


class _Converter(MarkdownConverter):
    """markdownify with Markdown tables whose cells keep their block structure as ``<br>``."""

    def process_tag(self, node: Any, parent_tags: set[str] | None = None) -> str:
        if node.name in ("td", "th"):
            # markdownify flattens cells to one inline run; render the cell as a block
            # instead (lists, paragraphs, headings) and join its lines with <br>.
            name = node.name
            node.name = "div"
            try:
                text = super().process_tag(node, parent_tags)
            finally:
                node.name = name
            return self._cell(node, text)
        return super().process_tag(node, parent_tags)

    def _cell(self, el: Tag, text: str) -> str:
        text = re.sub(r"[ \t]*\\?\n", "\n", text.strip())  # hard breaks too
        text = re.sub(r"\n{3,}", "\n\n", text).replace("|", r"\|").replace("\n", "<br>")
        colspan = str(el.get("colspan", "1"))
        span = max(1, min(50, int(colspan))) if colspan.isdigit() else 1
        return " " + text + " |" * span

    def convert_a(self, el: Tag, text: str, parent_tags: set[str]) -> str:
        if el.find(_BLOCK_TAGS) is None:
            return str(super().convert_a(el, text, parent_tags))
        # A link wrapping blocks (Meta's "card" links: <a><h2>Title</h2><img></a>) becomes
        # one link on its own line instead of "[## Title](#1)[## Next](#2)".
        link = str(super().convert_a(el, " ".join(text.split()), parent_tags))
        return f" {link} " if "_inline" in parent_tags else f"\n\n{link}\n\n"

    def convert_hN(self, n: int, el: Tag, text: str, parent_tags: set[str]) -> str:
        if "a" in parent_tags:
            return f" {text.strip()} "
        return str(super().convert_hN(n, el, text, parent_tags))

    def escape(self, text: str, parent_tags: set[str]) -> str:
        text = super().escape(text, parent_tags)
        # Text that would read as an HTML tag or comment ("<img onerror=...>") is escaped,
        # so the Markdown never carries markup that a renderer could execute.
        return re.sub(r"<(?=[A-Za-z/!?])", r"\\<", text)


_CONVERTER_OPTIONS: dict[str, Any] = {
    "heading_style": ATX,
    "newline_style": BACKSLASH,
    "bullets": "*",
    "table_infer_header": True,
    "escape_misc": False,
    "autolinks": True,
}


def _parse(html: str) -> BeautifulSoup:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(html, "lxml")


def _is_layout_table(table: Tag) -> bool:
    """A table used for page layout rather than data (Meta's mbasic pages nest them)."""
    if str(table.get("role", "")).lower() in ("presentation", "none"):
        return True
    if table.find("table") is not None:
        return True
    rows = [tr for tr in table.find_all("tr") if tr.find_parent("table") is table]
    widths = [len(tr.find_all(["td", "th"], recursive=False)) for tr in rows]
    return not widths or max(widths) <= 1


def _unwrap_layout_tables(root: Tag) -> None:
    for table in [t for t in root.find_all("table") if _is_layout_table(t)]:
        for part in table.find_all(["thead", "tbody", "tfoot", "tr", "td", "th", "caption"]):
            if part.find_parent("table") is table:
                part.name = "div"
                part.attrs = {}
        table.name = "div"
        table.attrs = {}


def _document_base(soup: BeautifulSoup, base_url: str) -> str:
    tag = soup.find("base", href=True)
    if isinstance(tag, Tag):
        return urljoin(base_url, str(tag["href"]).strip())
    return base_url


def _scheme(url: str) -> str:
    """The scheme a browser would see (it ignores tabs and newlines inside URLs)."""
    match = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", re.sub(r"[\t\n\r]", "", url).strip())
    return match.group(1).lower() if match else ""


def _rewrite_links(root: Tag, base: str) -> list[tuple[str, str]]:
    """Canonicalise href/src in place; neutralise unsafe targets; return (text, url) pairs."""
    links: list[tuple[str, str]] = []
    for a in root.find_all(["a", "area"]):
        href = a.get("href")
        if href is None:
            continue
        url = canonical_url(str(href), base)
        scheme = _scheme(url)
        if scheme and scheme not in _SAFE_SCHEMES:
            del a["href"]  # javascript:, data:, vbscript: ... keep only the anchor text
            continue
        a.attrs = {"href": url}
        if url:
            links.append((" ".join(a.get_text(" ").split()), url))
    for img in root.find_all("img"):
        src = str(img.get("src") or "").strip()
        alt = " ".join(str(img.get("alt") or "").split())
        url = canonical_url(src, base) if src else ""
        if not alt or not url or _scheme(url) not in ("http", "https", ""):
            img.decompose()  # decorative, tracking pixel, data: or script URL
            continue
        img.attrs = {"src": url, "alt": alt}
    for tag in root.find_all(True):
        if tag.name not in ("a", "area", "img", "td", "th"):
            for attr in ("src", "href", "srcset", "poster", "action", "formaction"):
                tag.attrs.pop(attr, None)
    return links


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
    first. Invalid selectors raise ``soupsieve.SelectorSyntaxError``.
    """
    soup = _parse(html)
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text(" ").split()) if isinstance(title_tag, Tag) else ""
    base = _document_base(soup, base_url)

    for tag in soup.find_all(DROP_TAGS):
        tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for selector in remove:
        for tag in soup.select(selector):
            tag.decompose()

    selector_matched = True
    roots: list[Tag] = []
    if select:
        matches = soup.select(", ".join(select))
        ids = {id(m) for m in matches}
        roots = [m for m in matches if not any(id(p) in ids for p in m.parents)]
    if not roots:
        selector_matched = not select
        body = soup.body or soup
        roots = [body]

    links: list[tuple[str, str]] = []
    parts: list[str] = []
    converter = _Converter(**_CONVERTER_OPTIONS)
    for root in roots:
        _unwrap_layout_tables(root)
        links.extend(_rewrite_links(root, base))
        parts.append(converter.convert_soup(root))
    text = normalise_markdown("\n\n".join(parts), base)
    return Extraction(
        text=text,
        selector_matched=selector_matched,
        title=title or None,
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


def normalise_markdown(md: str, base: str | None = None) -> str:
    """Canonicalise link targets and whitespace; idempotent.

    Link targets go through :func:`changes.links.canonicalise_markdown` (``base``: the
    page URL, see there). NBSP and narrow spaces become spaces, control and zero-width
    characters go, line ends become ``\\n``, trailing spaces are stripped, whitespace
    just inside link brackets and after list markers shrinks, runs of blank lines
    collapse to one, and the text ends with one newline (empty text stays empty).
    """
    text = md.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    text = _CONTROL.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = _LINK_OPEN.sub("[", text)
    text = _LINK_CLOSE.sub("](", text)
    text = canonicalise_markdown(text, base)
    text = _LIST_MARKER.sub(r"\1\2 ", text)
    text = "\n".join(line.rstrip(" \t") for line in text.split("\n"))
    text = _BLANK_RUNS.sub("\n\n", text).strip("\n")
    return text + "\n" if text else ""


def word_count(text: str) -> int:
    """Number of words (letter/digit runs, inner apostrophes and hyphens included)."""
    return len(WORD_RE.findall(text))
