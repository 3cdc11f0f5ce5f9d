"""Markdown to HTML with markdown-it's exact output, its plain paragraphs done without it.

A change page renders each passage's Markdown (feeds/passages.py), and markdown-it's
parser and renderer were a third of the page's CPU. Most paragraphs of a policy are prose
that no Markdown rule touches, and markdown-it renders such a paragraph as
``<p>`` + its text HTML-escaped (``escapeHtml``: ``&<>"``) + ``</p>\\n``. Those are built
here directly; markdown-it renders only the rest (the whole text if it is all the rest),
so the HTML is byte for byte markdown-it's (tests/test_prose.py checks it on random and
hostile Markdown). What follows is sanitised by nh3 as before: nothing here decides
what is safe.

A *plain* paragraph is a run of non-blank lines between blank lines (or the ends of the
text), each line starting with a letter or one of the private-use marks of passages.py
(U+E000-U+E004: markdown-it sees a plain character), ending with a character that is not
whitespace, and holding no character that can start an inline rule of markdown-it (its
terminators: ``\\n!#$%&*+-:<=>@[\\]^_`{}~``), no ``|`` (tables) and no control character
(tab, CR, NUL). Such lines can neither start nor end any block but a paragraph, nor hold
an inline construct: markdown-it makes one paragraph of them, one text token per line
joined by soft breaks, nothing trimmed. Whether a paragraph stands on its own in the
document (not inside a fenced code block opened earlier, say) is left to markdown-it:
it renders the document with each plain paragraph replaced by a placeholder paragraph,
and the placeholder must come back as a paragraph of its own, else the whole document
is rendered by markdown-it as before.
"""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

_INLINE = re.escape("\n!#$%&*+-:<=>@[\\]^_`{}~|")
_LINE = rf"(?:[^\W\d_]|[\ue000-\ue004])[^{_INLINE}\x00-\x1f\x7f]*(?<!\s)"
_PLAIN = re.compile(rf"{_LINE}(?:\n{_LINE})*")
_HOLE = "\ue006"  # placeholders: never in the Markdown (checked), so never confused


def _escape(text: str) -> str:
    """markdown-it's ``escapeHtml``: ``&``, ``<``, ``>`` and ``"``, not ``'``."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text


def paragraph(text: str) -> str:
    """A plain paragraph (:func:`is_plain`) as markdown-it renders it."""
    return f"<p>{_escape(text)}</p>\n"


def is_plain(text: str) -> bool:
    """True if ``text`` (no blank line inside) is a paragraph markdown-it renders as
    :func:`paragraph` does, wherever it stands on its own."""
    return _PLAIN.fullmatch(text) is not None


def render(md: MarkdownIt, source: str) -> str:
    """``md.render(source)``, the plain paragraphs of ``source`` built here. ``md`` must be
    markdown-it's CommonMark preset with raw HTML off and tables on (passages.py's),
    without linkify, typographer or breaks."""
    if _HOLE in source or "\r" in source or "\x00" in source:
        return md.render(source)
    lines = source.split("\n")
    skeleton: list[str] = []  # the lines markdown-it renders, plain paragraphs as holes
    filled: list[str] = []  # the HTML of each hole
    run: list[str] = []  # the current run of non-blank lines
    rest = False  # a run that is not a plain paragraph was seen

    def end_run() -> None:
        nonlocal rest
        text = "\n".join(run)
        if is_plain(text):
            skeleton.append(f"{_HOLE}{len(filled)}{_HOLE}")
            filled.append(paragraph(text))
        else:
            skeleton.extend(run)
            rest = True
        run.clear()

    for line in lines:
        if line.strip(" \t"):
            run.append(line)
            continue
        if run:
            end_run()
        skeleton.append(line)
    if run:
        end_run()
    if not filled:
        return md.render(source)
    if not rest:  # nothing but plain paragraphs and blank lines
        return "".join(filled)
    rendered = md.render("\n".join(skeleton))
    parts = rendered.split(f"<p>{_HOLE}")
    if len(parts) != len(filled) + 1:
        return md.render(source)
    out = [parts[0]]
    for n, part in enumerate(parts[1:]):
        head = f"{n}{_HOLE}</p>\n"
        if not part.startswith(head):
            return md.render(source)
        out += (filled[n], part[len(head) :])
    return "".join(out)
