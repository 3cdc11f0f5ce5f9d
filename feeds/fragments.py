"""Small HTML fragments the templates print many times per page, built in Python (a Jinja
macro call costs more than the fragment). Each one escapes every value it prints."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape

from changes.diff import Hunk, Op
from feeds import diffview, text

_TAGS = {"+": ("<ins>", "</ins>"), "-": ("<del>", "</del>"), "=": ("", "")}
# Marks in the text itself (wdiff's), for feed readers that drop <ins>/<del> and their style.
_MARKS = {"+": ("<ins>{+", "+}</ins>"), "-": ("<del>[-", "-]</del>"), "=": ("", "")}
TEXT_MARKS_LEGEND = "Deleted text is shown [-like this-], inserted text {+like this+}."


def _text(value: Any) -> str:
    """``str(escape(value))``: a plain string escaped without making a Markup of it."""
    return text.escape_html(value) if type(value) is str else str(escape(value))


#: Crawled text as HTML (cleaned, escaped), by the text: a pure function of it, so
#: remembered within a process. A change page prints each unchanged line twice (side by
#: side) and the changes of a document share most of their context; a worker renders
#: many. Emptied when full.
_HTML: dict[str, str] = {}
_HTML_MAX = 4096


def text_html(chunk: str) -> str:
    """``chunk`` (a plain str) cleaned (text.clean) and escaped: ``str(escape(clean(chunk)))``."""
    html = _HTML.get(chunk)
    if html is None:
        if len(_HTML) >= _HTML_MAX:
            _HTML.clear()
        html = _HTML[chunk] = text.escape_html(text.clean(chunk))
    return html


def _lines(chunk: str, breaks: bool) -> str:
    if not breaks:
        return text_html(chunk)
    chunk = text.clean(chunk)
    return "<br>\n".join([text.escape_html(line) for line in chunk.split("\n")])


def lines(chunk: str, breaks: bool = False) -> Markup:
    """Diff text, cleaned and escaped; with ``breaks`` its newlines become <br> (feeds)."""
    return Markup(_lines(chunk, breaks))


def ops_html(pieces: Sequence[Op], breaks: bool = False, marks: bool = False) -> Markup:
    """Diff ops as HTML: insertions in <ins>, deletions in <del>, every chunk escaped; with
    ``marks`` also ``{+inserted+}`` and ``[-deleted-]`` in the text (feeds)."""
    return Markup(_ops(pieces, breaks, marks))


def _ops(pieces: Sequence[Op], breaks: bool = False, marks: bool = False) -> str:
    tags = _MARKS if marks else _TAGS
    out = []
    for op, chunk in pieces:
        start, end = tags[op]
        out.append(f"{start}{_lines(chunk, breaks)}{end}")
    return "".join(out)


def numbered(body: str) -> Markup:
    """A text as list items ``<li id="L12">``, one per line, numbered as diffs count them."""
    # A version has thousands of lines: escaped at once (escaping leaves newlines as they
    # are, so the lines are those of the text), plain strings, one Markup.
    lines = text.escape_html(text.clean(body)).split("\n")
    return Markup("\n".join([f'<li id="L{n}">{line}</li>' for n, line in enumerate(lines, 1)]))


def time_tag(moment: datetime) -> Markup:
    """``<time datetime="ISO">2024-06-10 14:03 UTC</time>``."""
    return _time_tag(moment, moment.utcoffset(), moment.fold)


def fmt_datetime(moment: datetime) -> str:
    """:func:`feeds.text.fmt_datetime`, remembered like :func:`time_tag`."""
    return _fmt_datetime(moment, moment.utcoffset(), moment.fold)


# A change page prints ~6 moments, the same ones as the pages of its neighbours (their
# detection, its versions' first sightings). Remembered by the moment, its UTC offset and
# its fold: datetimes that are equal keys can print otherwise (the same instant in
# another zone; a repeated wall time whose fold says which of the two it is).
@lru_cache(maxsize=4096)
def _time_tag(moment: datetime, offset: Any, fold: int) -> Markup:
    shown = text.escape_html(text.fmt_datetime(moment))
    return Markup(f'<time datetime="{text.escape_html(moment.isoformat())}">{shown}</time>')


@lru_cache(maxsize=4096)
def _fmt_datetime(moment: datetime, offset: Any, fold: int) -> str:
    return text.fmt_datetime(moment)


def counts(change: Any) -> Markup:
    """Words added and removed, with their meaning for screen readers."""
    added, removed = int(change.words_added), int(change.words_removed)  # nothing to escape
    return Markup(
        f'<span class="counts"><span class="added" title="words added">+{added}</span> '
        f'<span class="removed" title="words removed">\u2212{removed}</span> '
        '<span class="visually-hidden">words added / removed</span></span>'
    )


def badges(categories: Sequence[str]) -> Markup:
    """Categories as a list of badges ("" when there are none)."""
    if not categories:
        return Markup("")
    items = "".join([f'<li class="badge">{_text(text.clean(c))}</li>' for c in categories])
    return Markup(f'<ul class="badges" aria-label="Categories">{items}</ul>')


def piece(p: Any) -> Markup:
    """One piece of a summary line: a link (http(s) only, checked again), code or text."""
    shown = escape(p.text)
    href = text.safe_url(p.href) if p.href else None
    if href:
        return Markup(
            f'<a href="{escape(href)}" rel="noopener noreferrer nofollow"><code>{shown}</code></a>'
        )
    return Markup(f"<code>{shown}</code>") if p.code else shown


def hunk_head(hunk: Hunk) -> Markup:
    """Where a folded passage starts, in the new text (and the old one if it differs)."""
    before = f" (line {hunk.old_line} before)" if hunk.old_line != hunk.new_line else ""
    return Markup(f'<p class="hunk-head">Line {int(hunk.new_line)}{before}</p>')


NO_DIFF = "<p>No text differs (the versions differ only in whitespace or markup).</p>\n"


def _shown(value: Any) -> str:
    """``value`` as a template prints it: a plain string cleaned (render._finalize), then
    escaped."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return text.escape_html(text.clean(value))
    return str(escape(value))


