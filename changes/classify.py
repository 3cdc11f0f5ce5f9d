"""What a change means: its title, categories, structured summary and whether it alerts.

One pure call over two texts (and the texts the document showed recently):

- ``legal-basis``: a purpose gained or lost a GDPR legal basis, or its processing steps
  changed, or the bases the text states changed (changes/legalbasis.py);
- ``opt-out``: an objection / opt-out / consent / settings link was added, removed or
  retargeted (changes/optout.py);
- ``dates``: the stated effective date moved, or a deadline next to objection text changed
  (changes/dates.py);
- ``text``: the words changed at all;
- and every category with a detector in changes/categories/ (``ai``: a changed sentence
  speaks of AI at Meta, generative AI, models or training).

No alert (``alert`` False, the reason in ``summary["no_alert"]``) when the words are the
same once link targets are set aside (rotating tokens, a renumbered anchor) and no opt-out
link moved; when the text returns to one the document showed recently (a page flipping
A -> B -> A raises one alert, not three); and when the only change is a partial render
vanishing or coming back (changes/partial.py), whose blocks are held, never reported as
removed.

Summary keys follow feeds/summary.py: ``bases`` (``action``, ``basis``, ``purpose``),
``links`` (``added``, ``removed``, ``retargeted``), ``date`` (``from``, ``to``), ``ai`` (a
changed sentence about AI); and ``processing``, ``bases_stated``, ``deadlines``, ``held``,
``restored``, ``no_alert``, ``words_added``, ``words_removed``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from changes.ai import about_ai
from changes.categories import Edit, registered
from changes.claims import (
    REORGANISED_AT,
    check_claims,
    check_steps,
    stated_bases_check,
    without_repeats,
)
from changes.dates import date_changes, iso_date, stated_date
from changes.languages import language_name, text_language
from changes.legalbasis import basis_changes, legal_bases, short_label
from changes.noise import DEFAULT_PROFILE, without_chrome
from changes.optout import link_changes, optout_links
from changes.partial import Blocks, line_ops, restored, vanished
from changes.plain import plain, words
from changes.prose_bases import prose_changes, prose_mentions
from changes.titles import TITLE_LIMIT, edit_phrase, shorten

__all__ = ["CATEGORIES", "Classification", "Earlier", "classify", "same_words"]

#: Categories a change of text can have, in the order titles and feeds list them (those
#: registered in changes/categories/ when this module was imported).
CATEGORIES: tuple[str, ...] = tuple(c.name for c in registered() if c.text_diff)

# A sentence ends at . ! ? followed by a space, but "27. Mai 2025" does not end one.
_SENTENCE = re.compile(
    r"(?:\b\d{1,2}\.(?=\s*(?:Januar|Februar|März|April|Mai|Juni|Juli|August|September"
    r"|Oktober|November|Dezember)\b)|[^.!?])+(?:[.!?]+(?=\s|$)|$)"
)
# Settings links are listed in the summary, but only these kinds make a change "opt-out":
# settings and help pages are renamed and moved often, objection forms rarely.
_ALERTING_LINKS = frozenset({"objection", "opt-out", "consent", "form"})


@dataclass(frozen=True)
class Earlier:
    """A text the document showed recently (before the change's old text), and when."""

    text: str
    seen: str  # when it was last seen, as a reader should read it ("2024-05-21")


@dataclass(frozen=True)
class Classification:
    """A change's headline, categories, summary and whether subscribers hear of it."""

    title: str
    categories: list[str]
    summary: dict[str, Any] = field(default_factory=dict)
    alert: bool = True


def classify(
    old: str,
    new: str,
    *,
    document: str,
    lang: str = "en",
    words_added: int = 0,
    words_removed: int = 0,
    recent: Sequence[Earlier] = (),
    profile: str = DEFAULT_PROFILE,
    seen: str | None = None,
) -> Classification:
    """Classify the change from ``old`` to ``new`` of the document titled ``document``.

    ``words_added``/``words_removed`` come from the stored diff (it is computed once,
    elsewhere); ``recent`` are texts the document showed before ``old`` within the
    flapping window, newest first. ``seen`` is the day (ISO) the new text was recorded: a
    text stating a date after it announces what it says.

    >>> old, new = "Effective May 1, 2025\\n\\nHi.\\n", "Effective June 2, 2025\\n\\nHi.\\n"
    >>> c = classify(old, new, document="Policy")
    >>> c.title, c.categories, c.alert
    ('Policy: effective date moved from May 1, 2025 to June 2, 2025', ['text', 'dates'], True)
    """
    summary: dict[str, Any] = {"words_added": words_added, "words_removed": words_removed}
    switch = _language_switch(old, new)
    if switch:
        summary["no_alert"] = (
            f"the page is shown in {switch[1]} instead of {switch[0]}: a locale switch, "
            "its sentences cannot be compared"
        )
        return Classification(
            f"{document}: now shown in {switch[1]} instead of {switch[0]}", ["text"], summary, False
        )
    old_lines, new_lines = old.splitlines(), new.splitlines()
    ops = line_ops(old_lines, new_lines)
    held = vanished(old_lines, new_lines, ops)
    back = restored(old_lines, new_lines, ops, [r.text.splitlines() for r in recent])
    if held:
        summary["held"] = {
            "reason": "partial render: whole blocks vanished at once; not reported as removed",
            "words": held.words,
            "blocks": held.count,
        }
    if back:
        summary["restored"] = {
            "reason": "blocks the document showed recently came back",
            "words": back.words,
            "blocks": back.count,
        }
    old_eff = without_chrome(_without(old_lines, held), profile)
    new_eff = without_chrome(_without(new_lines, back), profile)

    categories: list[str] = []
    added, removed = _changed_sentences(old_eff, new_eff)
    if _words_of(old_eff) != _words_of(new_eff):
        categories.append("text")

    old_bases, new_bases = legal_bases(old_eff, lang), legal_bases(new_eff, lang)
    bases = basis_changes(old_bases, new_bases)
    checked = check_claims(bases["purposes"], old_bases, new_bases, old_eff, new_eff)
    purposes = _ai_first(checked.purposes)
    if purposes:
        summary["bases"] = _basis_items(purposes)
    if checked.reorganised:
        summary["bases_reorganised"] = {"purposes": len(checked.unconfirmed)}
    steps, steps_unconfirmed = check_steps(bases["processing"], old_eff, new_eff)
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
        bases["bases_added"], bases["bases_removed"], old_bases, new_bases, old_eff, new_eff, lang
    )
    if stated_added or stated_removed:
        summary["bases_stated"] = {"added": stated_added, "removed": stated_removed}
    prose = without_repeats(
        prose_changes(added, removed, old_eff, new_eff, lang), summary.get("bases", [])
    )
    if prose:
        summary["bases"] = [*summary.get("bases", []), *prose]
    if (
        bases["purposes"]
        or steps
        or bases["bases_added"]  # a basis newly named: the category, without a claim
        or bases["bases_removed"]
        or prose
        or prose_mentions(added, removed, lang)
    ):
        categories.append("legal-basis")

    links = link_changes(optout_links(old_eff, lang), optout_links(new_eff, lang))
    # a link the document showed recently is back, not new (a partial render ending)
    links["added"] = [link for link in links["added"] if not _recently(link["url"], recent)]
    if any(links.values()):
        summary["links"] = {k: v for k, v in links.items() if v}
        if any(link["kind"] in _ALERTING_LINKS for found in links.values() for link in found):
            categories.append("opt-out")

    dates = date_changes(old, new, lang)
    if dates:
        summary.update(dates)
        categories.append("dates")
    when = _ahead(dates, new, seen)
    if when and summary.get("bases"):  # the new text announces a policy taking effect later
        for item in summary["bases"]:
            if item["action"] == "added":
                item.setdefault("announced", when)

    edit = Edit(old_eff, new_eff, tuple(added), tuple(removed), lang, seen)
    phrases: list[str] = []  # offered as the title when nothing weightier is said
    for category in registered():
        if not category.text_diff or category.detect is None:
            continue
        found = category.detect(edit)
        if found is not None:
            summary[category.key] = found.summary
            categories.append(category.name)
            phrases.append(found.phrase)

    summary["words_changed"] = {
        "added": sum(len(words(s)) for s in added),
        "removed": sum(len(words(s)) for s in removed),
    }
    title, alert = _headline(
        document,
        summary,
        purposes,
        categories,
        held,
        back,
        (old_eff, new_eff, added, removed, lang),
        phrases,
    )
    del summary["words_changed"]
    shape = _quiet_shape(old, new, old_eff, new_eff)
    returned = next((r for r in recent if r.text == new), None)
    if shape and alert and set(categories) <= {"text"} and not held and not back:
        alert = False
        summary["no_alert"] = shape
        title = f"{document}: {shape}"
    elif returned is not None:
        alert = False
        summary["no_alert"] = f"the text returns to the one last seen {returned.seen}"
        title = f"{document}: back to the text last seen {returned.seen}"
    elif not alert:
        summary["no_alert"] = _quiet_reason(held, back)
    ordered = [c.name for c in registered() if c.name in categories]
    return Classification(title, ordered, summary, alert)


