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


# The macros of _macros.html that fragments.summary_blocks and fragments.passage_list
# replaced, as they were: the Python must print what they printed.
OLD_MACROS = """{% macro summary_blocks(blocks, targets={}) %}
{% if blocks %}
<dl class="summary">
{% for block in blocks %}
{% set b = loop.index0 %}
<dt>{{ block.label }}</dt>
{% for line in block.lines %}<dd{% if line.mark %} class="mark-{{ line.mark }}"{% endif %}>\
{% for p in line.pieces %}{{ piece(p) }}{% endfor %}{% if (b, loop.index0) in targets %} \
<a class="to-passage" href="#{{ targets[(b, loop.index0)] }}">see the passage</a>{% endif %}</dd>
{% endfor %}
{% endfor %}
</dl>
{% endif %}
{% endmacro %}

{% macro passage_list(items, lang, version=None, root="") %}
{% for p in items %}
<section class="hunk passage" id="{{ p.anchor }}" aria-label="Changed passage at line {{ p.line }}">
<p class="hunk-head">{% if version %}<a href="{{ root }}{{ version.path }}#L{{ p.hunk.new_line }}">\
Line {{ p.hunk.new_line }}</a>{% else %}Line {{ p.hunk.new_line }}{% endif %}\
{% if p.hunk.old_line != p.hunk.new_line %} (line {{ p.hunk.old_line }} before){% endif %}</p>
<div class="rendered"{% if lang %} lang="{{ lang }}"{% endif %}>{{ p.html }}</div>
</section>
{% endfor %}
{% endmacro %}
"""


def test_summary_and_passage_fragments_print_what_the_macros_printed() -> None:
    from feeds.passages import Passage
    from feeds.summary import Block, Line, Piece

    nasty = '<script>"x"\x01&'
    blocks = [
        Block(nasty, (Line((Piece("Added: "), Piece(nasty, code=True)), "added"),)),
        Block(
            "Links",
            (
                Line((Piece("see ", None), Piece("here", "https://e.org/?a=1&b=<2>"))),
                Line((Piece("bad", "javascript:alert(1)"),), 'x" onclick="y'),
                Line(()),
            ),
        ),
    ]
    targets = {(0, 0): 'passage-1"><b>', (1, 2): "passage-2"}
    hunk = Hunk(ops=(("=", "a"),), old_line=3, new_line=5)
    items = [
        Passage(hunk, 0, Markup("<p>safe <ins>html</ins></p>"), False, None, 'passage-1"<'),
        Passage(Hunk(ops=(), old_line=7, new_line=7), 1, Markup(""), True, "ai", "p-2"),
    ]

    class Version:
        path = 'versions/9.html"<'

    env = render.environment()
    macros = env.from_string(OLD_MACROS).module
    for blocks_, targets_ in ((blocks, targets), ([], {}), (blocks, {})):
        want = macros.summary_blocks(blocks_, targets_)  # type: ignore[attr-defined]
        assert fragments.summary_blocks(blocks_, targets_) == want
    for version, root, lang in ((Version(), '../"', 'en"<'), (None, "", ""), (None, "../", "fr")):
        want = macros.passage_list(items, lang, version, root)  # type: ignore[attr-defined]
        assert fragments.passage_list(items, lang, version, root) == want
    summary = fragments.summary_blocks(blocks, targets)  # pieces come cleaned: summary.blocks
    assert "<script>" not in summary and "javascript:" not in summary
    listed = fragments.passage_list(items, nasty)
    assert "<script>" not in listed and "\x01" not in listed


def test_remembered_html_is_the_html_computed_and_stays_bounded() -> None:
    """fragments.text_html: the same as escaping and cleaning each time, cold or
    remembered, for markup, entities and control characters; the memo never outgrows
    its bound."""
    rng = random.Random(5)
    pieces = ["<script>", "</td>", "&amp;", '"', "'", "\x00", "\x0b", "\ud800", "\n", "é", "a b"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randrange(0, 9))) for _ in range(9000)]
    for _ in range(2):  # cold, then (for those still held) remembered
        for t in texts:
            html = fragments.text_html(t)
            assert html == str(escape(text.clean(t)))
            assert "<script>" not in html and "\x00" not in html
            assert len(fragments._HTML) <= fragments._HTML_MAX


def test_remembered_moments_print_as_computed_even_when_equal_as_keys() -> None:
    """time_tag and fmt_datetime are remembered by the moment, its offset and its fold:
    the same instant in two zones, and a repeated wall time (fold 0 and 1 compare equal
    in one zone), each print their own text."""
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    moments = [
        datetime(2024, 6, 10, 12, 0, tzinfo=UTC),
        datetime(2024, 6, 10, 14, 0, tzinfo=berlin),  # the same instant
        datetime(2024, 10, 27, 2, 30, tzinfo=berlin),  # fold 0: 00:30 UTC
        datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=berlin),  # equal to it, 01:30 UTC
        datetime(2024, 6, 10, 12, 0, 0, 5, tzinfo=UTC),
    ]
    assert moments[0] == moments[1] and moments[2] == moments[3]
    for _ in range(2):
        for moment in moments:
            shown = escape(text.fmt_datetime(moment))
            want = Markup(f'<time datetime="{escape(moment.isoformat())}">{shown}</time>')
            assert fragments.time_tag(moment) == want
            assert fragments.fmt_datetime(moment) == text.fmt_datetime(moment)
    assert fragments.fmt_datetime(moments[2]) != fragments.fmt_datetime(moments[3])
