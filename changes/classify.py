"""What a change means: its title, categories, structured summary and whether it alerts.

One pure call over two texts (and the texts the document showed recently). ``text``: the
words changed at all; every other category is a module of changes/categories/ whose
detector classify runs in order (``legal-basis``: a purpose gained or lost a GDPR legal
basis, its processing steps or the bases the text states changed; ``opt-out``: an
objection, opt-out or consent link was added, removed or retargeted, or a sentence saying how
to object, opt out or withdraw consent changed; ``dates``: the stated
effective date moved, an update notice or a deadline next to objection text changed;
``ai``: a changed sentence speaks of AI). Their phrases make the title, weightiest first.

No alert (``alert`` False, the reason in ``summary["no_alert"]``) when the words are the
same once link targets are set aside (rotating tokens, a renumbered anchor) and no opt-out
link moved; when the text returns to one the document showed recently (a page flipping
A -> B -> A raises one alert, not three); and when the only change is a partial render
vanishing or coming back (changes/partial.py), whose blocks are held, never reported as
removed.
Nor when the edit only changes page chrome, punctuation, numbering, the labels of link
cards, note headings between titles and numbers, or the order of the same sentences, or
only adds back lines a recent text had (docs/decisions/0013 §12).

Summary keys follow feeds/summary.py: ``bases`` (``action``, ``basis``, ``purpose``),
``links`` (``added``, ``removed``, ``retargeted``), ``date`` (``from``, ``to``), ``ai`` (a
changed sentence about AI); and ``processing``, ``bases_stated``, ``deadlines``, ``held``,
``restored``, ``no_alert``, ``words_added``, ``words_removed``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from changes.categories import Edit, Phrase, registered
from changes.dates import iso_date, stated_date
from changes.languages import language_name, text_language
from changes.noise import DEFAULT_PROFILE, is_chrome, without_chrome
from changes.partial import Blocks, line_ops, restored, vanished
from changes.plain import MD_LINK, plain, words
from changes.titles import TITLE_LIMIT, edit_phrase

__all__ = ["CATEGORIES", "Classification", "Earlier", "classify", "same_words"]

#: Categories a change of text can have, in the order titles and feeds list them (those
#: registered in changes/categories/ when this module was imported).
CATEGORIES: tuple[str, ...] = tuple(c.name for c in registered() if c.text_diff)

# A sentence ends at . ! ? followed by a space, but "27. Mai 2025" does not end one.
_SENTENCE = re.compile(
    r"(?:\b\d{1,2}\.(?=\s*(?:Januar|Februar|März|April|Mai|Juni|Juli|August|September"
    r"|Oktober|November|Dezember)\b)|[^.!?]|[.!?]+(?=\S))+(?:[.!?]+(?=\s|$)|$)"
)


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
    edit = Edit(
        old_eff,
        new_eff,
        tuple(added),
        tuple(removed),
        lang,
        seen,
        old,
        new,
        tuple(r.text for r in recent),
    )
    phrases: list[Phrase] = []  # in order: each weighed against those before it
    for category in registered():
        if not category.text_diff or category.detect is None:
            continue
        found = category.detect(edit)
        if found is None:
            continue
        summary.update(found.summary)
        phrases.append(found.phrase)
        if found.applies:
            categories.append(category.name)
    when = _ahead(summary, new, seen)
    if when and summary.get("bases"):  # the new text announces a policy taking effect later
        for item in summary["bases"]:
            if item["action"] == "added":
                item.setdefault("announced", when)

    title, alert = _headline(
        document, phrases, categories, held, back, (old_eff, new_eff, added, removed, lang)
    )
    shape = _quiet_shape(old, new, old_eff, new_eff, profile)
    returned = next((r for r in recent if r.text == new), None)
    came_back = _lines_came_back(old_eff, new_eff, [r.text for r in recent])
    plain_shape = shape in _PLAIN_SHAPES and set(categories) <= {"text"}
    if shape and alert and plain_shape and not held and not back:
        alert = False
        summary["no_alert"] = shape
        title = f"{document}: {shape}"
    elif returned is not None:
        alert = False
        summary["no_alert"] = f"the text returns to the one last seen {returned.seen}"
        title = f"{document}: back to the text last seen {returned.seen}"
    elif shape and alert and _shape_silences(shape, categories):
        alert = False
        if held or back:  # what is left once the held or restored blocks are set aside
            summary["no_alert"] = _quiet_reason(held, back)
            title, _ = _headline(document, [], [], held, back, ("", "", [], [], lang))
        else:
            summary["no_alert"] = shape
            title = f"{document}: {shape}"
    # Lines coming back are a flip only when nothing of substance returns with them: a
    # legal basis, an objection link or an AI statement restored is news again.
    elif came_back and alert and set(categories) <= {"text", "dates"} and not held:
        alert = False
        summary["no_alert"] = came_back
        title = f"{document}: {came_back}"
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


def _ahead(summary: dict[str, Any], new: str, seen: str | None) -> dict[str, Any] | None:
    """When the new text takes effect, if it says so ahead of time: an update notice with a
    date added by this change (``summary["announced"]``, from the dates category), or a
    stated date after the day the text was recorded."""
    notes = summary.get("announced", {}).get("added", [])
    if notes:
        return {"date": notes[0]["date"], "iso": notes[0]["iso"]}
    stated = stated_date(new) if seen else None
    iso = iso_date(stated)
    if seen and stated and iso and iso > seen[:10]:
        return {"date": stated, "iso": iso}
    return None


_CHROME_ONLY = "only page chrome changed (navigation, menus, banners)"
_MARKUP_ONLY = "only punctuation, markup or link targets changed; the same words"
_LAYOUT_ONLY = (
    "only numbering, layout or a word typed twice changed; the same words in the same order"
)
_REORDERED = "the same sentences, reordered or repeated"
_LOOSELY_SAME = "the same sentences once final stops, doubled lines and chrome are set aside"
_NUMBERED = "only the headings of notes changed: numbered instead of titled, or back"
_LABELS_ONLY = "only the labels of links to other pages changed; the same links, the same text"
_LINK_LINES = "only lines that are links to other pages were added or removed; no sentence"


def _quiet_shape(old: str, new: str, old_eff: str, new_eff: str, profile: str) -> str | None:
    """Why an edit is not news, when its words are the same in another sense: only page
    chrome differs, only punctuation or markup, only numbering and layout, the same set
    of sentences reordered/repeated, or the same sentences as often once a line rendered
    twice over, a final stop and chrome sentences ("Click here to learn more.") are set
    aside."""
    if _words_of(old_eff) == _words_of(new_eff):
        if _words_of(old) != _words_of(new):
            return _CHROME_ONLY
        return _MARKUP_ONLY
    if _letters(old_eff) == _letters(new_eff):
        return _LAYOUT_ONLY
    if set(_sentences(old_eff)) == set(_sentences(new_eff)):
        return _REORDERED
    if _gist(old_eff, profile) == _gist(new_eff, profile):
        return _LOOSELY_SAME
    if _cards(old_eff) == _cards(new_eff):
        return _LABELS_ONLY
    if _only_link_lines(old_eff, new_eff):
        return _LINK_LINES
    if _titles_numbered(old_eff, new_eff):
        return _NUMBERED
    return None


# Shapes that silence a plain text change before a text returning to a recent one is
# named (the others are weighed after it).
_PLAIN_SHAPES = (_CHROME_ONLY, _LAYOUT_ONLY, _REORDERED)


def _shape_silences(shape: str, categories: Sequence[str]) -> bool:
    """Does an edit of this shape stay quiet whatever the detectors found? The same words
    in the same order mean nothing of substance moved (only an opt-out link's target
    can); reordered sentences may move a purpose under another basis, so only a plain
    text change is silenced then; numbering aside, the digits of a date are too."""
    if shape in (_REORDERED, _LOOSELY_SAME, _LABELS_ONLY, _NUMBERED, _LINK_LINES):
        return set(categories) <= {"text"}
    if shape == _LAYOUT_ONLY:  # digits aside: a date's day or year may be what moved
        return not {"opt-out", "dates"} & set(categories)
    return "opt-out" not in categories


# A line rendered twice over, run together: "Date of Last Revision: July 5, 2023 Date of
# Last Revision: July 5, 2023".
_DOUBLED = re.compile(r"(.{8,}?)\s*\1")
_TITLE_WORDS = 20  # a note's heading is short
_MIN_NUMBERED = 3  # headings numbered at once: a render's choice, not one heading edited
# "see our [Terms](...) ." rendered "see our Terms ." one day and "see our Terms." the next
_SPACE_BEFORE_STOP = re.compile(r"\s+([.,;:!?])")
# An entry of a bulleted list of links: a list marker, then only links.
_LINK_ENTRY = re.compile(rf"[*+-]\s+(?:(?:{MD_LINK.pattern})\s*)+")
# A line made only of links (a list marker allowed): a card pointing to another page.
_LINKS_ONLY = re.compile(rf"\s*(?:[*+-]\s+)?(?:(?:{MD_LINK.pattern})\s*)+")


def _gist(text: str, profile: str) -> Counter[str]:
    """The sentences of a text, each with how often it occurs, compared loosely: final
    punctuation set aside, a sentence doubled on its line counted once, chrome sentences
    left out. Counted: a sentence listed twice and then once was removed from one list."""
    out: Counter[str] = Counter()
    for sentence in _sentences(text):
        doubled = _DOUBLED.fullmatch(sentence)
        gist = _SPACE_BEFORE_STOP.sub(r"\1", doubled.group(1) if doubled else sentence)
        gist = gist.strip().rstrip(".!?:;")
        if gist and not is_chrome(gist, profile):
            out[gist] += 1
    return out


def _cards(text: str) -> list[str]:
    """The lines of a text, each line made only of links as its link targets: a card's
    label ("How to manage Facebook location settings Facebook Help Center") may change
    while it leads to the same page."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if _LINKS_ONLY.fullmatch(line):
            targets = (m.group("url") or m.group("auto") or "" for m in MD_LINK.finditer(line))
            out.append(" ".join(targets))
        else:
            out.append(line)
    return out


