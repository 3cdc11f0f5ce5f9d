"""Which language a text is written in, from its most frequent short words. Pure, no I/O
beyond the package's lexicon (languages.toml).

A page served in another language than last time (a locale switch of the site, not an
edit of the policy) cannot be compared sentence by sentence: every sentence looks new.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from changes.lexicon import load
from changes.plain import words

__all__ = ["language_name", "text_language"]

_SHARE = 0.1  # common words of one language among all words, at least
_LEAD = 2.0  # and this many times those of any other language


@lru_cache(maxsize=256)
def text_language(text: str) -> str | None:
    """``"en"``, ``"fr"`` or ``"de"``, or None when the words do not say clearly.

    >>> text_language("We use the information you give us to provide our services.")
    'en'
    """
    found = [w.casefold() for w in words(text)]
    if not found:
        return None
    counts = Counter(found)
    common: dict[str, list[str]] = load("languages")["common"]
    scores = sorted(
        ((sum(counts[w] for w in ws), lang) for lang, ws in common.items()), reverse=True
    )
    (best, lang), (second, _) = scores[0], scores[1]
    if best >= _SHARE * len(found) and best >= _LEAD * second:
        return lang
    return None


def language_name(lang: str) -> str:
    """``"de"`` -> ``"German"`` (the code itself when the lexicon has no name)."""
    return str(load("languages")["name"].get(lang, lang))