def _language_switch(old: str, new: str) -> tuple[str, str] | None:
    """The languages (names) of two texts clearly written in different languages."""
    before, after = text_language(old), text_language(new)
    if before and after and before != after:
        return language_name(before), language_name(after)
    return None


def _ahead(dates: dict[str, Any], new: str, seen: str | None) -> dict[str, Any] | None:
    """When the new text takes effect, if it says so ahead of time: an update notice with a
    date added by this change, or a stated date after the day the text was recorded."""
    notes = dates.get("announced", {}).get("added", []) if dates else []
    if notes:
        return {"date": notes[0]["date"], "iso": notes[0]["iso"]}
    stated = stated_date(new) if seen else None
    iso = iso_date(stated)
    if seen and stated and iso and iso > seen[:10]:
        return {"date": stated, "iso": iso}
    return None


def _quiet_shape(old: str, new: str, old_eff: str, new_eff: str) -> str | None:
    """Why an edit is not news, when its words are the same in another sense: only page
    chrome differs, only numbering and layout, or the same sentences reordered/repeated."""
    if _words_of(old_eff) == _words_of(new_eff):
        if _words_of(old) != _words_of(new):
            return "only page chrome changed (navigation, menus, banners)"
        return None
    if _letters(old_eff) == _letters(new_eff):
        return "only numbering or layout changed; the same words in the same order"
    if set(_sentences(old_eff)) == set(_sentences(new_eff)):
        return "the same sentences, reordered or repeated"
    return None


