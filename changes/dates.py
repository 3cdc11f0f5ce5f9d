"""Dates a document states: when it takes effect or was last revised, and deadlines given
next to an objection or opt-out (EN/FR/DE). Pure functions, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from changes.lexicon import LANGS, fold, lang_of, patterns
from changes.plain import plain

__all__ = [
    "Announcement",
    "Deadline",
    "announcements",
    "date_changes",
    "deadlines",
    "iso_date",
    "stated_date",
]

_MONTHS_EN = "January|February|March|April|May|June|July|August|September|October|November|December"
_ABBR_EN = "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
_MONTHS_FR = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
_MONTHS_DE = "Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"

# "June 26, 2024" | "26 June 2024" | "4 January, 2022" | "4 janvier 2022" | "26. Juni 2024"
_DATE_EN = (
    rf"(?:(?:{_MONTHS_EN}|(?:{_ABBR_EN})\.?)\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS_EN}),?\s+\d{{4}})"
)
_DATE_FR = rf"\d{{1,2}}(?:er)?\s+(?:{_MONTHS_FR})\s+\d{{4}}"
_DATE_DE = rf"\d{{1,2}}\.\s*(?:{_MONTHS_DE})\s+\d{{4}}"
_ANY_DATE = re.compile(rf"(?<!\w)(?:{_DATE_EN}|{_DATE_FR}|{_DATE_DE})(?!\w)", re.I)

_PATTERNS = (
    re.compile(
        rf"(?<![^\W_])(?:Effective(?: from| date)?|Last (?:revised|updated|modified)"
        rf"|Date of last revision|(?<![\w ])Revised(?=:)|(?<![\w ])Updated(?= on\b))"
        rf"(?: on| as of)?[*_]*:?[*_]*\s+[*_]*({_DATE_EN})",
        re.I,
    ),
    re.compile(
        rf"(?:Date de la dernière (?:révision|mise à jour)|Dernière mise à jour"
        rf"|En vigueur (?:à compter )?du|Entrée en vigueur\s*:)"
        rf"[*_]*\s*:?[*_]*\s*[*_]*({_DATE_FR})",
        re.I,
    ),
    re.compile(
        rf"(?:Gültig ab|Zuletzt (?:aktualisiert|überarbeitet)(?: am)?"
        rf"|Datum der letzten Überarbeitung|Datum des Inkrafttretens)"
        rf"[*_]*\s*:?[*_]*\s*[*_]*({_DATE_DE})",
        re.I,
    ),
)
_WINDOW = 20_000
_MONTH_NUMBER = {
    m.casefold(): i + 1
    for months in (_MONTHS_EN, _MONTHS_FR, _MONTHS_DE)
    for i, m in enumerate(months.split("|"))
} | {m.casefold(): i + 1 for i, m in enumerate(_ABBR_EN.replace("|Sept", "").split("|")) if i < 4}
_MONTH_NUMBER |= {"jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11}
_MONTH_NUMBER |= {"dec": 12, "1er": 1}
# A sentence: up to . ! ? or a line end, but "26. Juni 2024" does not end one.
_SENTENCE = re.compile(
    rf"(?:\b\d{{1,2}}\.(?=\s*(?:{_MONTHS_DE})\b)|[^.!?\n])*(?:[.!?](?=\s|$)|\n|$)", re.I
)


def stated_date(text: str) -> str | None:
    """The effective/last-revised date ``text`` states, as written, or None.

    Policies state it at the top (Facebook, WhatsApp) or at the bottom (the 2022 French
    Facebook policy); the top wins.

    >>> stated_date("What is the Privacy Policy?\\n\\nEffective June 26, 2024\\n")
    'June 26, 2024'
    >>> stated_date("Last updated: _30 November 2025_")
    '30 November 2025'
    >>> stated_date("_Last updated: October 1, 2024_")
    'October 1, 2024'
    >>> stated_date("Date de la dernière mise à jour\\u00a0: 4\\u00a0janvier\\u00a02022")
    '4 janvier 2022'
    """
    for part in (text[:_WINDOW], text[-_WINDOW:]):
        for pattern in _PATTERNS:
            match = pattern.search(part)
            if match:
                return " ".join(match.group(1).split())
    return None


def stated_dates(text: str) -> list[str]:
    """Every date ``text`` states as an effective or last-revised date, as written, in
    order (a page may carry more than one policy: TikTok's EEA policy and, below it, a
    children's policy "Last updated: January 1, 2024").

    >>> stated_dates("Effective May 1, 2025\\n\\nKids\\n\\nLast updated: January 1, 2024")
    ['May 1, 2025', 'January 1, 2024']
    """
    found = [(m.start(), " ".join(m.group(1).split())) for p in _PATTERNS for m in p.finditer(text)]
    return [written for _, written in sorted(found)]


def iso_date(written: str | None) -> str | None:
    """``"June 26, 2024"``, ``"26 juin 2024"`` or ``"26. Juni 2024"`` as ``"2024-06-26"``."""
    if not written:
        return None
    parts = re.findall(r"\d+|[^\W\d]+", re.sub(r"(?<=\d)(?:st|nd|rd|th|er)\b", "", written))
    numbers = [int(p) for p in parts if p.isdigit()]
    months = [_MONTH_NUMBER[p.casefold()] for p in parts if p.casefold() in _MONTH_NUMBER]
    if len(numbers) != 2 or len(months) != 1:
        return None
    day, year = (numbers[0], numbers[1]) if numbers[1] > 31 else (numbers[1], numbers[0])
    return f"{year:04d}-{months[0]:02d}-{day:02d}"


@dataclass(frozen=True)
class Deadline:
    """A date written in the same sentence as an objection or opt-out."""

    date: str  # as written
    context: str  # the sentence


def deadlines(text: str, lang: str = "en") -> list[Deadline]:
    """Dates stated next to objection or opt-out words ("object before June 26, 2024").

    >>> deadlines("You can object to this until 26 June 2024. Effective May 1, 2024.")
    [Deadline(date='26 June 2024', context='You can object to this until 26 June 2024.')]
    """
    langs = lang_of(lang)
    words = [p for k in ("objection", "opt-out") if (p := patterns("optout", "text", k, langs))]
    out: list[Deadline] = []
    for line in text.splitlines():
        if not _ANY_DATE.search(line):
            continue
        for sentence in _SENTENCE.findall(plain(line)):
            folded = fold(sentence)
            if not any(p.search(folded) for p in words):
                continue
            for m in _ANY_DATE.finditer(folded):
                found = Deadline(" ".join(m.group(0).split()), folded.strip())
                if found not in out:
                    out.append(found)
    return out


def _every_language(lang: str) -> tuple[str, ...]:
    first = lang_of(lang)
    return first + tuple(code for code in LANGS if code not in first)


@dataclass(frozen=True)
class Announcement:
    """An update notice with the date it names ("The updates go into effect on ...")."""

    date: str  # as written
    iso: str | None  # YYYY-MM-DD when it can be read
    sentence: str


def announcements(text: str, lang: str = "en") -> list[Announcement]:
    """Update notices that name a date: the date is announced, not (yet) the stated one.

    >>> text = "We're updating our Terms. The updates go into effect on April 7, 2025."
    >>> [(a.iso, a.sentence) for a in announcements(text)]
    [('2025-04-07', 'The updates go into effect on April 7, 2025.')]
    """
    # every language's notices: a page is sometimes shown in another language than its
    # locale's (TikTok's EEA policy in German, 2022)
    notice = patterns("dates", "notice", None, _every_language(lang))
    if notice is None:
        return []
    out: list[Announcement] = []
    for line in text.splitlines():
        if not _ANY_DATE.search(line):
            continue
        for sentence in _SENTENCE.findall(plain(line)):
            folded = fold(sentence).strip()
            if not notice.search(folded):
                continue
            m = _ANY_DATE.search(folded)
            if m:
                written = " ".join(m.group(0).split())
                found = Announcement(written, iso_date(written), folded)
                if found not in out:
                    out.append(found)
    return out


def _other_date_moved(old: str, new: str) -> dict[str, str] | None:
    """Another stated date replaced by a new one (the first stated date unchanged): a
    second policy on the page revised ("Last updated: January 1, 2023" -> "January 1,
    2024"). A date only added or only removed is not a move."""
    before = {iso_date(d): d for d in stated_dates(old)}
    after = {iso_date(d): d for d in stated_dates(new)}
    gone = [d for iso, d in before.items() if iso not in after]
    came = [d for iso, d in after.items() if iso not in before]
    if gone and came:
        return {"from": gone[0], "to": came[0]}
    return None


def date_changes(old: str, new: str, lang: str = "en") -> dict[str, object]:
    """The stated date moved (``date``), another stated date moved (``other_date``),
    deadlines added or removed (``deadlines``) and update notices with a date added or
    removed (``announced``)."""
    out: dict[str, object] = {}
    before_notes = {a.sentence: a for a in announcements(old, lang)}
    after_notes = {a.sentence: a for a in announcements(new, lang)}
    came = [a for s, a in after_notes.items() if s not in before_notes]
    went = [a for s, a in before_notes.items() if s not in after_notes]
    if came or went:
        out["announced"] = {
            "added": [{"date": a.date, "iso": a.iso, "sentence": a.sentence} for a in came],
            "removed": [{"date": a.date, "iso": a.iso, "sentence": a.sentence} for a in went],
        }
    before, after = stated_date(old), stated_date(new)
    same_day = before and after and iso_date(before) == iso_date(after) is not None
    if before != after and after and not same_day:
        out["date"] = {"from": before, "to": after}
    else:
        moved = _other_date_moved(old, new)
        if moved:
            out["other_date"] = moved
    old_deadlines = {d.date: d for d in deadlines(old, lang)}
    new_deadlines = {d.date: d for d in deadlines(new, lang)}
    added = [{"date": d, "context": new_deadlines[d].context} for d in new_deadlines]
    removed = [{"date": d, "context": old_deadlines[d].context} for d in old_deadlines]
    added = [a for a in added if a["date"] not in old_deadlines]
    removed = [r for r in removed if r["date"] not in new_deadlines]
    if added or removed:
        out["deadlines"] = {"added": added, "removed": removed}
    return out
