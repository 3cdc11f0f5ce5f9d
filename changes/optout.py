"""Opt-out and objection links: which links let a reader object, opt out, withdraw consent
or change a setting, with their anchor text and the sentence around them; and sentences
that say how to object, opt out or withdraw consent without a link (pure).

Recognised by text (``changes/lexicons/optout.toml``, EN/FR/DE) and by URL shape (request
forms, when their sentence speaks of a request or a right; settings and Accounts Center
pages). URLs are canonical (``changes.links.canonical_url``), so a rotating token never
makes a link look new.

>>> [m.kind for m in optout_links("You can [object](https://fb.com/help/contact/1) to it.")]
['objection']
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache, lru_cache

from changes.lexicon import fold, lang_of, load, patterns
from changes.links import canonical_url, link_identity
from changes.plain import MD_LINK, plain

__all__ = [
    "KINDS",
    "LinkMention",
    "link_changes",
    "optout_links",
    "way_out_phrase",
    "way_out_sentences",
]

#: Kinds of opt-out link, strongest first.
KINDS: tuple[str, ...] = ("objection", "consent", "opt-out", "choice", "settings", "form")
# Found by the words of the anchor or sentence. "choice": a choice offered over how
# information is used (ads above all; optout.toml [text.choice]), weaker than a way out.
_STRONG: tuple[str, ...] = ("objection", "consent", "opt-out", "choice")

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
    kind: str  # "objection" | "opt-out" | "consent" | "choice" | "settings" | "form"


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
            if kind == "form" and not _asks(anchor, context, langs):
                return None  # a contact or report form, not a way out (see optout.toml)
            return kind
    settings = patterns(_LEXICON, "text", "settings", langs)
    not_settings = patterns(_LEXICON, "text", "not-settings", langs)
    if settings is not None and settings.search(anchor):
        if not_settings is None or not not_settings.search(anchor):
            return "settings"
    return None


def _asks(anchor: str, context: str, langs: tuple[str, ...]) -> bool:
    """Does the anchor or the sentence of a form speak of a request or a right?"""
    pattern = patterns(_LEXICON, "text", "request", langs)
    return pattern is not None and any(pattern.search(t) for t in (anchor, context))


def way_out_sentences(
    old: str, new: str, added: Sequence[str], removed: Sequence[str], lang: str = "en"
) -> dict[str, list[dict[str, str]]]:
    """Sentences added or removed that say how to object, opt out or withdraw consent,
    with or without a link ("You can opt-out ... by using the unsubscribe link").

    ``old`` and ``new`` are the two texts (Markdown), ``added`` and ``removed`` the plain
    sentences only in ``new`` and only in ``old``. What is no change (``[reword]`` in
    optout.toml): a heading or a menu item (fewer than ``min_words`` words, "Unsubscribe");
    the same words on a line of the other text, with other quotes, punctuation, case,
    British/American spelling or sentence breaks; a sentence that only swaps words ("a
    right" -> "the right", "agreement" -> "consent") or whose added or dropped words are in
    the other side's changed sentences. Returns ``{"added": [...], "removed": [...]}``, each
    item ``{"kind", "sentence"}``.

    >>> way_out_sentences("", "", ["You can object to direct marketing."], [])["added"]
    [{'kind': 'objection', 'sentence': 'You can object to direct marketing.'}]
    >>> way_out_sentences("see Choices to opt out.", 'See "Choices" to opt out.', [], [])
    {'added': [], 'removed': []}
    """
    langs = lang_of(lang)
    out: dict[str, list[dict[str, str]]] = {"added": [], "removed": []}
    sides = (("added", added, removed, old), ("removed", removed, added, new))
    for action, these, others, other_text in sides:
        own_text = new if action == "added" else old
        candidates = []
        for sentence in these:
            key = _words_key(fold(sentence))
            if len(key) < _reword_rules().min_words:
                continue
            kind = _way_out(fold(sentence), langs) or _referent_kind(sentence, own_text, langs)
            if kind is not None:
                candidates.append((sentence, key, kind))
        if not candidates:
            continue
        lines = _line_keys(other_text)
        pool = {w for s in others for w in _words_key(s)}
        for sentence, key, kind in candidates:
            if _new_words(key, lines, pool, langs):
                out[action].append({"kind": kind, "sentence": sentence})
    return out


def _referent_kind(sentence: str, text: str, langs: tuple[str, ...]) -> str | None:
    """The kind of the sentence just before ``sentence`` on its line in ``text`` when
    ``sentence`` opens by referring to it ("This right applies when ...", ``[text.refers]``).

    >>> _referent_kind("This right applies to research.",
    ...                "You have the right to object. This right applies to research.", ("en",))
    'objection'
    """
    refers = patterns(_LEXICON, "text", "refers", langs)
    if refers is None or not refers.search(fold(sentence)):
        return None
    for line in text.splitlines():
        flat = plain(line)
        at = flat.find(sentence)
        if at <= 0:
            continue
        before = [s for s in _SENTENCE_END.split(flat[:at].strip()) if s.strip()]
        return _way_out(fold(before[-1]), langs) if before else None
    return None


@dataclass(frozen=True)
class _Reword:
    min_words: int
    similar: float
    ignore: dict[str, frozenset[str]]
    spelling: tuple[tuple[re.Pattern[str], str], ...]


@cache
def _reword_rules() -> _Reword:
    rules = load(_LEXICON).get("reword", {})
    return _Reword(
        min_words=int(rules.get("min_words", 4)),
        similar=float(rules.get("similar", 0.6)),
        ignore={lang: frozenset(ws) for lang, ws in rules.get("ignore", {}).items()},
        spelling=tuple(
            (re.compile(str(rule["pattern"])), str(rule["as"]))
            for rule in rules.get("spelling", [])
        ),
    )


def _words_key(sentence: str) -> tuple[str, ...]:
    """The words of a sentence, case and British/American spelling set aside."""
    out = []
    for word in re.findall(r"\w+", sentence.casefold()):
        for pattern, replacement in _reword_rules().spelling:
            word = pattern.sub(replacement, word)
        out.append(word)
    return tuple(out)


@lru_cache(maxsize=4)
def _line_keys(text: str) -> tuple[tuple[str, ...], ...]:
    return tuple(key for line in text.splitlines() if (key := _words_key(fold(plain(line)))))


def _new_words(
    mine: tuple[str, ...],
    lines: Sequence[tuple[str, ...]],
    pool: set[str],
    langs: tuple[str, ...],
) -> bool:
    """Does a sentence say something the other text does not?

    Its nearest line in the other text is the one sharing most of its words in order; with
    less than ``[reword] similar`` of its words there, the sentence is new. Otherwise only
    the words it adds (insertions, and the longer side of a replacement) count, minus small
    words and words found in the other side's changed sentences.
    """
    rules = _reword_rules()
    best: list[tuple[str, int, int, int, int]] = []
    most = 0
    for line in lines:
        if not set(mine) & set(line):
            continue
        matcher = SequenceMatcher(None, line, mine, autojunk=False)
        matched = sum(block.size for block in matcher.get_matching_blocks())
        if matched > most:
            most, best = matched, matcher.get_opcodes()
    if most < rules.similar * len(mine):
        return True
    ignore = frozenset().union(*(rules.ignore.get(lang, frozenset()) for lang in langs))
    extra: list[str] = []
    for op, a1, a2, b1, b2 in best:
        if op == "insert" or (op == "replace" and b2 - b1 > a2 - a1):
            extra += mine[b1:b2]
    return any(w not in ignore and w not in pool for w in extra)


_WAY_OUT_NAMES = {
    "objection": "objection",
    "consent": "consent withdrawal",
    "opt-out": "opt-out",
    "choice": "data-use choice",
}


def way_out_phrase(found: dict[str, list[dict[str, str]]], limit: int = 70) -> str:
    """A title phrase for :func:`way_out_sentences`: the first added sentence quoted
    (else the first removed one), and how many more.

    >>> way_out_phrase({"added": [{"kind": "opt-out", "sentence": "You can opt out."}]})
    'opt-out text added: “You can opt out.”'
    """
    action = "added" if found.get("added") else "removed"
    first = found[action][0]
    sentence = first["sentence"]
    if len(sentence) > limit:
        sentence = sentence[: limit - 1].rsplit(" ", 1)[0] + "…"
    more = len(found.get("added", [])) + len(found.get("removed", [])) - 1
    tail = f" (and {more} more)" if more else ""
    return f"{_WAY_OUT_NAMES[first['kind']]} text {action}: “{sentence}”{tail}"


def _way_out(sentence: str, langs: tuple[str, ...]) -> str | None:
    for kind in _STRONG:
        pattern = patterns(_LEXICON, "text", kind, langs)
        if pattern is not None and pattern.search(sentence):
            return kind
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