def _letters(text: str) -> list[str]:
    """The words of a text that have letters, numbering and list markers set aside."""
    return [w.casefold() for w in _words_of(text) if sum(c.isalpha() for c in w) >= 2]


def same_words(old: str, new: str) -> bool:
    """Are the words of two texts the same once link targets are set aside?

    >>> same_words("[object](https://x/?h=AT1)", "[object](https://x/?h=AT2)")
    True
    """
    return _words_of(old) == _words_of(new)


def _words_of(text: str) -> list[str]:
    """The words of a text, link targets set aside (rotating tokens are not words)."""
    return [w for s in _sentences(text) for w in words(s)]


def _recently(url: str, recent: Sequence[Earlier]) -> bool:
    return any(f"]({url})" in earlier.text for earlier in recent)


def _without(lines: Sequence[str], blocks: Blocks | None) -> str:
    if blocks is None:
        return "\n".join(lines)
    return "\n".join(line for i, line in enumerate(lines) if i not in blocks.lines)


def _sentences(text: str) -> list[str]:
    return [s for line in text.splitlines() if line.strip() for s in _line_sentences(line)]


@lru_cache(maxsize=1 << 16)  # most lines repeat from one version to the next
def _line_sentences(line: str) -> tuple[str, ...]:
    """The sentences of one line, as plain text (link targets set aside)."""
    return tuple(s.strip() for s in _SENTENCE.findall(plain(line)) if words(s))


