"""``opt-out``: an objection, opt-out or consent link was added, removed or retargeted, or a
sentence saying how to object, opt out or withdraw consent was added, removed or says more
(both found by changes/optout.py with its lexicon changes/lexicons/optout.toml)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from changes.categories import Category, Edit, Finding, register
from changes.optout import (
    LinkMention,
    link_changes,
    optout_links,
    way_out_phrase,
    way_out_sentences,
)
from changes.plain import plain
from changes.titles import shorten

# Settings links are listed in the summary, but only these kinds make a change "opt-out":
# settings and help pages are renamed and moved often, objection forms rarely. A "choice"
# link is one a sentence offers as a choice over how information is used ("You can control
# what information we use to show you ads by visiting your ad settings in [My Ad Center]").
ALERTING_LINKS = frozenset({"objection", "opt-out", "consent", "choice", "form"})


def changed_links(edit: Edit) -> Finding | None:
    """The opt-out, consent and settings links added, removed or retargeted; the category
    only when one of them is an objection, opt-out, consent or choice link or a form. A link the
    document showed recently is back, not new (a partial render ending). Also the changed
    sentences that say how to object, opt out or withdraw consent, link or not (summary
    ``opt_out_text``): they too make the change ``opt-out``; the title quotes one when no
    alerting link moved and nothing weightier was said."""
    lang = edit.language
    old_links = optout_links(edit.old, lang)
    links = link_changes(old_links, optout_links(edit.new, lang))
    links["added"] = [link for link in links["added"] if not _recently(link["url"], edit.recent)]
    said_in_words = way_out_sentences(edit.old, edit.new, edit.added, edit.removed, lang)
    text = {k: v for k, v in said_in_words.items() if v}
    if not any(links.values()) and not text:
        return None
    found = {k: v for k, v in links.items() if v}
    unlinked = _unlinked(links["removed"], old_links, edit.new)
    linked = any(
        link["kind"] in ALERTING_LINKS and not (action == "removed" and link in unlinked)
        for action, items in links.items()
        for link in items
    )
    summary: dict[str, Any] = {}
    if found:
        summary["links"] = found
    if text:
        summary["opt_out_text"] = text

    def phrase(said: Sequence[str]) -> str | None:
        if linked:
            return link_phrase(found) if len(said) < 2 else None
        return way_out_phrase(text) if text and not said else None

    return Finding(summary, phrase, linked or bool(text))


def _unlinked(
    removed: Sequence[dict[str, Any]], old_links: Sequence[LinkMention], new: str
) -> list[dict[str, Any]]:
    """Removed "choice" links whose sentence the new text still says, word for word: the
    link target was dropped (a render losing its links), the choice is still offered."""
    if not any(link["kind"] == "choice" for link in removed):
        return []
    said = _words(plain(new))
    out = []
    for link in removed:
        if link["kind"] != "choice":
            continue
        context = next((m.context for m in old_links if m.url == link["url"]), "")
        if context and _words(context) in said:
            out.append(link)
    return out


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"\w+", text.casefold())) + " "


def _recently(url: str, recent: Sequence[str]) -> bool:
    return any(f"]({url})" in text for text in recent)


def link_phrase(links: dict[str, list[dict[str, Any]]]) -> str:
    """The title phrase of the first alerting link that moved, was added or removed."""

    def first(key: str) -> dict[str, Any] | None:
        found = [link for link in links.get(key, []) if link["kind"] in ALERTING_LINKS]
        return found[0] if found else None

    if link := first("retargeted"):
        name = f"{link['kind']} link \u2018{shorten(link['text'], 40)}\u2019"
        return f"{name} now points to {link['to']}"
    if link := first("added"):
        return f"new {link['kind']} link \u2018{shorten(link['text'], 40)}\u2019 ({link['url']})"
    link = first("removed") or links["removed"][0]
    return f"{link['kind']} link \u2018{shorten(link['text'], 40)}\u2019 removed ({link['url']})"


OPT_OUT = register(
    Category(
        "opt-out",
        "An objection, opt-out, consent or choice link was added, removed or pointed "
        "elsewhere, or a sentence saying how to object, opt out or choose how information is "
        "used: the place where a person says no.",
        order=20,
        detect=changed_links,
    )
)
