"""``ai``: a changed sentence speaks of AI, models or their training (lexicon:
changes/lexicons/ai.toml, read by changes/ai.py)."""

from __future__ import annotations

from changes.ai import ai_sentences
from changes.categories import Category, Edit, Finding, register, when_nothing_said
from changes.titles import shorten


def changed_ai_sentence(edit: Edit) -> Finding | None:
    """The first added or removed sentence about AI, if there is one.

    >>> edit = Edit("", "", ("We train AI models on public posts.",), (), "en")
    >>> found = changed_ai_sentence(edit)
    >>> found.summary
    {'ai': 'We train AI models on public posts.'}
    >>> found.phrase([])
    'AI text changed: “We train AI models on public posts.”'
    >>> found.phrase(["effective June 2, 2025"]) is None
    True
    """
    found = ai_sentences([*edit.added, *edit.removed], edit.language, limit=1)
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
