"""``dates``: the stated effective date moved (or another date the page states as one, such
as a second policy's "Last updated"), an update notice with a date came or went, or a
deadline next to objection text changed (changes/dates.py, lexicon
changes/lexicons/dates.toml)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from changes.categories import Category, Edit, Finding, register
from changes.dates import date_changes
from changes.titles import shorten


def changed_dates(edit: Edit) -> Finding | None:
    """The date changes of the texts as recorded (a date in a banner counts too)."""
    found = date_changes(edit.old_page, edit.new_page, edit.language)
    if not found:
        return None
    return Finding(found, lambda said: date_phrase(found, said))


def date_phrase(found: dict[str, Any], said: Sequence[str]) -> str | None:
    """After a weightier phrase, only the new date; alone, the move, or the notice."""
    date, announced = found.get("date"), found.get("announced")
    if date and len(said) < 2:
        if said:
            return f"effective {date['to']}"
        if date["from"]:
            return f"effective date moved from {date['from']} to {date['to']}"
        return f"now states the date {date['to']}"
    if announced and len(said) < 2 and not date:
        action = "added" if announced["added"] else "removed"
        note = announced[action][0]
        return f"update notice \u2018{shorten(note['sentence'], 90)}\u2019 {action}"
    other = found.get("other_date")
    if other and not said and not announced:
        return f"a date stated further down moved from {other['from']} to {other['to']}"
    if found.get("deadlines") and not said:
        return "a deadline next to the objection text changed"
    return None


DATES = register(
    Category(
        "dates",
        "The page states a new date: when the policy takes effect, or when a change will start.",
        order=30,
        detect=changed_dates,
    )
)
