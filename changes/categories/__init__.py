"""The categories a change can carry: one module per category in this package, each
registering a :class:`Category` with :func:`register`; :func:`registered` finds them all.

A category found in a text diff may bring a *detector*: a pure function over the
:class:`Edit` (the two texts with page chrome and held blocks set aside, the sentences only in
each) that returns a :class:`Finding` or None. :func:`changes.classify.classify` runs every
detector; a finding adds the category, stores its ``summary`` under the category's
``summary_key`` and offers its ``phrase`` as the title when nothing weightier (a legal basis,
an opt-out link, a date) was said. A new category is one module here and, if its words
are data, its lexicon in changes/lexicons/ (see docs/ARCHITECTURE.md, "Adding a category").

Four categories have no detector: ``text``, ``legal-basis``, ``opt-out`` and ``dates`` are
found by classify itself, because their titles are weighed against each other. Categories
of changes that are not text diffs (``newsroom``, ``opt-out-health``, ``source-health``)
are registered for their names and descriptions; other modules make those changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
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
]


@dataclass(frozen=True)
class Edit:
    """What a detector sees of one change of text."""

    old: str  # the old text, Markdown, chrome and held blocks set aside
    new: str  # the new text, likewise
    added: tuple[str, ...]  # sentences (plain text) only in ``new``
    removed: tuple[str, ...]  # sentences (plain text) only in ``old``
    language: str  # "en", "fr", ... (the document's language)
    seen: str | None = None  # the day the new text was recorded (ISO), if known


@dataclass(frozen=True)
class Finding:
    """What a detector found: stored in the change's summary, and a title phrase."""

    summary: Any  # JSON-able; stored under the category's ``summary_key``
    phrase: str  # e.g. "AI text changed: “…”", used when no weightier phrase is said


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
    summary_key: str = ""  # defaults to the name
    text_diff: bool = True  # False: carried by changes that are not text diffs

    @property
    def key(self) -> str:
        return self.summary_key or self.name


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
