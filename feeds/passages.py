"""A change's folded hunks as passages a reader can take in: rendered from Markdown (headings,
lists, tables, links) with insertions and deletions marked inside, the passages the
summary names first, and passages that only move a link target or page furniture set
apart to be folded into one line. Pure functions.

Everything here is crawled text: it is rendered with raw HTML off, then sanitised by nh3
to a short list of tags, and only absolute http(s) links survive.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from changes.diff import Hunk
from feeds import prose, text
from feeds.summary import Block

_MD = MarkdownIt("commonmark", {"html": False}).enable("table")

# Private-use characters mark where insertions and deletions start and end while the
# Markdown is rendered; crawled text cannot hold them (they are removed first).
INS_OPEN, INS_CLOSE, DEL_OPEN, DEL_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
_MARKERS = re.compile("[\ue000-\ue003]")
_BR = "\ue004"  # a <br> kept by the recorded Markdown inside table cells
_REPLACE = {
    INS_OPEN: "<ins>",
    INS_CLOSE: "</ins>",
    DEL_OPEN: "<del>",
    DEL_CLOSE: "</del>",
    _BR: "<br>",
}
TAGS = {
    "p", "br", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "table", "thead",
    "tbody", "tr", "th", "td", "a", "em", "strong", "code", "pre", "blockquote", "ins",
    "del", "hr",
}  # fmt: skip

# Which summary block a passage belongs to, in the order a reader wants them.
TOPICS = (
    ("Legal bases", "legal-basis"),
    ("Opt-out and objection links", "opt-out"),
    ("Effective date", "dates"),
    ("AI", "ai"),
)
_LINK = re.compile(r"!?\[((?:[^\[\]\\]|\\.)*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_FURNITURE = re.compile(r"(?i)\b(return to top|back to top|play video|learn more|see more)\b")
# Every phrase of _FURNITURE ends in one of these, and their letters have no case variant
# but their capitals (re's IGNORECASE and str.lower agree on them, unlike on "i" or "s"): a
# text whose lower case holds none of them holds no furniture, and skips the slow regex.
_FURNITURE_ENDS = ("top", "deo", "more")
#: Markdown punctuation (every character an ASCII one), as tables for _blanked.
_MARKDOWN_PUNCTUATION = "\\*_#|`>[]()=-"
_EMPHASIS = "\\*_`|"
_PUNCTUATION_BLANK = bytes.maketrans(
    _MARKDOWN_PUNCTUATION.encode(), b" " * len(_MARKDOWN_PUNCTUATION)
)
_EMPHASIS_BLANK = bytes.maketrans(_EMPHASIS.encode(), b" " * len(_EMPHASIS))
_AI = re.compile(r"\bAI\b")


@dataclass(frozen=True)
class Passage:
    """One folded hunk, ready for a page."""

    hunk: Hunk
    position: int  # 0-based place in the text (the order of the stored diff)
    html: Markup  # rendered Markdown, <ins>/<del> inside, sanitised
    link_only: bool  # only link targets or page furniture changed
    topic: str | None = None  # legal-basis | opt-out | dates | ai: the summary names it
    anchor: str = ""

    @property
    def line(self) -> int:
        return self.hunk.new_line


@dataclass(frozen=True)
class Passages:
    """A change's passages: those that change words (ordered), then link-only ones."""

    words: list[Passage]
    link_only: list[Passage]
    targets: dict[tuple[int, int], str] = field(default_factory=dict)  # (block, line) -> anchor


def _side(hunk: Hunk, keep: str) -> str:
    return "".join(chunk for op, chunk in hunk.ops if op in ("=", keep))


def _blanked(text: str, table: bytes) -> str:
    """``text`` with a space for each ASCII character ``table`` blanks (the callers then
    split on whitespace: a run of them counts as one space). Translated as UTF-8 bytes,
    where no byte of a non-ASCII character is an ASCII one: 5x faster than a regex
    (or than str.translate) on a passage."""
    raw = text.encode("utf-8", "surrogatepass").translate(table)
    return raw.decode("utf-8", "surrogatepass")


def visible(markdown: str) -> str:
    """What a reader sees of ``markdown``: link texts without targets, no furniture, no
    Markdown punctuation, whitespace collapsed."""
    shown = _LINK.sub(lambda m: m.group(1), markdown) if "](" in markdown else markdown
    lower = shown.lower()
    if any(end in lower for end in _FURNITURE_ENDS):
        shown = _FURNITURE.sub(" ", shown)
    shown = _blanked(shown.replace("<br>", " "), _PUNCTUATION_BLANK)
    return " ".join(shown.split()).lower()


