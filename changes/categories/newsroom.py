"""``newsroom``: a newsroom post about privacy or AI (made by pipeline/newsroom steps with
changes/newsroom.py, not from a text diff)."""

from changes.categories import Category, register

NEWSROOM = register(
    Category(
        "newsroom",
        "A post on Meta's newsroom that concerns privacy or AI was published or edited.",
        order=50,
        text_diff=False,
    )
)
