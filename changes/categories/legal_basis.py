"""``legal-basis``: a purpose gained or lost a GDPR legal basis, its processing steps
changed, or the bases the text states changed. Tables and lists are read by
changes/legalbasis.py, sentences by changes/prose_bases.py (lexicons legal_bases.toml and
prose_bases.toml); every claim is checked against both texts by changes/claims.py."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from changes.ai import about_ai
from changes.categories import Category, Edit, Finding, register
from changes.claims import (
    REORGANISED_AT,
    check_claims,
    check_steps,
    stated_bases_check,
    without_repeats,
)
from changes.legalbasis import basis_changes, legal_bases, short_label
from changes.prose_bases import prose_changes, prose_mentions
from changes.titles import shorten


def changed_bases(edit: Edit) -> Finding | None:
    """The checked basis changes per purpose (``bases``), processing steps (``processing``),
    what could not be compared (``bases_reorganised``, ``not_compared``), the bases the
    text states (``bases_stated``) and the bases stated in sentences (added to ``bases``)."""
    old, new, lang = edit.old, edit.new, edit.language
    added, removed = list(edit.added), list(edit.removed)
    summary: dict[str, Any] = {}
    old_bases, new_bases = legal_bases(old, lang), legal_bases(new, lang)
    bases = basis_changes(old_bases, new_bases)
    checked = check_claims(bases["purposes"], old_bases, new_bases, old, new, lang)
    purposes = ai_first(checked.purposes)
    if purposes:
        summary["bases"] = _basis_items(purposes)
    if checked.reorganised:
        summary["bases_reorganised"] = {"purposes": len(checked.unconfirmed)}
    steps, steps_unconfirmed = check_steps(bases["processing"], old, new)
    if steps_unconfirmed >= REORGANISED_AT and steps_unconfirmed > len(steps):
        steps = []  # the lists were re-laid out: no step can be compared
    if steps:
        summary["processing"] = steps
    if checked.unconfirmed and not checked.reorganised or steps_unconfirmed:
        summary["not_compared"] = {
            "purposes": len(checked.unconfirmed) if not checked.reorganised else 0,
            "steps": steps_unconfirmed,
            "reason": "the texts do not confirm these changes (moved, merged or re-laid out)",
        }
    stated_added, stated_removed = stated_bases_check(
        bases["bases_added"], bases["bases_removed"], old_bases, new_bases, old, new, lang
    )
    if stated_added or stated_removed:
        summary["bases_stated"] = {"added": stated_added, "removed": stated_removed}
    prose = without_repeats(prose_changes(added, removed, old, new, lang), summary.get("bases", []))
    if prose:
        summary["bases"] = [*summary.get("bases", []), *prose]
    applies = bool(
        bases["purposes"]
        or steps
        or bases["bases_added"]  # a basis newly named: the category, without a claim
        or bases["bases_removed"]
        or prose
        or prose_mentions(added, removed, lang)
    )
    if not summary and not applies:
        return None
    said = _phrase(purposes, summary)
    return Finding(summary, lambda _: said, applies)


def _phrase(purposes: list[dict[str, Any]], summary: dict[str, Any]) -> str | None:
    if purposes:
        return _basis_phrase(purposes)
    if summary.get("bases_reorganised"):
        n = summary["bases_reorganised"]["purposes"]
        return (
            f"legal-basis section reorganised: {n} purpose{'s' if n != 1 else ''} could not be"
            " compared"
        )
    if summary.get("processing"):
        return _processing_phrase(ai_first(summary["processing"]))
    if summary.get("bases_stated"):
        stated = summary["bases_stated"]
        if stated["added"]:
            return f"now states the legal basis {', '.join(stated['added'])}"
        return f"no longer states the legal basis {', '.join(stated['removed'])}"
    return None


def _basis_items(purposes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per purpose and basis, one item: ``{"action", "basis", "purpose"}`` (and ``"for"``,
    the people it applies to, when the policy says), the shape feeds/summary.py shows."""
    items = []
    for entry in purposes:
        for action in ("added", "removed"):
            for basis in entry[action]:
                item = {"action": action, "basis": basis, "purpose": entry["purpose"]}
                if entry.get("for"):
                    item["for"] = entry["for"]
                items.append(item)
    return items


def ai_first(entries: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entries about AI first (the reason policywatch exists), otherwise in text order."""

    def about(entry: dict[str, Any]) -> bool:
        texts = [entry["purpose"], *entry.get("added", []), *entry.get("removed", [])]
        return any(about_ai(str(t)) for t in texts)

    return sorted(entries, key=lambda entry: not about(entry))


def _audience_suffix(text: str | None) -> str:
    """`` for people over the age of majority`` when a row names whom it applies to.

    Meta splits some purposes by age: without it two titles would read the same.
    """
    if not text or text.lower().startswith("for all"):
        return ""
    plain = re.sub(r"\s*\([^)]*\)", "", text).strip().rstrip(".")
    return " " + shorten(plain[0].lower() + plain[1:], 60)


def _basis_phrase(entries: list[dict[str, Any]]) -> str:
    first = entries[0]
    name = f"\u2018{short_label(first['purpose'])}\u2019"
    if first["added"] and first["removed"]:
        phrase = f"{name} moved from {', '.join(first['removed'])} to {', '.join(first['added'])}"
    elif first["added"]:
        phrase = f"{name} now relies on {', '.join(first['added'])}"
    else:
        phrase = f"{name} no longer relies on {', '.join(first['removed'])}"
    phrase += _audience_suffix(first.get("for"))
    more = len(entries) - 1
    return phrase + (
        f" (and {more} more legal-basis change{'s' if more > 1 else ''})" if more else ""
    )


def _processing_phrase(entries: list[dict[str, Any]]) -> str:
    first = entries[0]
    purpose = f"\u2018{short_label(first['purpose'])}\u2019 ({', '.join(first['bases'])})"
    if first["added"]:
        phrase = f"\u2018{short_label(first['added'][0])}\u2019 added to {purpose}"
    else:
        phrase = f"\u2018{short_label(first['removed'][0])}\u2019 removed from {purpose}"
    more = sum(len(e["added"]) + len(e["removed"]) for e in entries) - 1
    return phrase + (
        f" (and {more} more processing change{'s' if more > 1 else ''})" if more else ""
    )


LEGAL_BASIS = register(
    Category(
        "legal-basis",
        "The page changed the legal basis it gives for a purpose (consent, legitimate "
        "interests, contract...): the basis decides which rights a person has, such as the "
        "right to object.",
        order=10,
        detect=changed_bases,
    )
)
