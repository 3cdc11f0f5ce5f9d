"""The stored diff of a change, folded into hunks, and the Jinja2 environment that renders it.

Feeds and pages never recompute a diff (DESIGN.md, rule 5): they read the ops stored with
the change and fold them with ``changes.diff.hunks``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from changes.diff import Hunk, Op, hunks, ops_from_json
from feeds import diffview, summary, text
from feeds.views import category_page
from storage.blobs import get_text
from storage.models import Change

CONTEXT_LINES = 2
ELLIPSIS = "\u2026"


def fold(diff_json: str, context_lines: int = CONTEXT_LINES) -> list[Hunk]:
    """A stored word diff (``ops_to_json``), unchanged stretches folded away."""
    return hunks(ops_from_json(diff_json), context_lines=context_lines)


def load_hunks(session: Session, change: Change, context_lines: int = CONTEXT_LINES) -> list[Hunk]:
    """The change's stored word diff, unchanged stretches folded away."""
    if change.diff_blob is None:  # link-health and source-health changes have no text diff
        return []
    return fold(get_text(session, change.diff_blob), context_lines)


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
    """Strip control characters from every plain string a template prints (Markup untouched)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return text.clean(value)
    return value


def _lines(chunk: str, breaks: bool = False) -> str | Markup:
    """Diff text, cleaned; with ``breaks`` its newlines become <br> (for feed readers)."""
    chunk = text.clean(chunk)
    if not breaks:
        return chunk  # escaped by autoescape when printed
    return Markup("<br>\n").join(escape(line) for line in chunk.split("\n"))


def _as_json(value: Any) -> str:
    """JSON as plain text: autoescape then makes it safe inside a quoted attribute."""
    return json.dumps(value, ensure_ascii=False)


_TAGS = {"+": ("<ins>", "</ins>"), "-": ("<del>", "</del>"), "=": ("", "")}


def ops_html(pieces: Sequence[Op], breaks: bool = False) -> Markup:
    """Diff ops as HTML: insertions in <ins>, deletions in <del>, every chunk escaped."""
    out = []
    for op, chunk in pieces:
        start, end = _TAGS[op]
        out.append(f"{start}{escape(_lines(chunk, breaks))}{end}")
    return Markup("".join(out))


def time_tag(moment: datetime) -> Markup:
    """``<time datetime="ISO">2024-06-10 14:03 UTC</time>``."""
    return Markup(
        f'<time datetime="{escape(moment.isoformat())}">{escape(text.fmt_datetime(moment))}</time>'
    )


@cache
def environment() -> Environment:
    """Jinja2 over feeds/templates with autoescaping on for every template."""
    env = Environment(
        loader=PackageLoader("feeds", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["fmt_datetime"] = text.fmt_datetime
    env.filters["lines"] = _lines
    env.filters["as_json"] = _as_json
    env.filters["ops_html"] = ops_html
    env.filters["time_tag"] = time_tag
    env.globals["summary_items"] = text.summary_items
    env.globals["summarise"] = summary.blocks
    env.globals["side_rows"] = diffview.rows
    env.globals["category_page"] = category_page
    return env


def render(template: str, **context: Any) -> str:
    """Render one template of feeds/templates with ``context``."""
    return environment().get_template(template).render(**context)
