"""The site's colours are readable in light and dark mode."""

from __future__ import annotations

import re

from tests import factories, site_helpers

session = factories.session  # a real SQLite file
changes = site_helpers.changes


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_colours_have_enough_contrast_in_light_and_dark_mode() -> None:
    from importlib import resources

    css = resources.files("feeds").joinpath("static", "style.css").read_text()
    light_block = css[css.index(":root {") : css.index("}", css.index(":root {"))]
    dark_start = css.index(":root {", css.index("prefers-color-scheme: dark"))
    dark_block = css[dark_start : css.index("}", dark_start)]
    for block in (light_block, dark_block):
        colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", block))
        for fg, bg in (
            ("fg", "bg"),
            ("muted", "bg"),
            ("link", "bg"),
            ("badge-fg", "badge-bg"),
            ("ins-fg", "ins-bg"),
            ("del-fg", "del-bg"),
            ("warn-fg", "warn-bg"),
        ):
            ratio = contrast(colours[fg], colours[bg])
            assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f} (WCAG AA needs 4.5)"
