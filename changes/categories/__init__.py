"""The categories a change can carry: one module per category in this package, each
registering a :class:`Category` with :func:`register`; :func:`registered` finds them all.

A category found in text changes brings a *detector*: a pure function over the
:class:`Edit` (the two texts with page chrome and held blocks set aside, the sentences only in
each) that returns a :class:`Finding` or None. :func:`changes.classify.classify` runs every
detector in order; a finding adds its entries to the change's summary, the category to the
change, and offers a phrase to the title, which weighs it against what the categories
before it said (at most two phrases: a legal basis first, then an opt-out link, a date, AI).
A new category is one module here and, if its words are data, its lexicon in
changes/lexicons/ (see docs/ARCHITECTURE.md, "Adding a category").

``text`` has no detector: classify finds it (the words changed) and titles a change with
nothing else to say from the sentence that changed most. Categories of changes that are not
text diffs (``newsroom``, ``opt-out-health``, ``source-health``) are registered for their
names and descriptions; other modules make those changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Category",
    "Edit",
    "Finding",
    "describe",
    "names",
    "register",
    "registered",
    "unknown",
    "when_nothing_said",
]


@dataclass(frozen=True)
class Edit:
    """What a detector sees of one change of text."""

    old: str  # the old text, Markdown, page chrome and held blocks set aside
    new: str  # the new text, likewise
    added: tuple[str, ...]  # sentences (plain text) only in ``new``
    removed: tuple[str, ...]  # sentences (plain text) only in ``old``
    language: str  # "en", "fr", ... (the document's language)
    seen: str | None = None  # the day the new text was recorded (ISO), if known
    old_page: str = ""  # the old text as recorded, chrome included (a stated date may be there)
    new_page: str = ""  # the new text as recorded
    recent: tuple[str, ...] = ()  # texts the document showed recently, before ``old``


#: A title phrase, given the phrases already said (weightier categories come first); None
#: when this category has nothing to add after them.
Phrase = Callable[[Sequence[str]], str | None]


@dataclass(frozen=True)
class Finding:
    """What a detector found: summary entries, whether the change has the category, and
    the phrase it offers the title."""

    summary: Mapping[str, Any]  # JSON-able entries merged into the change's summary
    phrase: Phrase  # see :data:`Phrase`
    applies: bool = True  # False: summary entries only (e.g. a settings link moved)


def when_nothing_said(text: str) -> Phrase:
    """A phrase used only when no weightier category has said anything."""
    return lambda said: None if said else text


#: A detector: a pure function of one edit.
Detector = Callable[[Edit], Finding | None]


@dataclass(frozen=True)
class Category:
    """One category: its name (as feeds, URLs and sources.toml write it), what it means
    (shown on its feed's page), where titles and feeds list it (``order``, lowest first),
    and, for a category found in text diffs by its own rule, the ``detect`` function."""

    name: str
    description: str
    order: int
    detect: Detector | None = None
    text_diff: bool = True  # False: carried by changes that are not text diffs


_CATEGORIES: dict[str, Category] = {}


def register(category: Category) -> Category:
    """Register ``category`` (at a module's top level); two of one name are an error."""
    known = _CATEGORIES.get(category.name)
    if known is not None and known != category:
        raise ValueError(f"two categories are named {category.name!r}")
    _CATEGORIES[category.name] = category
    return category


_imported: list[bool] = []


def registered() -> tuple[Category, ...]:
    """Every category registered, in order (the first call imports each module of this
    package, which registers its category)."""
    if not _imported:
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        _imported.append(True)
    return tuple(sorted(_CATEGORIES.values(), key=lambda c: (c.order, c.name)))


def names() -> tuple[str, ...]:
    """The names of every category, in order."""
    return tuple(c.name for c in registered())


def describe(name: str) -> str:
    """What the category ``name`` means, or "" for a name no module registers."""
    return next((c.description for c in registered() if c.name == name), "")


def unknown(candidates: Any) -> list[str]:
    """The names among ``candidates`` that no category has."""
    known = set(names())
    return [c for c in candidates if c not in known]
