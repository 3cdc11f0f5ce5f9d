"""Readable plain text of Markdown fragments, as the classifiers match it (pure)."""

from __future__ import annotations

import re
from functools import lru_cache

from changes.lexicon import fold

__all__ = ["MD_LINK", "plain", "words"]

#: ``[text](target)`` or ``[text](target "title")`` (not an image), or an ``<https://...>``
#: autolink; groups ``text``, ``url``, ``auto``.
MD_LINK = re.compile(
    r"(?<!!)\[(?P<text>(?:\\.|[^\[\]\\])*)\]\((?P<url>[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)"
    r"(?:\s+\"[^\"]*\")?\)"
    r"|<(?P<auto>https?://[^<>\s]+)>",
)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)_(?=\S)|(?<=\S)_(?!\w)")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>])")
_LEAD = re.compile(r"^\s*(?:[*+-]|\d{1,3}[.)]|#{1,6})\s+")
_BREAK = re.compile(r"<br>")
#: Words: letters/digits with inner apostrophes or hyphens ("don't", "opt-out").
WORD_RE = re.compile(r"\w+(?:['’\-]\w+)*")


@lru_cache(maxsize=1 << 16)  # policies repeat most lines from one version to the next
def plain(markdown: str) -> str:
    """``markdown`` as one line of text: links become their text, images their alt text,
    emphasis and escapes go, a leading list marker or ``#`` goes, ``<br>`` is a space.

    >>> plain("* **Develop** [AI at Meta](https://www.facebook.com/privacy/genai)\\\\[3\\\\]")
    'Develop AI at Meta[3]'
    """

    def text(m: re.Match[str]) -> str:
        return m.group("text") if m.group("auto") is None else m.group("auto")

    out = _IMAGE.sub(r"\1", markdown)
    out = MD_LINK.sub(text, out)
    out = _ESCAPE.sub(r"\1", _EMPHASIS.sub("", out))
    out = _BREAK.sub(" ", out)
    return fold(_LEAD.sub("", out))


def words(text: str) -> list[str]:
    """The words of ``text`` (letters/digits, inner apostrophes and hyphens kept)."""
    return WORD_RE.findall(text)
