"""Lexicons as data: TOML files in ``changes/lexicons/``, read once from the package.

A lexicon maps a concept (a legal basis, a kind of opt-out link) to regular expressions
per language. Its test sentences live beside it in ``<name>.tests.toml`` and run as a
parametrised test. Reading the package's own data is the only I/O in ``changes/``.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from importlib import resources
from typing import Any

from config.documents import language

__all__ = ["LANGS", "fold", "lang_of", "load", "patterns"]

#: Languages the lexicons cover.
LANGS: tuple[str, ...] = ("en", "fr", "de")

_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "\u00a0": " "})


@cache
def load(name: str) -> dict[str, Any]:
    """The parsed ``changes/lexicons/<name>.toml``."""
    text = resources.files("changes").joinpath("lexicons", f"{name}.toml").read_text("utf-8")
    return tomllib.loads(text)


def lang_of(lang: str | None) -> tuple[str, ...]:
    """The lexicon languages for ``lang`` (``"fr_FR"`` -> ``("fr",)``; unknown -> all)."""
    code = language(lang)
    return (code,) if code in LANGS else LANGS


def fold(text: str) -> str:
    """Text as lexicons match it: typographic apostrophes and NBSP made plain, one space."""
    return " ".join(text.translate(_QUOTES).split())


@cache
def patterns(
    name: str, table: str, key: str | None, langs: tuple[str, ...]
) -> re.Pattern[str] | None:
    """One case-insensitive pattern joining the expressions of ``[table.key]`` (or of
    ``[table]`` when ``key`` is None) for ``langs``; None if there are none."""
    entry = load(name).get(table, {})
    if key is not None:
        entry = entry.get(key, {})
    exprs = [e for lang in langs for e in entry.get(lang, [])]
    if not exprs:
        return None
    return re.compile("|".join(f"(?:{e})" for e in exprs), re.IGNORECASE)
