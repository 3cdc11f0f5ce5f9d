"""``opt-out``: an objection, opt-out or consent link changed, or a sentence saying how to
object, opt out or withdraw consent (changes/classify.py finds both with changes/optout.py)."""

from changes.categories import Category, register

OPT_OUT = register(
    Category(
        "opt-out",
        "An objection, opt-out or consent link was added, removed or pointed elsewhere, or "
        "a sentence saying how to object or opt out changed: the place where a person says "
        "no.",
        order=20,
    )
)