def _only_link_lines(old: str, new: str) -> bool:
    """Are the lines only one text has (counted) all entries of a bulleted list of links,
    each beside another entry: an entry added to or dropped from a list of other pages
    ("* [Chrome & the Chrome Operating System](...)" under "The following privacy notices
    provide additional information")?
    A link that matters (an objection or opt-out link, an AI page) is a category of its
    own, and a category keeps the change alerting. Entries only dropped or only added: a
    link line replaced by another may be a card leading somewhere else now."""
    before = Counter(line.strip() for line in old.splitlines() if line.strip())
    after = Counter(line.strip() for line in new.splitlines() if line.strip())
    gone, came = before - after, after - before
    if gone and came or not (gone or came):
        return False
    text, changed = (old, gone) if gone else (new, came)
    if not all(_LINK_ENTRY.fullmatch(line) for line in changed):
        return False
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    entries = {i for i, line in enumerate(lines) if _LINK_ENTRY.fullmatch(line)}
    return all(  # each one beside another entry of its list
        i - 1 in entries or i + 1 in entries for i, line in enumerate(lines) if line in changed
    )


def _titles_numbered(old: str, new: str) -> bool:
    """Did short headings give way to bare numbers 1..N (or numbers to headings), and
    nothing else change? Facebook's notes are headed "What Products does this policy
    cover?" on some renders and "1", "2", ... on others."""
    before, after = set(_sentences(old)), set(_sentences(new))
    gone, came = before - after, after - before
    titles_gone = {s for s in gone if not _numeral(s)}
    titles_came = {s for s in came if not _numeral(s)}
    if bool(titles_gone) == bool(titles_came):
        return False
    titles, numbers = (titles_gone, came) if titles_gone else (titles_came, gone)
    if not numbers or not all(n.isdigit() for n in numbers):
        return False
    run = sorted(int(n) for n in numbers) == list(range(1, len(numbers) + 1))
    short = all(len(words(t)) <= _TITLE_WORDS for t in titles)
    many = len(numbers) >= _MIN_NUMBERED and len(numbers) * 2 >= len(titles)
    return run and short and many


