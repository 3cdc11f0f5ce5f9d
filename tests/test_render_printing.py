"""Templates print each value with one call (feeds/render.py: ``environment.shown``), and
print exactly what Jinja's ``escape(finalize(value))`` printed: crawled text cleaned of
control characters and escaped, Markup as it is. The fragments built in Python
(feeds/fragments.py) escape as markupsafe does."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from jinja2 import Environment, StrictUndefined
from markupsafe import Markup, escape

from changes.diff import Hunk
from feeds import fragments, render, text

HOSTILE = [
    "plain",
    "",
    '<script>alert("x")</script>',
    'Tom & Jerry\'s "quotes" <b>',
    "control\x00\x01\x08\x0b\x0c\x1f characters",
    "lone \ud800 surrogate and \ufffe",
    "new\nline\ttab\r",
    "\u2028\u00a0\u200b unicode spaces",
    "&amp; already an entity",
    Markup("<em>trusted</em>"),
    42,
    None,
    3.5,
    ["<li>", "a list"],
    {"k": "<v>"},
]


class Html:
    """An object with ``__html__`` (printed as its HTML, as markupsafe does)."""

    def __html__(self) -> str:
        return "<i>html</i>"

    def __str__(self) -> str:
        return "<not used>"


class Subclass(str):
    """A str subclass that is not Markup: cleaned and escaped like a str."""


def jinja_as_before() -> Environment:
    return Environment(autoescape=True, undefined=StrictUndefined, finalize=render._finalize)


def shown_env() -> Environment:
    env = render._Environment(autoescape=True, undefined=StrictUndefined, finalize=render._finalize)
    return env


@pytest.mark.parametrize("value", [*HOSTILE, Html(), Subclass("<sub>\x01")])
def test_a_value_prints_as_escape_of_finalize(value: Any) -> None:
    source = "<p title='{{ v }}'>{{ v }}</p>{{ [v] }}{{ v if v else 'none' }}"
    before = jinja_as_before().from_string(source).render(v=value)
    after = shown_env().from_string(source).render(v=value)
    assert after == before
    assert "<script>" not in after
    assert "\x00" not in after and "\x01" not in after


def test_printing_goes_through_one_call_and_autoescape_blocks_keep_jinjas_code() -> None:
    env = render.environment()
    source = env.loader.get_source(env, "change.html")[0]  # type: ignore[union-attr]
    code = env.compile(source, "change.html", raw=True)
    assert "environment.shown(" in code
    assert "escape(environment.finalize(" not in code
    toggled = "{% autoescape false %}{{ v }}{% endautoescape %}|{{ v }}"
    for env_ in (jinja_as_before(), shown_env()):
        assert env_.from_string(toggled).render(v="<b>\x01") == "<b>|&lt;b&gt;"


def test_undefined_values_still_fail() -> None:
    with pytest.raises(Exception, match="undefined"):
        shown_env().from_string("{{ missing }}").render()


@pytest.mark.parametrize("value", [v for v in HOSTILE if type(v) is str])
def test_escape_html_is_markupsafes_escape(value: str) -> None:
    assert text.escape_html(value) == str(escape(value))


def test_fragments_escape_hostile_text_as_before() -> None:
    nasty = "<script>\x01&'\"</script>\nsecond <line>"
    ops = (("=", nasty), ("-", "<del>"), ("+", "\x0b<ins>&"))
    assert fragments.lines(nasty) == escape(text.clean(nasty))
    assert fragments.lines(nasty, breaks=True) == Markup("<br>\n").join(
        escape(line) for line in text.clean(nasty).split("\n")
    )
    html = fragments.ops_html(ops)
    assert isinstance(html, Markup)
    assert html == (
        f"{escape(text.clean(nasty))}<del>{escape('<del>')}</del><ins>{escape('<ins>&')}</ins>"
    )
    hunk = Hunk(old_line=1, new_line=2, ops=ops)
    for out in (fragments.diff([hunk], lang='"><x'), fragments.side_by_side([hunk], '"><x')):
        assert "<script>" not in out and "\x01" not in out and '"><x' not in out
    assert fragments.badges(["<b>", Markup("<i>ok</i>")]) == Markup(
        '<ul class="badges" aria-label="Categories"><li class="badge">&lt;b&gt;</li>'
        '<li class="badge"><i>ok</i></li></ul>'
    )


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2024, 6, 10, 14, 3, tzinfo=UTC),
        datetime(2024, 6, 10, 16, 3, 5, 120, tzinfo=timezone(timedelta(hours=2))),
        datetime(999, 1, 2, tzinfo=UTC),
    ],
)
def test_time_tag_is_as_before(moment: datetime) -> None:
    shown = escape(text.fmt_datetime(moment))
    want = Markup(f'<time datetime="{escape(moment.isoformat())}">{shown}</time>')
    assert fragments.time_tag(moment) == want


def test_clean_removes_what_the_regular_expression_removes() -> None:
    """text.clean finds a text legal without the regex (text._legal); on random texts of
    controls, surrogates, noncharacters, newlines and non-ASCII letters, short and long,
    it returns what the regex alone returned."""
    rng = random.Random(11)
    alphabet = ["a", " ", "\n", "\t", "\r", "é", "“", "数", "\x00", "\x01", "\x08", "\x0b",
                "\x0c", "\x0e", "\x1f", "\x7f", "\x85", "\ud800", "\udfff", "\ufffe", "\uffff",
                "\ufffd", "\U0001f600", "\ue000", "\u2028"]  # fmt: skip
    for _ in range(20000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))
        assert text.clean(s) == text._ILLEGAL.sub("", s), repr(s)
    long_text = "Paragraph one.\n\nParagraph “two”.\n" * 400
    assert text.clean(long_text) is long_text
    for bad in ("\x00", "\ud800", "\uffff", "\x1f"):
        dirty = long_text + bad + long_text
        assert text.clean(dirty) == long_text * 2
