"""The story of a change for its page: one sentence of what changed and, for legal-basis and
opt-out changes, what it means for a person and how to object, with the sources (GDPR
articles) and the current objection links of the document. Pure functions.

The explanations are ours, short and general: they say what the GDPR gives a person for a
basis, never what Meta does in a given case. A basis the text does not name gets none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from changes.summaries import BasisClaim, read_bases, read_date, read_links
from feeds import text
from feeds.health import LinkView
from feeds.views import ChangeView

GDPR = "https://eur-lex.europa.eu/eli/reg/2016/679/oj"


@dataclass(frozen=True)
class Explanation:
    basis: str  # as summaries name it
    title: str
    what: str  # what the basis means for a person
    objecting: str  # how to object, or why one cannot
    articles: tuple[str, ...]  # cited GDPR articles


BASES: dict[str, Explanation] = {
    "legitimate interests": Explanation(
        "legitimate interests",
        "Legitimate interests",
        "Meta does not ask for your permission: it has weighed its own interests (or a third "
        "party's) against your rights and decided that its interests win.",
        "You can object at any time, for reasons that concern your own situation; Meta must "
        "then stop unless it shows compelling legitimate grounds that override your interests "
        "and rights. An objection to direct marketing must always be followed.",
        ("Article 6(1)(f)", "Article 21(1)", "Article 21(2) and (3)"),
    ),
    "consent": Explanation(
        "consent",
        "Consent",
        "Meta may use your information for this purpose only if you agreed to it.",
        "You can withdraw your consent at any time, and withdrawing must be as easy as "
        "giving it; what was done before you withdrew stays lawful.",
        ("Article 6(1)(a)", "Article 7(3)"),
    ),
    "contract": Explanation(
        "contract",
        "Performance of a contract",
        "Meta says it needs your information to provide the service you signed up for.",
        "The right to object of Article 21 does not apply to this basis; you can ask for "
        "your information to be erased when it is no longer needed, or stop using the service.",
        ("Article 6(1)(b)", "Article 17", "Article 21(1)"),
    ),
    "legal obligation": Explanation(
        "legal obligation",
        "Legal obligation",
        "Meta says a law requires it to use your information this way.",
        "The right to object of Article 21 does not apply to this basis.",
        ("Article 6(1)(c)", "Article 21(1)"),
    ),
    "vital interests": Explanation(
        "vital interests",
        "Vital interests",
        "Meta says the use is needed to protect someone's life or physical safety.",
        "The right to object of Article 21 does not apply to this basis.",
        ("Article 6(1)(d)", "Article 21(1)"),
    ),
    "public interest": Explanation(
        "public interest",
        "Public interest",
        "Meta says the use is needed for a task carried out in the public interest.",
        "You can object at any time, for reasons that concern your own situation, as for "
        "legitimate interests.",
        ("Article 6(1)(e)", "Article 21(1)"),
    ),
}
OPT_OUT = (
    "An objection or opt-out link is where a person exercises the right to object or "
    "withdraws consent. Meta must make exercising these rights easy; if a link disappears "
    "or stops working, the rights remain.",
    ("Article 12(2)", "Article 21", "Article 7(3)"),
)
LINK_KINDS = ("objection", "opt-out", "consent", "form")


def _s(value: Any) -> str:
    return text.clean(str(value)).strip() if value is not None else ""


def _basis_key(name: str) -> str | None:
    name = " ".join(name.lower().replace("-", " ").split())
    for key in BASES:
        if key in name or (key == "public interest" and "public" in name):
            return key
    if "contract" in name:
        return "contract"
    return None


def bases_named(summary: Mapping[str, Any]) -> list[str]:
    """The bases a change's summary names (added or removed), known ones only, in order."""
    found: list[str] = []
    for claim in read_bases(summary) or []:
        key = _basis_key(_s(claim.basis))
        if key and key not in found:
            found.append(key)
    return found


def _announced(doc: str, claims: list[BasisClaim]) -> str:
    first = claims[0]
    when = first.announced.date if first.announced else ""
    says = f"{doc} announces {_s(first.basis)} as the legal basis"
    says += f" for \u201c{_s(first.purpose)}\u201d" if first.purpose else ""
    says += f", from {_s(when)}" if when else ", in a text not yet in force"
    more = len(claims) - 1
    return says + (f" (and {more} more basis change{'s' if more > 1 else ''})." if more else ".")


def sentence(change: ChangeView, passages: int) -> str:
    """What changed, in one sentence. A claim announced for later is told as announced."""
    summary = change.summary if isinstance(change.summary, Mapping) else {}
    doc = change.document.title
    bases = read_bases(summary) or []
    added = [c for c in bases if c.action == "added"]
    removed = [c for c in bases if c.action == "removed"]
    if added and added[0].announced is not None:
        return _announced(doc, added)
    if added:
        first = added[0]
        purpose = _s(first.purpose)
        was = next((_s(r.basis) for r in removed if _s(r.purpose) == purpose), "")
        says = f"{doc} now names {_s(first.basis)} as the legal basis"
        says += f" for \u201c{purpose}\u201d" if purpose else ""
        says += f", where it named {was}" if was else ""
        more = len(added) - 1
        return says + (
            f" (and {more} more basis change{'s' if more > 1 else ''})." if more else "."
        )
    if removed:
        first = removed[0]
        purpose = _s(first.purpose)
        return f"{doc} no longer names {_s(first.basis)} as the legal basis" + (
            f" for \u201c{purpose}\u201d." if purpose else "."
        )
    links = read_links(summary)
    counts = links.counts() if links is not None else {}
    if counts:
        parts = [
            f"{n} objection or opt-out link{'s' if n > 1 else ''} {k}" for k, n in counts.items()
        ]
        return f"In {doc}, " + ", ".join(parts) + "."
    date = read_date(summary)
    if date is not None and _s(date.new):
        old = _s(date.old)
        return f"{doc} now states the date {_s(date.new)}" + (f" instead of {old}." if old else ".")
    if change.kind != "text":
        return change.title if change.title.endswith(".") else change.title + "."
    if change.first_version:
        return f"The first version of {doc} policywatch recorded."
    return (
        f"The wording of {doc} changed: {change.words_added} words added and "
        f"{change.words_removed} removed, in {passages} passage{'s' if passages != 1 else ''}."
    )


def explanations(change: ChangeView) -> list[Explanation]:
    """What each basis the change names means, for legal-basis changes."""
    return [BASES[key] for key in bases_named(change.summary)]


def about_opt_out(change: ChangeView) -> bool:
    """Whether the change concerns objection or opt-out links (its category or summary)."""
    links = read_links(change.summary)
    return "opt-out" in change.categories or bool(links and links.counts())


def objection_links(change: ChangeView, links: Sequence[LinkView]) -> list[LinkView]:
    """The objection, opt-out and consent links the change's document shows now."""
    path = change.document.path
    return [
        link
        for link in links
        if link.kind in LINK_KINDS
        and any(s.document_path == path and s.present for s in link.sightings)
    ]
