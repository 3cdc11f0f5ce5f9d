"""``dates``: a stated date moved (changes/classify.py finds it with changes/dates.py)."""

from changes.categories import Category, register

DATES = register(
    Category(
        "dates",
        "The page states a new date: when the policy takes effect, or when a change will start.",
        order=30,
    )
)
