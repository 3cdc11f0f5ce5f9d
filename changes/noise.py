"""Page chrome set aside before a change is classified, by noise profile. Pure: the rules
are read through ``config.noise`` (one file per profile in ``config/profiles/``)."""

from __future__ import annotations

import re
from functools import cache

from changes.optout import optout_links
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
    items are set apart by ``|`` or ``·`` (a table's rows aside). Chrome by its place, too:
    short items between two chrome lines (a help centre's suggested questions between
    "Copy link" and "I have a different question", links to other pages between a menu
    and "Back to top"), and a table of contents written as
    plain lines (``MIN_CONTENTS`` or more short lines in a row, each a heading found again
    further down).

    >>> without_chrome("Effective July 26, 2022 | [View printable version](/printable/)")
    'Effective July 26, 2022'
    """
    patterns = _patterns(profile)
    lines = text.splitlines()
    chrome = [_is_chrome(line, patterns) for line in lines]
    _mark_between(lines, chrome)
    _mark_contents(lines, chrome)
    _mark_between(lines, chrome)  # a menu between a table of contents and other chrome
    out = []
    for line, is_chrome_line in zip(lines, chrome, strict=True):
        if is_chrome_line:
            continue
        if not line.lstrip().startswith("|") and _SEPARATOR.search(line):
            items = _SEPARATOR.split(line)
            kept = [item for item in items if not _is_chrome(item, patterns)]
            if len(kept) < len(items):
                line = " | ".join(kept)
        out.append(line)
    return "\n".join(out)


#: An item of a menu or a table of contents: a short line that is not a sentence (and
#: names no number: "Last updated: 30 November 2025" between a title and a menu is news).
ITEM_WORDS = 12
#: Items between two chrome lines: at most this many.
MAX_BETWEEN = 8
#: A table of contents in plain lines: at least this many headings in a row.
MIN_CONTENTS = 3
_CONTENTS_WORDS = 20


def _item(line: str, most: int = ITEM_WORDS) -> bool:
    """A short line that is not a sentence and names no number or date."""
    text = plain(line).strip()
    if any(c.isdigit() for c in text) or text.endswith((".", ";", ":", ",")):
        return False
    return 0 < len(words(text)) <= most


def _runs(lines: list[str], chrome: list[bool]) -> list[list[int]]:
    """The non-blank lines that are not chrome, in runs of neighbours (blank lines
    between them aside), each with the chrome (or nothing) around it."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if chrome[i]:
            if current:
                runs.append(current)
            current = []
            continue
        current.append(i)
    if current:
        runs.append(current)
    return runs


def _mark_between(lines: list[str], chrome: list[bool]) -> None:
    """Short items with a chrome line right before and right after them are chrome, unless
    one is an objection, opt-out, consent or settings link (changes/optout.py)."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    place = {i: k for k, i in enumerate(filled)}
    for run in _runs(lines, chrome):
        before, after = place[run[0]] - 1, place[run[-1]] + 1
        if before < 0 or after >= len(filled) or len(run) > MAX_BETWEEN:
            continue
        if run[-1] - run[0] != filled[after - 1] - filled[before + 1]:
            continue
        if (
            chrome[filled[before]]
            and chrome[filled[after]]
            and all(_item(lines[i]) and not optout_links(lines[i], "") for i in run)
        ):
            for i in run:
                chrome[i] = True


def _mark_contents(lines: list[str], chrome: list[bool]) -> None:
    """Runs of ``MIN_CONTENTS`` or more short lines, each found again as a line further
    down that is not a bulleted item (a heading), are a table of contents. A list of
    processing steps repeated further down (a purpose listed for two audiences) is not."""
    keys = [_key(line) for line in lines]
    seen_after: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key and not _BULLETED.match(lines[i]):
            seen_after[key] = i  # the last heading-like line with these words
    streak: list[int] = []
    for i, line in enumerate(lines + [""]):
        if i < len(lines) and not line.strip():
            continue
        ok = (
            i < len(lines)
            and not chrome[i]
            and _item(line, _CONTENTS_WORDS)
            and seen_after.get(keys[i], i) > i
        )
        if ok:
            streak.append(i)
            continue
        if len(streak) >= MIN_CONTENTS:
            for j in streak:
                chrome[j] = True
        streak = []


_BULLETED = re.compile(r"^\s*[*+•-]\s+")


def _key(line: str) -> str:
    return " ".join(words(plain(line).casefold()))