def _numeral(sentence: str) -> bool:
    return not any(c.isalpha() for c in sentence)


def _lines_came_back(old: str, new: str, recent: Sequence[str]) -> str | None:
    """Why a change is a page flipping back, when it only adds lines, each of which a
    text the document showed recently had (a notice shown on some fetches and not on
    others, once something else on the page moved), and removes none."""
    old_lines = {line for line in old.splitlines() if line.strip()}
    added = [line for line in new.splitlines() if line.strip() and line not in old_lines]
    new_lines = set(new.splitlines())
    if not added or any(line not in new_lines for line in old_lines):
        return None
    seen: set[str] = set()
    for text in recent:
        seen.update(text.splitlines())
    if all(line in seen for line in added):
        return "only lines the document showed recently came back"
    return None


def _letters(text: str) -> list[str]:
    """The words of a text that have letters, numbering and list markers set aside, and a
    word typed twice in a row ("and and") once."""
    out: list[str] = []
    for word in _words_of(text):
        if sum(c.isalpha() for c in word) >= 2 and (not out or out[-1] != word.casefold()):
            out.append(word.casefold())
    return out


def same_words(old: str, new: str) -> bool:
    """Are the words of two texts the same once link targets are set aside?

    >>> same_words("[object](https://x/?h=AT1)", "[object](https://x/?h=AT2)")
    True
    """
    return _words_of(old) == _words_of(new)


def _words_of(text: str) -> list[str]:
    """The words of a text, link targets set aside (rotating tokens are not words)."""
    return [w for s in _sentences(text) for w in words(s)]


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
    phrases: Sequence[Phrase],
    categories: list[str],
    held: Blocks | None,
    back: Blocks | None,
    edit: tuple[str, str, list[str], list[str], str],
) -> tuple[str, bool]:
    """The title, and whether the change is worth an alert at all: the categories' phrases
    in order, each given what was said before it (changes/categories/), else the sentence
    that changed most."""
    old, new, added, removed, lang = edit
    parts: list[str] = []
    for phrase in phrases:
        said = phrase(parts)
        if said:
            parts.append(said)
    if not parts and "text" in categories:
        room = TITLE_LIMIT - len(document) - 2
        phrase_ = edit_phrase(old, new, added, removed, lang, room)
        parts.append(phrase_ or "the same sentences, moved or repeated")
    if not parts:
        if held:
            return f"{document}: {held.words} words vanished (held as a partial render)", False
        if back:
            return f"{document}: {back.words} words seen recently came back", False
        return f"{document}: only link targets changed", False
    return f"{document}: {'; '.join(parts)}", True
