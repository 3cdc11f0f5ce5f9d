"""What each category means, for category pages and the index. A category this module does
not know is shown without a description (never a guess)."""

from __future__ import annotations

DESCRIPTIONS: dict[str, str] = {
    "text": "The wording of a watched page changed. Every change of text has this category; "
    "the others say what the change touches.",
    "legal-basis": "The page changed the legal basis it gives for a purpose (consent, "
    "legitimate interests, contract...): the basis decides which rights a person has, such as "
    "the right to object.",
    "opt-out": "An objection, opt-out or consent link was added, removed or pointed "
    "elsewhere: the place where a person says no.",
    "dates": "The page states a new date: when the policy takes effect, or when a change "
    "will start.",
    "ai": "The change concerns artificial intelligence: training models, AI features, or "
    "the information used for them.",
    "newsroom": "A post on Meta's newsroom that concerns privacy or AI was published or edited.",
    "opt-out-health": "An objection or opt-out link stopped working (unavailable, asks to "
    "log in, gone) or works again, as seen by checking it logged out.",
    "source-health": "A watched page could not be fetched for a while, or can be again.",
}


def describe(category: str) -> str:
    """The description of ``category``, or "" if it has none."""
    return DESCRIPTIONS.get(category, "")
