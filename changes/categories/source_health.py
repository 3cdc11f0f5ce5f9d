"""``source-health``: a watched page could not be fetched for a while, or can be again
(changes/source_health.py; not a text diff)."""

from changes.categories import Category, register

SOURCE_HEALTH = register(
    Category(
        "source-health",
        "A watched page could not be fetched for a while, or can be again.",
        order=70,
        text_diff=False,
    )
)
