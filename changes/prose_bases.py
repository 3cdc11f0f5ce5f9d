"""Legal bases stated in prose: sentences that tie a purpose to a GDPR basis. Pure, no I/O
beyond the package's lexicons (prose_bases.toml for the ties, purposes and announcement
words; legal_bases.toml for the bases themselves).

"We'll use this information on the basis of legitimate interests to develop and improve
generative AI models" states a basis (legitimate interests), a purpose as the sentence
words it ("develop and improve generative AI models") and that it is announced. A claim
is made only when the other text does not already state the same purpose with the same
basis in some sentence (a reworded or moved sentence is not a new basis).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from changes.dates import iso_date
from changes.legalbasis import BASES, basis_name
from changes.lexicon import fold, lang_of, load, patterns
from changes.plain import plain, words

__all__ = ["ProseBasis", "prose_bases", "prose_changes", "prose_mentions"]

_NEAR = 120  # characters between a tie ("on the basis of") and the basis it ties
_SAME = 0.8  # share of a purpose's content words that makes another sentence "the same"
_STOP = frozenset(
    "the and for our your you with that this from are can will use using information data "
    "pour les des nous vos votre und die der das wir ihre deine".split()
)
# Where one clause of a sentence ends and another starts: a purpose belongs to the tie of its
# own clause ("(1) to provide the App; ... (4) with your consent" ties nothing to (1)).
_CLAUSE_BREAK = re.compile(r";|\(\s*(?:\d{1,2}|[a-z]|[ivx]{1,4})\s*\)")
_PURPOSE_LIMIT = 160  # characters of a purpose quoted from a main clause
_DATE = re.compile(
    r"\b(?:\d{1,2}(?:st|nd|rd|th|er)?\.?\s+[^\W\d]+,?\s+\d{4}|[^\W\d]+\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})\b"
)


@dataclass(frozen=True)
class ProseBasis:
    """One purpose tied to one basis by one sentence."""

    basis: str  # one of legalbasis.BASES
    purpose: str  # as the sentence states it
    announced: bool  # names a time ahead ("from June 26, 2024", "soon"), not just "we'll"
    date: str | None  # a date the sentence names, as written
    sentence: str


def _content(text: str) -> frozenset[str]:
    return frozenset(w.casefold() for w in words(text) if len(w) > 2 and w.casefold() not in _STOP)


@lru_cache(maxsize=1 << 14)
def prose_bases(sentence: str, lang: str = "en") -> tuple[ProseBasis, ...]:
    """The (purpose, basis) pairs ``sentence`` states.

    >>> [(p.basis, p.purpose, p.announced) for p in prose_bases(
    ...     "We'll use this information on the basis of legitimate interests to develop "
    ...     "and improve generative AI models for AI at Meta.")]
    [('legitimate-interests', 'develop and improve generative AI models for AI at Meta', False)]

    "We'll" alone is how many policies speak of what they do: a statement is announced only
    when it names a time ("from June 26, 2024", "soon"); classify() also marks as announced
    the claims of a text whose update notice or stated date lies ahead.
    """
    langs = lang_of(lang)
    text = fold(plain(sentence))
    tie = patterns("prose_bases", "tie", None, langs)
    not_a_claim = patterns("prose_bases", "not", None, langs)
    named_ties = [m.end() for m in tie.finditer(text)] if tie else []
    implied = _implied(text, langs)
    ties = sorted([*named_ties, *(end for end, _ in implied)])
    if not ties or (not_a_claim and not_a_claim.search(text)):
        return ()
    bases: list[str] = [basis for _, basis in implied]
    for end in named_ties:  # each tie names the basis nearest to it
        near = []
        for basis in BASES:
            mention = patterns("legal_bases", "mention", basis, langs)
            for m in mention.finditer(text) if mention else ():
                distance = m.start() - end if m.start() >= end else end - m.end() + _NEAR // 2
                if distance <= _NEAR:
                    near.append((distance, basis))
        if near and min(near)[1] not in bases:
            bases.append(min(near)[1])
    purpose = _main_clause(text, tie.search(text), langs) if tie else None
    if purpose is None and implied:
        purpose = _implied_purpose(text, implied[0][0], langs)
    if purpose is None:
        purpose_pattern = patterns("prose_bases", "purpose", None, langs)
        found = [
            m
            for m in (purpose_pattern.finditer(text) if purpose_pattern else ())
            if any(_same_clause(text, end, m.start()) for end in ties)
        ]
        after = [m for m in found if m.start() >= ties[0]]
        chosen = (after or found)[:1]
        if chosen:
            purpose = next(g for g in chosen[0].groups() if g).strip(" ,")
    if not bases or not purpose:
        return ()
    if (
        any(
            (m := patterns("legal_bases", "mention", b, langs)) and m.search(purpose) for b in BASES
        )
        or len(_content(purpose)) < 2
        or _vague(purpose, langs)
    ):
        return ()
    announced_pattern = patterns("prose_bases", "announced", None, langs)
    announced = bool(announced_pattern and announced_pattern.search(text))
    date = next((m.group(0) for m in _DATE.finditer(text) if iso_date(m.group(0))), None)
    return tuple(ProseBasis(b, purpose, announced, date, text) for b in bases)


def _vague(purpose: str, langs: tuple[str, ...]) -> bool:
    """Is a purpose only words any processing has ("process certain Personal Data about
    you")? prose_bases.toml ``[vague]``."""
    vague = {w for lang in langs for w in load("prose_bases").get("vague", {}).get(lang, [])}
    return _content(purpose) <= vague


def _implied(text: str, langs: tuple[str, ...]) -> list[tuple[int, str]]:
    """(end, basis) of each tie that names its basis itself ("Certain laws require us"),
    in text order (prose_bases.toml ``[implied.<basis>]``)."""
    found = []
    for basis in BASES:
        pattern = patterns("prose_bases", "implied", basis, langs)
        found += [(m.end(), basis) for m in (pattern.finditer(text) if pattern else ())]
    return sorted(found)


def _implied_purpose(text: str, end: int, langs: tuple[str, ...]) -> str | None:
    """What an implied tie ties, as the words after it say it ("to share information ...")."""
    pattern = patterns("prose_bases", "implied_purpose", None, langs)
    m = pattern.match(text, end) if pattern else None
    if m is None:
        return None
    return next(g for g in m.groups() if g).strip(" ,")


def _same_clause(text: str, a: int, b: int) -> bool:
    """Are positions ``a`` and ``b`` of ``text`` in one clause (no ";" or list marker between)?"""
    return not _CLAUSE_BREAK.search(text, min(a, b), max(a, b))


def _main_clause(text: str, tie: re.Match[str] | None, langs: tuple[str, ...]) -> str | None:
    """The main clause of a sentence that opens with its tie ("With your consent, we share
    your email address with sellers to ..."): what is done is the purpose, as worded."""
    main = patterns("prose_bases", "main", None, langs)
    if tie is None or main is None or text[: tie.start()].strip(" *-|>"):
        return None
    m = main.match(text, tie.end())
    if m is None:
        return None
    clause = next(g for g in m.groups() if g).strip(" ,")
    if len(clause) > _PURPOSE_LIMIT:
        clause = clause[:_PURPOSE_LIMIT].rsplit(" ", 1)[0]
    return clause


def prose_mentions(added: Sequence[str], removed: Sequence[str], lang: str = "en") -> bool:
    """Does a changed sentence tie something to a basis (even without a clear purpose)?

    Not when it speaks of a right or a condition (``[not]``: "When consent is used as a
    legal basis ..., you have the right to ..."), when the purpose an implied tie names is
    vague ("Applicable laws also require us to process certain Personal Data about you"),
    nor when it rewords a sentence of the other side that names the same basis (a heading
    losing its stop, quotes straightened, "such as" made "like").
    """
    langs = lang_of(lang)
    for these, others in ((added, removed), (removed, added)):
        theirs = [(_content(o), _mentioned(fold(plain(o)), langs)) for o in others]
        for sentence in these:
            named = _mentioned(fold(plain(sentence)), langs)
            if not named:
                continue
            mine = _content(sentence)
            if not any(
                named & bases and len(mine & words) >= _SAME * len(mine) for words, bases in theirs
            ):
                return True
    return _outside(added, removed, langs) or _outside(removed, added, langs)


def _mentioned(text: str, langs: tuple[str, ...]) -> frozenset[str]:
    """The bases a (folded, plain) sentence ties something to: a tie near a basis, or a
    tie naming its basis itself with a purpose that is not vague; none when the sentence
    speaks of a right or a condition. A tie ties something only when its clause holds
    other words than the tie and the basis ("(4) with your consent;" in a list of purposes,
    a heading "With Your Consent")."""
    not_a_claim = patterns("prose_bases", "not", None, langs)
    if not_a_claim is not None and not_a_claim.search(text):
        return frozenset()
    found: set[str] = set()
    tie = patterns("prose_bases", "tie", None, langs)
    for m in tie.finditer(text) if tie is not None else ():
        start = max((b.end() for b in _CLAUSE_BREAK.finditer(text, 0, m.start())), default=0)
        stop = _CLAUSE_BREAK.search(text, m.end())
        clause = text[start : stop.start() if stop else len(text)]
        rest = clause.replace(m.group(0), " ")
        for basis in BASES:
            mention = patterns("legal_bases", "mention", basis, langs)
            if mention is not None and mention.search(clause):
                # "(4) with your consent;" or a heading "With Your Consent": nothing tied
                if len(_content(mention.sub(" ", rest))) >= 2:
                    found.add(basis)
    for end, basis in _implied(text, langs):
        purpose = _implied_purpose(text, end, langs)
        if purpose and not _vague(purpose, langs):
            found.add(basis)
    return frozenset(found)


def _outside(these: Sequence[str], others: Sequence[str], langs: tuple[str, ...]) -> bool:
    """Does one of ``these`` sentences say something is done outside a basis ("outside of
    our contract with you"), other than as a rewording of one of ``others``?"""
    outside = patterns("prose_bases", "outside", None, langs)
    if outside is None:
        return False
    theirs = [_content(o) for o in others if outside.search(fold(plain(o)))]
    for sentence in these:
        if outside.search(fold(plain(sentence))):
            mine = _content(sentence)
            if not any(len(mine & t) >= _SAME * len(mine) for t in theirs):
                return True
    return False


def _stated_in(text: str, claim: ProseBasis, lang: str) -> bool:
    """Does ``text`` state ``claim``'s basis with most of its purpose's words on one line?"""
    langs = lang_of(lang)
    mention = patterns("legal_bases", "mention", claim.basis, langs)
    implied = patterns("prose_bases", "implied", claim.basis, langs)
    want = _content(claim.purpose)
    if (mention is None and implied is None) or not want:
        return False
    for line in text.splitlines():
        folded = fold(plain(line))
        named = any(p is not None and p.search(folded) for p in (mention, implied))
        if named and len(want & _content(folded)) >= _SAME * len(want):
            return True
    return False


def prose_changes(
    added: Sequence[str], removed: Sequence[str], old: str, new: str, lang: str = "en"
) -> list[dict[str, Any]]:
    """Claims (summary ``bases`` items) from sentences only in ``new`` / only in ``old``,
    each checked against the other text."""
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for action, sentences, other in (("added", added, old), ("removed", removed, new)):
        for sentence in sentences:
            for claim in prose_bases(sentence, lang):
                key = (action, claim.basis, claim.purpose.casefold())
                if key in seen or _stated_in(other, claim, lang):
                    continue
                seen.add(key)
                item: dict[str, Any] = {
                    "action": action,
                    "basis": basis_name(claim.basis),
                    "purpose": claim.purpose,
                    "stated": "prose",
                    "sentence": claim.sentence[:300],
                }
                if claim.announced and action == "added":
                    item["announced"] = {"date": claim.date, "iso": iso_date(claim.date)}
                out.append(item)
    reworded = {i["basis"] for i in out if i["action"] == "added"} & {
        i["basis"] for i in out if i["action"] == "removed"
    }
    return [i for i in out if i["basis"] not in reworded]
