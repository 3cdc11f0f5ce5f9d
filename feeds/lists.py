"""The long lists of the pages the publishing process renders, as Python fragments: a
document's timeline (about 1,000 events a page at 10,000 changes over 20 documents).

A Jinja loop costs several microseconds per printed value and per ``{% if %}``; these
build the same HTML as the template code they replace, as plain strings joined once.
Every value is printed as a template prints ``{{ value }}`` (:func:`shown`): a plain
string cleaned of control characters and escaped, Markup as it is, anything else
escaped. tests/test_lists.py compares each with the template code it replaced.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

from feeds import text
from feeds.fragments import badges, counts, time_tag


def shown(value: Any) -> str:
    """What ``{{ value }}`` prints in an autoescaped template of feeds/render.py, as a
    plain string: a ``str`` cleaned (``text.clean``) and escaped, Markup as it is,
    anything else through ``escape``."""
    if type(value) is str:
        return text.escape_html(value if value.isprintable() else text.clean(value))
    if type(value) is int:  # digits and a sign: nothing to escape (not a bool: "True")
        return str(value)
    if isinstance(value, str) and not isinstance(value, Markup):
        return text.escape_html(text.clean(value))
    return str(escape(value))


_FAILURE_NOTE = (
    '<p class="note">A failed fetch is never a change: the last good version stays current.</p>\n'
)


def timeline(events: Iterable[Any], root: str, current_version_id: int | None) -> Markup:
    """The items of a document's timeline (its ``feeds.timeline.Event`` s, newest first:
    an ``<li>`` each), as
    feeds/templates/document.html printed them in a loop: a change, a version (marked
    current if it is ``current_version_id``) or a run of failed fetches."""
    r = shown(root)
    tags: dict[tuple[str, ...], str] = {}  # badges by categories: a document has a few lists
    out: list[str] = []
    add = out.append
    for e in events:
        c, v, f = e.change, e.version, e.failure
        if c:
            kind = str(counts(c)) if c.has_diff else shown(c.kind)
            one = f'<p class="one-line">{shown(c.one_line)}</p>' if c.one_line else ""
            add(
                '<li class="event event-change">\n'
                f'<p class="event-kind">Change \u00b7 recorded {time_tag(c.detected_at)}</p>\n'
                f'<h3><a href="{r}{shown(c.path)}">{shown(c.title)}</a></h3>\n'
                f'<p class="meta">effective {shown(c.effective_date or "date not stated")}'
                f" \u00b7 {kind}</p>\n"
                f"{_badges(tags, c.categories)}\n"
                f"{one}</li>\n"
            )
        elif v:
            states = f", states the date {shown(v.effective_date)}" if v.effective_date else ""
            current = " (current)" if v.id == current_version_id else ""
            add(
                '<li class="event event-version">\n'
                f'<p class="event-kind">Version \u00b7 {time_tag(v.first_seen)}</p>\n'
                f'<p><a href="{r}{shown(v.path)}">Version {shown(v.id)}</a>:'
                f" {shown(v.words)} words{states};"
                f" seen until {time_tag(v.last_seen)}{current}.</p>\n"
                "</li>\n"
            )
        else:
            assert f is not None
            status = f" (HTTP {shown(f.http_status)})" if f.http_status else ""
            run = (
                f": {shown(f.count)} fetches in a row, from {time_tag(f.first)}"
                if f.count > 1
                else ""
            )
            detail = f' <span class="meta">{shown(f.detail)}</span>' if f.detail else ""
            add(
                '<li class="event event-failure">\n'
                f'<p class="event-kind">Fetch failed \u00b7 {time_tag(f.last)}</p>\n'
                f"<p><strong>{shown(f.error)}</strong>{status}{run}.{detail}</p>\n"
                f"{_FAILURE_NOTE}"
                "</li>\n"
            )
    return Markup("".join(out))


def _badges(made: dict[tuple[str, ...], str], categories: list[str]) -> str:
    """``badges(categories)``, made once per list of plain strings in ``made`` (Markup
    equals the same text as a string, and prints otherwise)."""
    key = tuple(categories)
    if not all(type(name) is str for name in key):
        return str(badges(categories))
    found = made.get(key)
    if found is None:
        found = made[key] = str(badges(categories))
    return found
