"""``text``: the words of a page changed (found by changes/classify.py)."""

from changes.categories import Category, register

TEXT = register(
    Category(
        "text",
        "The wording of a watched page changed. Every change of text has this category; "
        "the others say what the change touches.",
        order=0,
    )
)