def is_link_only(hunk: Hunk) -> bool:
    """True if the old and the new side read the same once link targets and page furniture
    ("Return to top", "Play video") are set aside: the words did not change."""
    return visible(_side(hunk, "-")) == visible(_side(hunk, "+"))


def _marked_markdown(hunk: Hunk) -> str:
    """The hunk's Markdown with both sides' text, markers around each changed chunk, line
    by line (a marker never spans a line, so never a block)."""
    out: list[str] = []
    for op, chunk in hunk.ops:
        chunk = _MARKERS.sub("", text.clean(chunk))
        if op == "=":
            out.append(chunk)
            continue
        start, end = (INS_OPEN, INS_CLOSE) if op == "+" else (DEL_OPEN, DEL_CLOSE)
        for piece in chunk.splitlines(keepends=True):
            body = piece.rstrip("\n")
            newline = piece[len(body) :]
            out.append(f"{start}{body}{end}{newline}" if body.strip() else piece)
    return "".join(out)


def _has_delimiter_row(lines: list[str], i: int) -> bool:
    return i < len(lines) and re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*", lines[i]) is not None


def _tables(markdown: str) -> str:
    """Table rows cut from their table (no delimiter row above) get an empty header so they
    render as a table; the empty header is dropped after rendering."""
    if "|" not in markdown:  # no table row: nothing to do
        return markdown
    lines = markdown.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        is_row = line.lstrip().startswith("|")
        starts_table = is_row and (not out or not out[-1].lstrip().startswith("|"))
        if starts_table and not _has_delimiter_row(lines, i + 1):
            cells = max(1, line.strip().strip("|").count("|") + 1)
            out.append("|" + " \ue005 |" * cells)
            out.append("|" + " --- |" * cells)
        out.append(line)
        i += 1
    return "\n".join(out)


_ENCODED = {marker: "".join(f"%{b:02X}" for b in marker.encode()) for marker in _REPLACE}
_ENCODED_DELETION = re.compile(
    re.escape(_ENCODED[DEL_OPEN]) + ".*?" + re.escape(_ENCODED[DEL_CLOSE]), re.I
)
_EMPTY = re.compile(r"<(ins|del)></\1>|<a rel=\"[^\"]*\"></a>")


# A tag holding a marker, as is or percent-encoded: the others are left as they are.
_MARKED_TAG = re.compile("<[^>]*?(?:[\ue000-\ue004]|%EE)[^>]*>", re.I)
_EMPTY_HEADER = re.compile(r"<thead>\s*<tr>(?:\s*<th[^>]*>\s*\ue005\s*</th>)+\s*</tr>\s*</thead>")
_TEXT = re.compile(r"(^|>)([^<]*)")


def _new_target(tag: str) -> str:
    """A tag whose attributes hold markers: deleted parts dropped, inserted parts kept."""
    tag = _ENCODED_DELETION.sub("", tag)
    tag = re.sub(f"{DEL_OPEN}.*?{DEL_CLOSE}", "", tag)
    for marker, encoded in _ENCODED.items():
        tag = re.sub(re.escape(encoded), "", tag, flags=re.I).replace(marker, "")
    return tag


