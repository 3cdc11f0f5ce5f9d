"""Page chrome set aside before a change is classified, by noise profile. Pure: the rules
are read through ``config.noise`` (one file per profile in ``config/profiles/``)."""

from __future__ import annotations

import re
from functools import cache

from changes.plain import plain, words
from config.noise import DEFAULT_PROFILE, NoiseProfile, load_profile, profile_names

__all__ = ["DEFAULT_PROFILE", "is_chrome", "profiles", "without_chrome"]

_Patterns = tuple[re.Pattern[str] | None, re.Pattern[str] | None]
# Items of one line set apart by a bar or a middle dot ("Effective July 26, 2022 | View
# printable version"), outside tables.
_SEPARATOR = re.compile(r"\s+[|·•]\s+")
# A footnote reference rendered after a link's text ("Learn more[21]"): not one of its words.
_FOOTNOTE = re.compile(r"\[\d{1,3}\]")


def profiles() -> tuple[str, ...]:
    """The profile names a document may use."""
    return profile_names()


def _patterns(profile: str) -> _Patterns:
    """The text and raw patterns of ``default`` plus ``profile`` (ValueError if unknown)."""
    names = (DEFAULT_PROFILE,) if profile == DEFAULT_PROFILE else (DEFAULT_PROFILE, profile)
    rules: list[NoiseProfile] = [load_profile(n) for n in names]
    return _joined(tuple(e for r in rules for e in r.text)), _joined(
        tuple(e for r in rules for e in r.raw)
    )


@cache
def _joined(exprs: tuple[str, ...]) -> re.Pattern[str] | None:
    if not exprs:
        return None
    return re.compile("|".join(f"(?:{e})" for e in exprs), re.IGNORECASE)


def _is_chrome(line: str, patterns: _Patterns) -> bool:
    if not line.strip():
        return False
    text_pattern, raw_pattern = patterns
    if raw_pattern is not None and raw_pattern.fullmatch(line):
        return True
    text = _FOOTNOTE.sub("", plain(line)).strip().rstrip(".:")
    if not words(text):
        return False
    return text_pattern is not None and bool(text_pattern.fullmatch(text))


def is_chrome(line: str, profile: str = DEFAULT_PROFILE) -> bool:
    """Is ``line`` (Markdown) page chrome under ``profile``?

    >>> is_chrome("Return to top"), is_chrome("* [Contact Us](#contact)")
    (True, True)
    >>> is_chrome("We use your information to provide the service.")
    False
    """
    return _is_chrome(line, _patterns(profile))


def without_chrome(text: str, profile: str = DEFAULT_PROFILE) -> str:
    """``text`` without its chrome lines, and without the chrome items of a line whose
    items are set apart by ``|`` or ``·`` (a table's rows aside).

    >>> without_chrome("Effective July 26, 2022 | [View printable version](/printable/)")
    'Effective July 26, 2022'
    """
    patterns = _patterns(profile)
    out = []
    for line in text.splitlines():
        if _is_chrome(line, patterns):
            continue
        if not line.lstrip().startswith("|") and _SEPARATOR.search(line):
            items = _SEPARATOR.split(line)
            kept = [item for item in items if not _is_chrome(item, patterns)]
            if len(kept) < len(items):
                line = " | ".join(kept)
        out.append(line)
    return "\n".join(out)
