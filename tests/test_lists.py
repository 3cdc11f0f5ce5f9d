"""The Python fragments of feeds/lists.py print what the template code they replaced
printed (kept here as it was), for hostile crawled values: markup, quotes, ampersands,
control characters, a lone surrogate."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from markupsafe import Markup

from feeds import lists, render
from feeds.timeline import FailureRun, Timeline, timeline
from feeds.views import ChangeView, DocumentView, VersionView

NASTY = ['<script>"x"</script>', "a & b", "it's", "\x01bell\x0b", "lone \ud800", "é “q”", ""]

# document.html's timeline loop, as it was before feeds/lists.py printed it.
OLD_TIMELINE = """<ol class="timeline" reversed>
{% for e in events %}
{% if e.change %}{% set c = e.change %}
<li class="event event-change">
<p class="event-kind">Change · recorded {{ c.detected_at|time_tag }}</p>
<h3><a href="{{ root }}{{ c.path }}">{{ c.title }}</a></h3>
<p class="meta">effective {{ c.effective_date or "date not stated" }} · {% if c.has_diff %}\
{{ counts(c) }}{% else %}{{ c.kind }}{% endif %}</p>
{{ badges(c.categories) }}
{% if c.one_line %}<p class="one-line">{{ c.one_line }}</p>{% endif %}
</li>
{% elif e.version %}{% set v = e.version %}
<li class="event event-version">
<p class="event-kind">Version · {{ v.first_seen|time_tag }}</p>
<p><a href="{{ root }}{{ v.path }}">Version {{ v.id }}</a>: {{ v.words }} words\
{% if v.effective_date %}, states the date {{ v.effective_date }}{% endif %}; seen until \
{{ v.last_seen|time_tag }}{% if v.id == document.current_version_id %} (current){% endif %}.</p>
</li>
{% else %}{% set f = e.failure %}
<li class="event event-failure">
<p class="event-kind">Fetch failed · {{ f.last|time_tag }}</p>
<p><strong>{{ f.error }}</strong>{% if f.http_status %} (HTTP {{ f.http_status }}){% endif %}\
{% if f.count > 1 %}: {{ f.count }} fetches in a row, from {{ f.first|time_tag }}{% endif %}.\
{% if f.detail %} <span class="meta">{{ f.detail }}</span>{% endif %}</p>
<p class="note">A failed fetch is never a change: the last good version stays current.</p>
</li>
{% endif %}
{% endfor %}
</ol>
"""
NEW_TIMELINE = """<ol class="timeline" reversed>
{{ events.html(root, document.current_version_id) }}</ol>
"""


def _pick(rng: random.Random) -> str:
    return rng.choice(NASTY) + rng.choice(["", "plain words", "<b>"])


def _document(rng: random.Random, current: int | None) -> DocumentView:
    return DocumentView(
        "doc", "doc", _pick(rng), "svc", "policy", "en_US", "en-US", None, "", current
    )


def _change(rng: random.Random, i: int, doc: DocumentView, at: datetime) -> ChangeView:
    summaries: list[dict[str, Any]] = [
        {},
        {"ai": True},
        {"bases": [{"basis": _pick(rng), "purpose": _pick(rng), "action": "added"}]},
        {"date": {"old": _pick(rng), "new": _pick(rng)}},
        {"note": _pick(rng)},
    ]
    return ChangeView(
        id=i,
        document=doc,
        title=_pick(rng),
        detected_at=at,
        effective_date=rng.choice([None, "", _pick(rng)]),
        previous_effective_date=None,
        first_version=False,
        categories=rng.choice(
            [[], ["text"], [_pick(rng), "AI & data"], ["<i>"], [Markup("<i>")], ["a<b"]]
        ),
        words_added=rng.randrange(0, 50),
        words_removed=rng.randrange(0, 50),
        summary=rng.choice(summaries),
        kind=rng.choice(["text", "link-health", _pick(rng)]),
        diff_blob=rng.choice([None, "abc"]),
    )


def _version(rng: random.Random, i: int, at: datetime) -> VersionView:
    return VersionView(
        id=i,
        first_seen=at,
        last_seen=at + timedelta(hours=rng.randrange(0, 90)),
        effective_date=rng.choice([None, "", _pick(rng)]),
        words=rng.randrange(0, 5000),
        document_id="doc",
    )


def _failure(rng: random.Random, at: datetime) -> FailureRun:
    return FailureRun(
        error=_pick(rng) or "timeout",
        count=rng.choice([1, 2, 17]),
        first=at - timedelta(hours=3),
        last=at,
        http_status=rng.choice([None, 0, 404, 503]),
        detail=rng.choice(["", _pick(rng)]),
    )


def test_timeline_items_print_what_the_template_loop_printed() -> None:
    env = render.environment()
    old, new = env.from_string(OLD_TIMELINE), env.from_string(NEW_TIMELINE)
    rng = random.Random(7)
    zones = [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
    for round_ in range(60):
        start = datetime(2024, 1, 1, tzinfo=rng.choice(zones))
        ats = [start + timedelta(minutes=rng.randrange(0, 10_000)) for _ in range(40)]
        versions = [_version(rng, 100 + i, at) for i, at in enumerate(ats[:12])]
        doc = _document(rng, rng.choice([None, versions[0].id, versions[-1].id]))
        changes = [_change(rng, i, doc, at) for i, at in enumerate(ats[12:30])]
        failures = [_failure(rng, at) for at in ats[30:]]
        events = timeline(changes, versions, failures)
        assert isinstance(events, Timeline) and len(events) == len(ats)
        for root in ("", "../", '../"<&'):
            context = {"events": events, "root": root, "document": doc}
            want = old.render(**context)
            assert new.render(**context) == want, round_
            assert "<script>" not in want and "\x01" not in want
    empty = Timeline()
    assert empty.html("../", None) == Markup("")


def test_shown_prints_as_a_template_prints() -> None:
    env = render.environment()
    template = env.from_string("{{ value }}")

    class Sub(str):
        pass

    for value in [*NASTY, Sub("<i>\x02"), Markup("<b>kept</b>"), 12, None, 3.5, True]:
        assert lists.shown(value) == template.render(value=value), repr(value)
