"""``opt-out-health``: an objection link stopped or started working (changes/link_health.py
judges a link check; not a text diff)."""

from changes.categories import Category, register

OPT_OUT_HEALTH = register(
    Category(
        "opt-out-health",
        "An objection or opt-out link stopped working (unavailable, asks to log in, gone) or "
        "works again, as seen by checking it logged out.",
        order=60,
        text_diff=False,
    )
)
