"""``ai``: a changed sentence speaks of AI, models or their training (lexicon:
changes/lexicons/ai.toml, read by changes/ai.py)."""

from __future__ import annotations

from changes.ai import new_ai_sentences
from changes.categories import Category, Edit, Finding, register, when_nothing_said
from changes.titles import shorten


def changed_ai_sentence(edit: Edit) -> Finding | None:
    """The first added or removed sentence about AI that is news, if there is one: not
    moved from elsewhere in the other text, nor reworded only in case, spelling or small
    words (changes/ai.py: new_ai_sentences).

    >>> edit = Edit("", "", ("We train AI models on public posts.",), (), "en")
    >>> found = changed_ai_sentence(edit)
    >>> found.summary
    {'ai': 'We train AI models on public posts.'}
    >>> found.phrase([])
    'AI text changed: “We train AI models on public posts.”'
    >>> found.phrase(["effective June 2, 2025"]) is None
    True
    """
    found = new_ai_sentences(edit.added, edit.removed, edit.old, edit.new, edit.language)
    if not found:
        return None
    phrase = f"AI text changed: \u201c{shorten(found[0])}\u201d"
    return Finding({"ai": shorten(found[0], 300)}, when_nothing_said(phrase))


AI = register(
    Category(
        "ai",
        "The change concerns artificial intelligence: training models, AI features, or the "
        "information used for them.",
        order=40,
        detect=changed_ai_sentence,
    )
)
