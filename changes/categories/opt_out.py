"""``opt-out``: an objection, opt-out or consent link changed (changes/classify.py finds it
with changes/optout.py)."""

from changes.categories import Category, register

OPT_OUT = register(
    Category(
        "opt-out",
        "An objection, opt-out or consent link was added, removed or pointed elsewhere: the "
        "place where a person says no.",
        order=20,
    )
)
