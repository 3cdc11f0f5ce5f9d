"""Is a fetched page the document, or a failure dressed as content? (DESIGN.md rule 2)

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


def page_failure(final_url: str | None, html: str, words: int, min_words: int) -> str | None:
    """The failure type of a page that returned 200, or None if it looks like the document.

    ``login-wall``: redirected to or showing a login form; ``blocked``: an anti-bot page;
    ``empty``: fewer than ``min_words`` words of extracted text.
    """
    if final_url and _LOGIN_PATH.search(urlsplit(final_url).path):
        return "login-wall"
    small = words < max(min_words, 400)
    if small and _PASSWORD_FIELD.search(html) and _LOGIN_TEXT.search(html):
        return "login-wall"
    if small and _BLOCKED_TEXT.search(html):
        return "blocked"
    if words < min_words:
        return "empty"
    return None
