"""The stored diff of a change, folded into hunks, and the Jinja2 environment that renders it.

Feeds and pages never recompute a diff: they read the ops stored with the change (by
``pipeline.detect.record_change``, docs/decisions/0005-replaying-archived-history.md) and
fold them with ``changes.diff.hunks``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import MutableMapping, Sequence
from dataclasses import replace
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from jinja2.compiler import CodeGenerator, Frame
from markupsafe import Markup, escape

from changes import categories
from changes.diff import Hunk, hunks, ops_from_json
from feeds import fragments, story, summary, text
from feeds.template_cache import template_cache
from feeds.views import category_page

CONTEXT_LINES = 2
ELLIPSIS = "\u2026"


def fold(diff_json: str, context_lines: int = CONTEXT_LINES) -> list[Hunk]:
    """A stored word diff (``ops_to_json``), unchanged stretches folded away."""
    return hunks(ops_from_json(diff_json), context_lines=context_lines)


def _head(s: str, n: int) -> str:
    return s if len(s) <= n else s[:n].rstrip() + ELLIPSIS


def _tail(s: str, n: int) -> str:
    return s if len(s) <= n else ELLIPSIS + s[-n:].lstrip()


def excerpt(
    folded: list[Hunk], max_hunks: int = 3, max_chars: int = 2000, context_chars: int = 160
) -> tuple[list[Hunk], int]:
    """The first hunks, shortened for a feed entry; returns them and how many were left out.

    Unchanged text keeps ``context_chars`` around each edit; changed text shares a budget of
    ``max_chars``, cut with an ellipsis when it runs out.
    """
    out: list[Hunk] = []
    budget = max_chars
    for hunk in folded[:max_hunks]:
        if budget <= 0:
            break
        ops: list[tuple[str, str]] = []
        last = len(hunk.ops) - 1
        for i, (op, chunk) in enumerate(hunk.ops):
            if op == "=":
                if i == 0:
                    chunk = _tail(chunk, context_chars)
                elif i == last:
                    chunk = _head(chunk, context_chars)
                elif len(chunk) > 2 * context_chars:
                    chunk = f"{_head(chunk, context_chars)} {_tail(chunk, context_chars)}"
            else:
                if budget <= 0:
                    break
                chunk = _head(chunk, budget)
                budget -= len(chunk)
            ops.append((op, chunk))
        out.append(replace(hunk, ops=tuple(ops)))
    return out, len(folded) - len(out)


def _finalize(value: Any) -> Any:
    """Strip control characters from every plain string a template prints (Markup untouched).

    A page prints ~90 values: the common case (a plain ``str``) is tested first."""
    if type(value) is str or (isinstance(value, str) and not isinstance(value, Markup)):
        return text.clean(value)
    return value


def _shown(value: Any) -> Any:
    """What ``{{ value }}`` prints: ``escape(_finalize(value))`` in one call, for the
    ~100 values a change page prints. A plain string is cleaned (control characters) and
    escaped as markupsafe escapes it, without making a Markup of it (the page joins plain
    strings); Markup is printed as is, as escape() prints it; anything else goes through
    _finalize and escape() as before."""
    if type(value) is str:
        return text.escape_html(value if value.isprintable() else text.clean(value))
    if type(value) is Markup:
        return value
    return escape(_finalize(value))


class _Generator(CodeGenerator):
    """Jinja2's code generator, printing each ``{{ value }}`` of an autoescaped template
    with one call, ``environment.shown(value)`` (:func:`_shown`), instead of two,
    ``escape(environment.finalize(value))``: the same text, two function calls and a
    Markup fewer per value. Templates whose escaping can change at run time (an
    ``{% autoescape %}`` block) keep Jinja's code."""

    def _output_child_pre(self, node: Any, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write("environment.shown(")
        else:
            super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: Any, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.autoescape and not frame.eval_ctx.volatile:
            self.write(")")
        else:
            super()._output_child_post(node, frame, finalize)


def _as_json(value: Any) -> str:
    """JSON as plain text: autoescape then makes it safe inside a quoted attribute."""
    return json.dumps(value, ensure_ascii=False)


@lru_cache(maxsize=256)
def _chrome(root: str, feeds: tuple[Any, ...], site_title: str, hashes: tuple[str, str]) -> Markup:
    css, js = hashes
    html = (
        environment()
        .get_template("_head.html")
        .render(root=root, feeds=feeds, site_title=site_title, assets={"css": css, "js": js})
    )
    return Markup(html.rstrip("\n"))


@cache
def assets() -> dict[str, str]:
    """Short content hashes of the static files, appended to their URLs (cache busting)."""
    out = {}
    for name, short in (("style.css", "css"), ("site.js", "js")):
        data = resources.files("feeds").joinpath("static", name).read_bytes()
        out[short] = hashlib.sha256(data).hexdigest()[:12]
    return out


def chrome(root: str, feeds: Sequence[Any], site_title: str) -> Markup:
    """The head links, script and site header of a page: the same for every page with the
    same root and feeds, so rendered once and reused (most pages differ only below it)."""
    a = assets()
    return _chrome(root, tuple(feeds), site_title, (a["css"], a["js"]))


#: The macros of feeds/templates/_macros.html, callable from every template.
MACROS = (
    "change_item",
    "change_list",
    "summary",
    "source_link",
    "feed_links",
)


class _Environment(Environment):
    """Jinja2's environment with each template's globals a plain dict: every render copies
    them into its context (``jinja2.runtime.new_context``), and copying the ChainMap
    Jinja makes (the template's over the environment's) costs 10-15 us for the ~30 globals
    here. Every global is set before a page's template is loaded (Jinja asks not to change
    them later), so the copy made when it is loaded holds them all; _macros.html, loaded
    before its macros become globals, does not need them."""

    code_generator_class = _Generator
    shown = staticmethod(_shown)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}


