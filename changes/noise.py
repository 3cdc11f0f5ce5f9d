"""Page chrome set aside before a change is classified, by noise profile. Pure, no I/O
beyond the package's own lexicon (changes/lexicons/noise.toml)."""

from __future__ import annotations

import re
from functools import cache

from changes.lexicon import load
from changes.plain import plain, words

__all__ = ["DEFAULT_PROFILE", "is_chrome", "profiles", "without_chrome"]

DEFAULT_PROFILE = "default"


def profiles() -> tuple[str, ...]:
    """The profile names the lexicon defines."""
    return tuple(load("noise")["profile"])


@cache
def _patterns(profile: str) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    names = (DEFAULT_PROFILE,) if profile == DEFAULT_PROFILE else (DEFAULT_PROFILE, profile)
    table = load("noise")["profile"]
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ValueError(f"unknown noise profile {unknown[0]!r} (known: {', '.join(table)})")

    def joined(kind: str) -> re.Pattern[str] | None:
        exprs = [e for n in names for e in table[n].get(kind, [])]
        if not exprs:
            return None
        return re.compile("|".join(f"(?:{e})" for e in exprs), re.IGNORECASE)

    return joined("text"), joined("raw")


def is_chrome(line: str, profile: str = DEFAULT_PROFILE) -> bool:
    """Is ``line`` (Markdown) page chrome under ``profile``?

    >>> is_chrome("Return to top"), is_chrome("* [Contact Us](#contact)")
    (True, True)
    >>> is_chrome("We use your information to provide the service.")
    False
    """
    if not line.strip():
        return False
    text_pattern, raw_pattern = _patterns(profile)
    if raw_pattern is not None and raw_pattern.fullmatch(line):
        return True
    text = plain(line).strip().rstrip(".:")
    if not words(text):
        return False
    return text_pattern is not None and bool(text_pattern.fullmatch(text))


def without_chrome(text: str, profile: str = DEFAULT_PROFILE) -> str:
    """``text`` without its chrome lines."""
    return "\n".join(line for line in text.splitlines() if not is_chrome(line, profile))