def _changed_sentences(old: str, new: str) -> tuple[list[str], list[str]]:
    """Sentences (link targets set aside) only in ``new``, and only in ``old``."""
    before, after = _sentences(old), _sentences(new)
    old_set, new_set = set(before), set(after)
    return [s for s in after if s not in old_set], [s for s in before if s not in new_set]


def _quiet_reason(held: Blocks | None, back: Blocks | None) -> str:
    if held:
        return f"only a partial render: {held.words} words in {held.count} blocks vanished"
    if back:
        return f"only blocks seen recently came back ({back.words} words)"
    return "the words are the same once link targets are set aside"


def _headline(
    document: str,
    summary: dict[str, Any],
    purposes: list[dict[str, Any]],
    categories: list[str],
    held: Blocks | None,
    back: Blocks | None,
    edit: tuple[str, str, list[str], list[str], str],
    phrases: Sequence[str] = (),
) -> tuple[str, bool]:
    """The title, and whether the change is worth an alert at all."""
    old, new, added, removed, lang = edit
    parts: list[str] = []
    if purposes:
        parts.append(_basis_phrase(purposes))
    elif summary.get("bases_reorganised"):
        n = summary["bases_reorganised"]["purposes"]
        parts.append(
            f"legal-basis section reorganised: {n} purpose{'s' if n != 1 else ''} could not be"
            " compared"
        )
    elif summary.get("processing"):
        parts.append(_processing_phrase(_ai_first(summary["processing"])))
    elif summary.get("bases_stated"):
        stated = summary["bases_stated"]
        if stated["added"]:
            parts.append(f"now states the legal basis {', '.join(stated['added'])}")
        else:
            parts.append(f"no longer states the legal basis {', '.join(stated['removed'])}")
    if "opt-out" in categories and len(parts) < 2:
        parts.append(_link_phrase(summary["links"]))
    date = summary.get("date")
    if date and len(parts) < 2:
        if parts:
            parts.append(f"effective {date['to']}")
        elif date["from"]:
            parts.append(f"effective date moved from {date['from']} to {date['to']}")
        else:
            parts.append(f"now states the date {date['to']}")
    announced = summary.get("announced")
    if announced and len(parts) < 2 and not date:
        if announced["added"]:
            note = announced["added"][0]
            parts.append(f"update notice \u2018{shorten(note['sentence'], 90)}\u2019 added")
        else:
            note = announced["removed"][0]
            parts.append(f"update notice \u2018{shorten(note['sentence'], 90)}\u2019 removed")
    if summary.get("deadlines") and not parts:
        parts.append("a deadline next to the objection text changed")
    if phrases and not parts:
        parts.append(phrases[0])
    if not parts and "text" in categories:
        room = TITLE_LIMIT - len(document) - 2
        phrase = edit_phrase(old, new, added, removed, lang, room)
        parts.append(phrase or "the same sentences, moved or repeated")
    if not parts:
        if held:
            return f"{document}: {held.words} words vanished (held as a partial render)", False
        if back:
            return f"{document}: {back.words} words seen recently came back", False
        return f"{document}: only link targets changed", False
    return f"{document}: {'; '.join(parts)}", True


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


def _ai_first(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
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


def _link_phrase(links: dict[str, list[dict[str, str]]]) -> str:
    def first(key: str) -> dict[str, str] | None:
        found = [link for link in links.get(key, []) if link["kind"] in _ALERTING_LINKS]
        return found[0] if found else None

    if link := first("retargeted"):
        name = f"{link['kind']} link \u2018{shorten(link['text'], 40)}\u2019"
        return f"{name} now points to {link['to']}"
    if link := first("added"):
        return f"new {link['kind']} link \u2018{shorten(link['text'], 40)}\u2019 ({link['url']})"
    link = first("removed") or links["removed"][0]
    return f"{link['kind']} link \u2018{shorten(link['text'], 40)}\u2019 removed ({link['url']})"
