"""Opt-out and objection links: which links let a reader object, opt out, withdraw consent
or change a setting, with their anchor text and the sentence around them (pure).

Recognised by text (``changes/lexicons/optout.toml``, EN/FR/DE) and by URL shape (forms,
the generative-AI privacy page, settings and Accounts Center pages). URLs are canonical
(``changes.links.canonical_url``), so a rotating token never makes a link look new.

>>> [m.kind for m in optout_links("You can [object](https://fb.com/help/contact/1) to it.")]
['objection']
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from changes.lexicon import fold, lang_of, load, patterns
from changes.links import canonical_url, link_identity
from changes.plain import MD_LINK, plain

__all__ = ["KINDS", "LinkMention", "link_changes", "optout_links"]

#: Kinds of opt-out link, strongest first.
KINDS: tuple[str, ...] = ("objection", "consent", "opt-out", "settings", "form")
_STRONG: tuple[str, ...] = ("objection", "consent", "opt-out")

_LEXICON = "optout"
_MAX_CONTEXT = 400

# Sentence ends: after . ! ? (followed by space and a capital, quote or bracket).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“«(\[A-ZÀ-ÖØ-Þ0-9])")
# Table cells, <br> line breaks and list markers separate pieces of text.
_PIECES = re.compile(r"<br>|(?<!\\)\|")


@dataclass(frozen=True)
class LinkMention:
    """One link that serves an objection, an opt-out, consent withdrawal or a setting."""

    url: str  # canonical URL
    text: str  # anchor text
    context: str  # the surrounding sentence
    kind: str  # "objection" | "opt-out" | "consent" | "settings" | "form"


def optout_links(markdown: str, lang: str = "en") -> list[LinkMention]:
    """Every opt-out/objection/consent/settings/form link of ``markdown``, in order.

    ``lang`` picks the lexicon (``"en"``, ``"fr"``, ``"de"``; a locale like ``"fr_FR"``
    works; an unknown one uses all three). Same-page anchors (``#...``) are never opt-out
    links. A link seen twice with the same text and sentence is listed once.
    """
    return list(_optout_links(markdown, lang_of(lang)))


@lru_cache(maxsize=8)  # a text is the new side of one change and the old of the next
def _optout_links(markdown: str, langs: tuple[str, ...]) -> tuple[LinkMention, ...]:
    out: list[LinkMention] = []
    seen: set[tuple[str, str, str]] = set()
    for line in markdown.splitlines():
        if "](" not in line and "<http" not in line:
            continue
        for piece in _PIECES.split(line):
            for sentence in _sentences(piece):
                for mention in _mentions(sentence, langs):
                    key = (mention.url, mention.text, mention.context)
                    if key not in seen:
                        seen.add(key)
                        out.append(mention)
    return tuple(out)


def _sentences(piece: str) -> list[str]:
    """Split a line piece into sentences without cutting inside a link."""
    links = [(m.start(), m.end()) for m in MD_LINK.finditer(piece)]
    out, start = [], 0
    for end in _SENTENCE_END.finditer(piece):
        cut = end.start()
        if any(a < cut < b for a, b in links):
            continue
        out.append(piece[start:cut])
        start = end.end()
    out.append(piece[start:])
    return [s for s in out if "](" in s or "<http" in s]


def _mentions(sentence: str, langs: tuple[str, ...]) -> Iterable[LinkMention]:
    context = plain(sentence)
    if len(context) > _MAX_CONTEXT:
        context = context[: _MAX_CONTEXT - 1].rsplit(" ", 1)[0] + "…"
    matches = list(MD_LINK.finditer(sentence))
    for m in matches:
        raw_url = m.group("auto") or m.group("url") or ""
        if not raw_url or raw_url.startswith("#"):
            continue
        url = canonical_url(raw_url)
        if _navigation(url):
            continue
        anchor = plain(m.group("text") if m.group("auto") is None else raw_url)
        # The sentence as this link's context: other links (and their text) removed.
        own = sentence[: m.start()] + anchor + sentence[m.end() :]
        for other in matches:
            if other is not m:
                own = own.replace(other.group(0), " ")
        kind = link_kind(anchor, plain(own), url, langs)
        if kind is not None:
            yield LinkMention(url=url, text=anchor, context=context, kind=kind)


def link_kind(
    anchor: str, context: str, url: str, langs: tuple[str, ...] = ("en", "fr", "de")
) -> str | None:
    """The kind of a link from its anchor text, its sentence and its URL, or None.

    Objection, consent and opt-out words in the anchor win, then in the sentence, then the
    URL shape decides, then a settings anchor ("Ad Preferences", "Paramètres Facebook").
    """
    anchor, context = fold(anchor), fold(context)
    for where in (anchor, context):
        for kind in _STRONG:
            pattern = patterns(_LEXICON, "text", kind, langs)
            if pattern is not None and pattern.search(where):
                return kind
    for kind, pattern in _url_shapes():
        if pattern.search(url):
            return kind
    settings = patterns(_LEXICON, "text", "settings", langs)
    not_settings = patterns(_LEXICON, "text", "not-settings", langs)
    if settings is not None and settings.search(anchor):
        if not_settings is None or not not_settings.search(anchor):
            return "settings"
    return None


@cache
def _navigation_shapes() -> tuple[re.Pattern[str], ...]:
    return tuple(
        re.compile(str(rule["pattern"]), re.IGNORECASE)
        for rule in load(_LEXICON).get("navigation", [])
    )


def _navigation(url: str) -> bool:
    """A link to a policy page itself (a section "Object" of the printable policy): no form."""
    return any(p.search(url) for p in _navigation_shapes())


@cache
def _url_shapes() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple(
        (str(rule["kind"]), re.compile(str(rule["pattern"]), re.IGNORECASE))
        for rule in load(_LEXICON).get("url", [])
    )


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def link_changes(
    old: Sequence[LinkMention], new: Sequence[LinkMention]
) -> dict[str, list[dict[str, str]]]:
    """Opt-out links added, removed and retargeted (same anchor text, new place), links
    compared by where they lead (``changes.links.link_identity``).

    >>> a = [LinkMention("https://x/1", "object", "You can object.", "objection")]
    >>> b = [LinkMention("https://x/2", "object", "You can object.", "objection")]
    >>> link_changes(a, b)["retargeted"]
    [{'text': 'object', 'kind': 'objection', 'from': 'https://x/1', 'to': 'https://x/2'}]
    """
    # links are compared by where they lead (changes/links.py: link_identity): a locale or
    # tracking parameter, a trailing slash or a fragment is no new link and no retargeting
    old_urls: dict[str, LinkMention] = {}
    new_urls: dict[str, LinkMention] = {}
    for mentions, by_place in ((old, old_urls), (new, new_urls)):
        for m in mentions:  # one place, several mentions: the strongest kind tells
            place = link_identity(m.url)
            seen = by_place.get(place)
            if seen is None or KINDS.index(m.kind) < KINDS.index(seen.kind):
                by_place[place] = m
    gone = [u for u in old_urls if u not in new_urls]
    came = [u for u in new_urls if u not in old_urls]
    by_text_old: dict[str, list[str]] = defaultdict(list)
    by_text_new: dict[str, list[str]] = defaultdict(list)
    for m in old:
        place = link_identity(m.url)
        if place in gone and place not in by_text_old[_key(m.text)]:
            by_text_old[_key(m.text)].append(place)
    for m in new:
        place = link_identity(m.url)
        if place in came and place not in by_text_new[_key(m.text)]:
            by_text_new[_key(m.text)].append(place)
    retargeted: list[dict[str, str]] = []
    for text, urls in by_text_old.items():
        for before, after in zip(urls, by_text_new.get(text, []), strict=False):
            if before in gone and after in came:
                gone.remove(before)
                came.remove(after)
                mention = new_urls[after]
                retargeted.append(
                    {
                        "text": mention.text,
                        "kind": mention.kind,
                        "from": old_urls[before].url,
                        "to": mention.url,
                    }
                )
    return {
        "added": [_brief(new_urls[u]) for u in came],
        "removed": [_brief(old_urls[u]) for u in gone],
        "retargeted": retargeted,
    }


def _brief(mention: LinkMention) -> dict[str, str]:
    return {"text": mention.text, "kind": mention.kind, "url": mention.url}
