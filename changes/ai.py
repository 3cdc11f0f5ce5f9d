"""Is a sentence about AI and the training of AI models? (lexicon: changes/lexicons/ai.toml)"""

from __future__ import annotations

from collections.abc import Iterable

from changes.lexicon import fold, lang_of, patterns
from changes.plain import plain

__all__ = ["about_ai", "ai_sentences"]


def about_ai(sentence: str, lang: str = "en") -> bool:
    """Does ``sentence`` (Markdown or plain) speak of AI at Meta, generative AI, models or
    their training?

    >>> about_ai("Develop and improve [AI at Meta](https://www.facebook.com/privacy/genai).")
    True
    """
    pattern = patterns("ai", "terms", None, lang_of(lang))
    return bool(pattern and pattern.search(fold(plain(sentence))))


def ai_sentences(sentences: Iterable[str], lang: str = "en", limit: int = 3) -> list[str]:
    """The first ``limit`` of ``sentences`` that are about AI, as plain text."""
    out: list[str] = []
    for sentence in sentences:
        if len(out) >= limit:
            break
        if about_ai(sentence, lang):
            out.append(plain(sentence))
    return out
