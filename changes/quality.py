"""Is a fetched page the document, or a failure dressed as content?

See docs/ARCHITECTURE.md, "The life of one crawl", step 4 (fetch -> version).

Pure functions over the final URL, the raw HTML and the extracted text.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_LOGIN_PATH = re.compile(r"/(login|checkpoint|accounts/login|login\.php)(/|\.php|$)", re.I)
_LOGIN_TEXT = re.compile(
    r"(log (in|into) (to )?(facebook|instagram|your account)|you must log in|"
    r"se connecter à facebook|connectez-vous|bei facebook anmelden|melde dich an)",
    re.I,
)
_PASSWORD_FIELD = re.compile(r"<input[^>]+type=[\"']?password", re.I)
_BLOCKED_TEXT = re.compile(
    r"(you.re temporarily blocked|unusual traffic|are you a robot|"
    r"please enable javascript and cookies|verify you are human|captcha|"
    r"vous êtes temporairement bloqué|vorübergehend blockiert)",
    re.I,
)
# Meta's cookie dialog ("Allow the use of cookies from Facebook on this browser?") in
# EN/FR/DE, and consent pages in general.
_CONSENT_TEXT = re.compile(
    r"(allow (the )?use of cookies (from|by) (facebook|instagram|meta|threads)|"
    r"accept (all )?cookies to continue|before you continue|"
    r"autoriser l.utilisation des cookies|accepter (tous )?les cookies pour continuer|"
    r"verwendung von cookies (durch|von) (facebook|instagram|meta)|"
    r"cookies (zulassen|akzeptieren), um fortzufahren)",
    re.I,
)
_CONSENT_PATH = re.compile(r"/(privacy/consent|user_cookie_prompt|consent)(/|$)", re.I)


def login_url(url: str | None) -> bool:
    """True if ``url`` is a login or checkpoint page."""
    return bool(url and _LOGIN_PATH.search(urlsplit(url).path))


def login_form(html: str) -> bool:
    """True if ``html`` shows a login form (a password field and login wording)."""
    return bool(_PASSWORD_FIELD.search(html) and _LOGIN_TEXT.search(html))


def blocked(html: str) -> str | None:
    """The anti-bot phrase ``html`` shows, or None."""
    match = _BLOCKED_TEXT.search(html)
    return match.group(0) if match else None


def consent_wall(final_url: str | None, html: str) -> str | None:
    """The cookie/consent-wall phrase (or path) ``html`` shows, or None."""
    if final_url and _CONSENT_PATH.search(urlsplit(final_url).path):
        return urlsplit(final_url).path
    match = _CONSENT_TEXT.search(html)
    return match.group(0) if match else None


def page_failure(final_url: str | None, html: str, words: int, min_words: int) -> str | None:
    """The failure type of a page that returned 200, or None if it looks like the document.

    ``login-wall``: redirected to or showing a login form; ``blocked``: an anti-bot page;
    ``consent-wall``: a cookie/consent page instead of the document; ``empty``: fewer than
    ``min_words`` words of extracted text.
    """
    if login_url(final_url):
        return "login-wall"
    small = words < max(min_words, 400)
    if small and login_form(html):
        return "login-wall"
    if small and blocked(html):
        return "blocked"
    if small and consent_wall(final_url, html):
        return "consent-wall"
    if words < min_words:
        return "empty"
    return None