def diff(
    hunks: Sequence[Hunk], breaks: bool = False, lang: str | None = None, marks: bool = False
) -> Markup:
    """The hunks inline, each in its section after where it starts (:func:`ops_html` for
    ``breaks`` and ``marks``); a note when there are none."""
    if not hunks:
        return Markup(NO_DIFF)
    lang_attr = "" if lang is None else f' lang="{_shown(lang)}"'
    return Markup(
        "".join(
            f'<section class="hunk" aria-label="Changed passage {i}">\n{hunk_head(hunk)}\n'
            f'<div class="diff"{lang_attr}>{_ops(hunk.ops, breaks, marks)}</div>\n'
            "</section>\n"
            for i, hunk in enumerate(hunks, 1)
        )
    )


def side_by_side(hunks: Sequence[Hunk], lang: str) -> Markup:
    """The hunks side by side: a table per hunk, the old text left and the new right, in
    rows aligned on the lines both share (feeds/diffview.py)."""
    cell = f'<td class="diff" lang="{_shown(lang)}">'
    out = []
    for i, hunk in enumerate(hunks, 1):
        out.append(
            f'<section class="hunk" aria-label="Changed passage {i}, side by side">\n'
            f"{hunk_head(hunk)}\n"
            '<div class="scroll">\n<table class="sbs">\n'
            f'<thead><tr><th scope="col">Before (from line {_shown(hunk.old_line)})</th>'
            f'<th scope="col">After (from line {_shown(hunk.new_line)})</th></tr></thead>\n'
            "<tbody>\n"
        )
        for row in diffview.rows(hunk):
            changed = ' class="changed"' if row.changed else ""
            out.append(f"<tr{changed}>{cell}{_ops(row.old)}</td>{cell}{_ops(row.new)}</td></tr>\n")
        out.append("</tbody>\n</table>\n</div>\n</section>\n")
    return Markup("".join(out))


def summary_blocks(
    blocks: Sequence[Any], targets: Mapping[tuple[int, int], str] | None = None
) -> Markup:
    """A change's summary as a list: a term per block, a line per summary line (its
    pieces, :func:`piece`), and a link to the passage it names (``targets``: by block and
    line). Was a macro of _macros.html: the same HTML, without a Jinja call per piece."""
    if not blocks:
        return Markup("")
    targets = targets or {}
    out = ['<dl class="summary">\n']
    for b, block in enumerate(blocks):
        out.append(f"<dt>{_shown(block.label)}</dt>\n")
        for i, line in enumerate(block.lines):
            mark = f' class="mark-{_shown(line.mark)}"' if line.mark else ""
            shown = "".join([piece(p) for p in line.pieces])
            if (b, i) in targets:
                shown += (
                    f' <a class="to-passage" href="#{_shown(targets[(b, i)])}">see the passage</a>'
                )
            out.append(f"<dd{mark}>{shown}</dd>\n")
    out.append("</dl>\n")
    return Markup("".join(out))


def passage_list(items: Sequence[Any], lang: str, version: Any = None, root: str = "") -> Markup:
    """Passages (feeds/passages.py) as sections: where each starts (a link to that line of
    the archived ``version`` if there is one), then its rendered, sanitised HTML. Was a
    macro of _macros.html: the same HTML."""
    lang_attr = f' lang="{_shown(lang)}"' if lang else ""
    out = []
    for p in items:
        new_line, old_line = p.hunk.new_line, p.hunk.old_line
        line = _shown(new_line)
        if version:
            head = f'<a href="{_shown(root)}{_shown(version.path)}#L{line}">Line {line}</a>'
        else:
            head = f"Line {line}"
        if old_line != new_line:
            head += f" (line {_shown(old_line)} before)"
        out.append(
            f'<section class="hunk passage" id="{_shown(p.anchor)}"'
            f' aria-label="Changed passage at line {_shown(p.line)}">\n'
            f'<p class="hunk-head">{head}</p>\n'
            f'<div class="rendered"{lang_attr}>{_shown(p.html)}</div>\n'
            "</section>\n"
        )
    return Markup("".join(out))
