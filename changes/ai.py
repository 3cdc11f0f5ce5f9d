"""Is a sentence about AI and the training of AI models? (lexicon: changes/lexicons/ai.toml)"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from changes.lexicon import fold, lang_of, load, patterns
from changes.plain import plain

__all__ = ["about_ai", "ai_sentences", "new_ai_sentences"]


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


def new_ai_sentences(
    added: Sequence[str],
    removed: Sequence[str],
    old: str,
    new: str,
    lang: str = "en",
    limit: int = 1,
) -> list[str]:
    """The first ``limit`` sentences about AI, added (only in ``new``) then removed (only in
    ``old``), that say something the other text does not: not moved (its words, in order,
    are in the other text) nor reworded in case, spelling or small words (ai.toml
    ``[reword]``) from a changed sentence on the other side.

    >>> new_ai_sentences(["We have added details on how we train AI models."],
    ...                  ["We added details on how we train AI models."], "", "")
    []
    >>> new_ai_sentences(["We will not train AI models on your posts."],
    ...                  ["We will train AI models on your posts."], "", "")
    ['We will not train AI models on your posts.']
    """
    langs = lang_of(lang)
    out: list[str] = []
    for these, others, other_text in ((added, removed, old), (removed, added, new)):
        theirs: set[tuple[str, ...]] | None = None
        said: str | None = None
        for sentence in ai_sentences(these, lang, limit=len(these)):
            if len(out) >= limit:
                return out
            if theirs is None:
                theirs = {_gist(o, langs) for o in others}
            if _gist(sentence, langs) in theirs:
                continue
            said = said if said is not None else _joined(plain(other_text))
            if _joined(sentence) in said:
                continue
            out.append(sentence)
    return out


def _joined(text: str) -> str:
    return " " + " ".join(re.findall(r"\w+", text.casefold())) + " "


def _gist(sentence: str, langs: tuple[str, ...]) -> tuple[str, ...]:
    """A sentence's words, case, British/American spelling and small words set aside."""
    small = load("ai").get("reword", {}).get("ignore", {})
    ignore = {w for lang in langs for w in small.get(lang, [])}
    out = []
    for word in re.findall(r"\w+", plain(sentence).casefold()):
        if word in ignore:
            continue
        word = re.sub(r"(?<=\w{3})is(e|es|ed|ing|ation|ations)$", r"iz\1", word)
        out.append(re.sub(r"(?<=\w{3})our(s|ed|ing)?$", r"or\1", word))
    return tuple(out)
