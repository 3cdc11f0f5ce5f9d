"""Meta-shaped HTML pages around a recorded Markdown version, with the noise Meta adds.

The stand-in adds what a real crawl meets: a header, navigation and footer outside the
policy, a CSRF token and a render time that change on every request, tracking parameters
and l.facebook.com redirect wrappers with rotating tokens on links. None of it may reach
a version: the select rule and link canonicalisation must remove it.
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark", {"html": False}).enable("table")
# The recorded Markdown keeps line breaks inside table cells as <br> (Meta's cells hold
# lists); raw HTML stays off, so they pass through as a placeholder and come back as <br>.
_BR = "PWLINEBREAK"


_CELL = re.compile(r"(<t[dh][^>]*>)(.*?)(</t[dh]>)", re.S)


def _cell_html(match: re.Match[str]) -> str:
    """A table cell as Meta serves it: ``* item`` lines become a real list."""
    out: list[str] = []
    items: list[str] = []
    for part in match.group(2).split(_BR):
        if part.startswith("* "):
            items.append(f"<li>{part[2:]}</li>")
            continue
        if items:
            out.append(f"<ul>{''.join(items)}</ul>")
            items = []
        if part.strip():
            out.append(f"<p>{part}</p>")
    if items:
        out.append(f"<ul>{''.join(items)}</ul>")
    return match.group(1) + "".join(out) + match.group(3)


def _noisy_href(href: str) -> str:
    """Add rotating tokens to a link the way Meta's pages do."""
    parts = urlsplit(href)
    if parts.scheme not in ("http", "https"):
        return href
    token = secrets.token_urlsafe(24)
    host = parts.hostname or ""
    if host.endswith("facebook.com") and "l.php" not in parts.path:
        sep = "&" if parts.query else "?"
        return f"{href}{sep}__cft__[0]={token}&__tn__=-R"
    if "l.php" in parts.path:
        return href
    return f"https://l.facebook.com/l.php?u={quote(href, safe='')}&h=AT{token}"


def _add_noise(body_html: str) -> str:
    out: list[str] = []
    rest = body_html
    marker = '<a href="'
    while (i := rest.find(marker)) >= 0:
        j = rest.find('"', i + len(marker))
        href = html.unescape(rest[i + len(marker) : j])
        out.append(rest[: i + len(marker)] + html.escape(_noisy_href(href), quote=True))
        rest = rest[j:]
    out.append(rest)
    return "".join(out)


def meta_page(markdown_text: str, title: str = "Privacy Policy") -> str:
    """A full HTML page whose ``#root`` holds the policy rendered from Markdown."""
    rendered = _MD.render(markdown_text.replace("<br>", _BR))
    body = _add_noise(_CELL.sub(_cell_html, rendered))
    now = datetime.now(UTC).isoformat()
    csrf = secrets.token_urlsafe(16)
    return f"""<!DOCTYPE html>
<html lang="en" id="facebook">
<head><meta charset="utf-8"><title>{html.escape(title)} | Facebook</title>
<script>requireLazy(["ServerJS"],function(s){{s.handle({{"token":"{csrf}"}})}});</script>
</head>
<body>
<div id="header"><a href="/">facebook</a>
<form action="/login/"><input type="hidden" name="fb_dtsg" value="{csrf}">
<a href="/login/?next=%2Fprivacy%2Fpolicy%2F">Log in</a></form></div>
<nav><a href="/privacy/center/?entry_point={csrf}">Privacy Center</a>
<a href="/privacy/policy/">Privacy Policy</a><a href="/help/">Help</a></nav>
<div id="root" role="main">
{body}
</div>
<div id="footer"><p>Meta © 2026</p><p>Page generated {now}</p>
<a href="/policies/cookies/?__cft__[0]={csrf}">Cookies</a></div>
</body></html>
"""


@dataclass(frozen=True)
class StandInForm:
    """A form page the stand-in serves, so that the demo's link checks have something to
    find: a working form, a form that says it is unavailable, and a login wall."""

    id: str
    title: str
    path: str
    html: str


FORMS = (
    StandInForm(
        "demo-objection-form",
        "Object to your information being used for AI at Meta (stand-in)",
        "/help/contact/ai-objection/",
        "<!DOCTYPE html><html lang='en'><head><title>Objection form</title></head><body>"
        "<div id='root'><h1>Object to your information being used for AI at Meta</h1>"
        "<form action='/help/contact/submit/'><label>Email <input type='email' name='email'>"
        "</label><label>How does this processing impact you? <textarea name='why'></textarea>"
        "</label><button type='submit'>Send</button></form></div></body></html>",
    ),
    StandInForm(
        "demo-access-form",
        "Access your information: request form (stand-in)",
        "/help/contact/access-request/",
        "<!DOCTYPE html><html lang='en'><head><title>Request form</title></head><body>"
        "<div id='root'><h2>This form is not available</h2><p>Try again later.</p></div>"
        "</body></html>",
    ),
    StandInForm(
        "demo-ads-objection",
        "Object to ads based on your activity (stand-in)",
        "/help/contact/ads-objection/",
        "<!DOCTYPE html><html lang='en'><head><title>Log in</title></head><body>"
        "<form action='/login/'><input name='email'><input type='password' name='pass'>"
        "<button type='submit'>Log in</button></form><p>Log into Facebook</p></body></html>",
    ),
)