def _href_ok(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        return text.safe_url(value)
    return value


#: nh3's sanitiser for the passages, set up once (``nh3.clean`` sets one up at each call,
#: half of its time on a passage): only TAGS, links to absolute http(s) URLs, with a rel.
_SANITISER = nh3.Cleaner(
    tags=TAGS,
    attributes={"a": {"href"}, "th": {"scope"}},
    attribute_filter=_href_ok,
    url_schemes={"http", "https"},
    link_rel="noopener noreferrer nofollow",
)


def render_markdown(markdown: str) -> Markup:
    """Markdown (crawled) as sanitised HTML; markers become <ins>/<del>."""
    rendered = prose.render(_MD, _tables(markdown.replace("<br>", _BR)))
    if "\ue005" in rendered:  # the empty header _tables added
        rendered = _EMPTY_HEADER.sub("", rendered).replace("\ue005", "")
    # markers inside a tag (a link target, percent-encoded there): keep the new target
    rendered = _MARKED_TAG.sub(lambda m: _new_target(m.group(0)), rendered)
    rendered = rendered.replace(_BR + "* ", _BR + "\u2022 ")  # Meta's lists in table cells
    for marker, tag in _REPLACE.items():
        rendered = rendered.replace(marker, tag)
    clean = _SANITISER.clean(rendered)
    # quotes in text as entities, as everywhere else on the site (inert either way)
    if '"' in clean:
        clean = _TEXT.sub(lambda m: m.group(1) + m.group(2).replace('"', "&#34;"), clean)
    previous = None
    while previous != clean:  # what a moved link leaves behind: empty marks, empty anchors
        previous, clean = clean, _EMPTY.sub("", clean)
    return Markup(clean)


def render_hunk(hunk: Hunk) -> Markup:
    """A hunk as formatted text with its insertions and deletions marked inside."""
    return render_markdown(_marked_markdown(hunk))


def _terms(block: Block, line_index: int) -> list[str]:
    """The strings that tie a summary line to the text: quoted words, values, URLs."""
    line = block.lines[line_index]
    found = re.findall(r"\u201c([^\u201d]{4,})\u201d", line.plain)
    for piece in line.pieces:
        value = piece.text.strip().strip("\u201c\u201d")
        if len(value) >= 4 and not value.endswith(":") and piece.text != line.pieces[0].text:
            found.append(value)
    if block.label == "AI":
        found += ["AI", "artificial intelligence"]
    return found


def _plain(markdown: str) -> str:
    """Text to match summary terms in: link targets, escapes and emphasis dropped."""
    shown = markdown.replace("<br>", " ")
    if "](" in shown:  # a link (what _LINK matches holds it)
        shown = _LINK.sub(lambda m: m.group(1), shown)
    shown = _blanked(shown, _EMPHASIS_BLANK)
    return " ".join(shown.lower().split())


class _Sides:
    """A passage's old and new text, as is and as :func:`_plain`, made once per passage
    (every term of every summary line is looked for in every passage)."""

    def __init__(self, hunk: Hunk) -> None:
        self.raw = (_side(hunk, "-"), _side(hunk, "+"))
        self.plain = tuple(_plain(side) for side in self.raw)


@lru_cache(maxsize=4096)
def _wanted(term: str) -> str:
    """What :func:`_matches` looks for: the term as :func:`_plain` reads it, its first six
    words (a long purpose: its first words are enough). Made once per term, not once per
    term and passage."""
    return " ".join(_plain(term).split()[:6])


def _matches(term: str, sides: _Sides) -> bool:
    if term == "AI":  # the regex only where the letters are (it tries every position)
        return any("AI" in side and _AI.search(side) for side in sides.raw)
    wanted = _wanted(term)
    return bool(wanted) and any(wanted in side for side in sides.plain)


def passages(hunks: Sequence[Hunk], blocks: Sequence[Block] = ()) -> Passages:
    """The hunks as passages: word-changing ones ordered by the first summary topic they
    carry (legal bases, opt-out links, dates, AI, then the rest, each in text order), then
    the link-only ones; and for each summary line the anchor of its passage."""
    found = [
        Passage(h, i, render_hunk(h), is_link_only(h), anchor=f"passage-{i + 1}")
        for i, h in enumerate(hunks)
    ]
    sides: dict[int, _Sides] = {}

    def matches(term: str, p: Passage) -> bool:
        if p.position not in sides:
            sides[p.position] = _Sides(p.hunk)
        return _matches(term, sides[p.position])

    rank = {topic: n for n, (_, topic) in enumerate(TOPICS)}
    topics: dict[int, str] = {}
    targets: dict[tuple[int, int], str] = {}
    for b, block in enumerate(blocks):
        topic = dict(TOPICS).get(block.label)
        for li in range(len(block.lines)):
            terms = _terms(block, li)
            hit = next(
                (p for t in terms for p in found if not p.link_only and matches(t, p)),
                None,
            ) or next((p for t in terms for p in found if matches(t, p)), None)
            if hit is None:
                continue
            targets[(b, li)] = hit.anchor
            if topic and (hit.position not in topics or rank[topic] < rank[topics[hit.position]]):
                topics[hit.position] = topic
    with_topics = [
        Passage(p.hunk, p.position, p.html, p.link_only, topics.get(p.position), p.anchor)
        for p in found
    ]
    words = sorted(
        (p for p in with_topics if not p.link_only),
        key=lambda p: (rank.get(p.topic or "", len(rank)), p.position),
    )
    return Passages(words, [p for p in with_topics if p.link_only], targets)