@cache
def environment() -> Environment:
    """Jinja2 over feeds/templates with autoescaping on for every template."""
    env = _Environment(
        loader=PackageLoader("feeds", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates are package data: no stat() per render
        bytecode_cache=template_cache(),  # compiled once, not in every process
    )
    env.filters["fmt_datetime"] = fragments.fmt_datetime
    env.filters["lines"] = fragments.lines
    env.filters["as_json"] = _as_json
    env.filters["ops_html"] = fragments.ops_html
    env.filters["time_tag"] = fragments.time_tag
    env.filters["numbered"] = fragments.numbered
    helpers = (fragments.counts, fragments.badges, fragments.piece, fragments.hunk_head)
    for helper in (*helpers, fragments.summary_blocks, fragments.passage_list):
        env.globals[helper.__name__] = helper
    env.globals["marks_legend"] = fragments.TEXT_MARKS_LEGEND
    env.globals["gdpr_url"] = story.GDPR
    env.globals["describe"] = categories.describe
    env.globals["opt_out_text"] = story.OPT_OUT
    env.globals["summarise"] = summary.blocks
    env.globals["diff"] = fragments.diff
    env.globals["side_by_side"] = fragments.side_by_side
    env.globals["category_page"] = category_page
    env.globals["chrome"] = chrome
    # The macros of _macros.html as globals, made once: a template's own
    # ``{% from "_macros.html" import ... %}`` made them again at every render (13 us a page).
    macros = env.get_template("_macros.html").module
    for name in MACROS:
        env.globals[name] = getattr(macros, name)
    return env


def warm(templates: Sequence[str]) -> None:
    """Compile ``templates`` now (before forking workers that render them)."""
    for name in templates:
        environment().get_template(name)


def render(template: str, **context: Any) -> str:
    """Render one template of feeds/templates with ``context``."""
    return environment().get_template(template).render(**context)
