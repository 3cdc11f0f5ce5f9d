"""A feed entry's HTML content, built in Python (feeds/feed.py: entry_content), is what
the template entry.html printed (removed; kept here as it was), for hostile crawled
values and diffs of many passages."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from markupsafe import Markup

from changes.diff import Hunk
from feeds import feed, render, story, text
from tests.test_lists import NASTY, _change, _document

OLD_ENTRY = """<p>{% if change.has_diff %}+{{ change.words_added }} / −{{ change.words_removed }} \
words{% else %}{{ change.kind }}{% endif %}{% if change.categories %} · \
{{ change.categories|join(", ") }}{% endif %} · recorded {{ change.detected_at|fmt_datetime }} \
· effective {{ change.effective_date or "date not stated" }}</p>
<p>{{ sentence }}</p>
{% set blocks = summarise(change.summary) %}
{% if blocks %}
<ul>
{% for block in blocks %}
<li><strong>{{ block.label }}:</strong> {{ block.lines|map(attribute="plain")|join("; ") }}</li>
{% endfor %}
</ul>
{% endif %}
{% if change.has_diff %}
<p>{{ marks_legend }}</p>
{{ diff(hunks, breaks=True, marks=True) }}
{% if more %}<p>… and {{ more }} more changed passage{{ "s" if more > 1 else "" }}.</p>\
{% endif %}
{% endif %}
<p><a href="{{ link }}">Read the {{ "full diff" if change.has_diff else "details" }}</a></p>
"""


def _old_content(change: feed.ChangeView, folded: list[Hunk], base_url: str) -> str:
    """entry_content as it was: entry.html rendered, then cleaned."""
    shown, more = render.excerpt(folded)
    html = (
        render.environment()
        .from_string(OLD_ENTRY)
        .render(
            change=change,
            hunks=shown,
            more=more,
            link=base_url + change.path,
            sentence=story.sentence(change, len(folded)),
        )
    )
    return text.clean(html)


def _hunks(rng: random.Random) -> list[Hunk]:
    words = [*NASTY, "word", "\n", "line\nbreak", "x" * 400]
    found = []
    for i in range(rng.choice([0, 1, 2, 3, 4, 9])):
        ops = tuple(
            (rng.choice("=+-"), " ".join(rng.choice(words) for _ in range(rng.randrange(1, 6))))
            for _ in range(rng.randrange(1, 7))
        )
        found.append(Hunk(ops=ops, old_line=3 * i + 1, new_line=3 * i + rng.choice([1, 2])))
    return found


def test_entry_content_is_what_the_template_printed() -> None:
    rng = random.Random(3)
    summaries = [
        {"links": {"added": [{"url": 'https://e.org/?a=1&b="2"', "label": NASTY[0]}]}},
        {"bases": [{"basis": NASTY[0], "purpose": NASTY[3], "action": "removed"}]},
        {"date": {"old": None, "new": NASTY[1]}, "ai": "maybe <b>"},
        {"custom <key>": [NASTY[0], NASTY[2]], "words_added": 3},
    ]
    for round_ in range(300):
        doc = _document(rng, None)
        at = datetime(2024, 5, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 9999))
        change = _change(rng, round_, doc, at)
        if rng.random() < 0.4:
            object.__setattr__(change, "summary", rng.choice(summaries))
        if rng.random() < 0.1:
            object.__setattr__(change, "categories", [Markup("<i>kept</i>"), "a & b"])
        folded = _hunks(rng) if change.has_diff else []
        for base in ("https://example.org/pw/", 'https://e.org/"<&/'):
            want = _old_content(change, folded, base)
            assert feed.entry_content(change, folded, base) == want, round_
            assert "<script>" not in want and "\x01" not in want
