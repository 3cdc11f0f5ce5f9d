"""Does an opt-out / objection link still work? Outcome of one check, and when it is news.

Pure: the caller passes what the fetch saw (status, final URL, HTML or a transport error);
the phrases live as data in ``changes/lexicons/link_health.toml``.

Outcomes: ``form`` (the form is there), ``login-required`` (redirected to or showing a
login page), ``unavailable`` (a page saying the content or form is not available),
``not-found`` (HTTP 404/410) and ``error`` (timeouts, 5xx, anti-bot or consent pages,
no form at all).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib.resources import files

from lxml import html as lxml_html

from changes import quality

OUTCOMES = ("form", "login-required", "unavailable", "not-found", "error")

LEXICON = tomllib.loads(
    files("changes").joinpath("lexicons/link_health.toml").read_text(encoding="utf-8")
)
UNAVAILABLE: dict[str, tuple[str, ...]] = {
    lang: tuple(phrases) for lang, phrases in LEXICON["unavailable"].items()
}

_NOT_TEXT = ("script", "style", "noscript", "template", "svg")
_NON_FIELDS = frozenset({"hidden", "submit", "button", "image", "reset", "password"})


@dataclass(frozen=True)
class Health:
    """A check's outcome and what shows it (a matched phrase, a status, a URL)."""

    outcome: str
    evidence: str


def normalise(text: str) -> str:
    """Lower case, ’ as ', whitespace runs as one space: how phrases are matched."""
    return re.sub(r"\s+", " ", text.replace("\u2019", "'").replace("\u00a0", " ")).lower()


def unavailable_phrase(text: str) -> str | None:
    """The first lexicon phrase (any language) found in ``text``, or None.

    >>> unavailable_phrase("Ce formulaire n’est pas disponible.")
    "ce formulaire n'est pas disponible"
    """
    seen = normalise(text)
    for phrases in UNAVAILABLE.values():
        for phrase in phrases:
            if phrase in seen:
                return phrase
    return None


def _tree(html: str) -> lxml_html.HtmlElement | None:
    try:
        tree = lxml_html.document_fromstring(html)
    except (ValueError, lxml_html.etree.ParserError):
        return None
    for el in tree.iter(*_NOT_TEXT):
        el.drop_tree()
    return tree


def form_fields(tree: lxml_html.HtmlElement) -> int:
    """Fields of the largest form that is neither a login nor a search form."""
    best = 0
    for form in tree.iter("form"):
        inputs = form.xpath(".//input|.//textarea|.//select")
        types = [(el.get("type") or "text").lower() for el in inputs if el.tag == "input"]
        if "password" in types or (form.get("role") or "").lower() == "search":
            continue
        fields = [t for t in types if t not in _NON_FIELDS]
        fields += [el for el in inputs if el.tag in ("textarea", "select")]
        best = max(best, len(fields))
    return best


def classify_check(
    http_status: int | None,
    final_url: str | None,
    html: str | None,
    error: str | None = None,
    error_detail: str | None = None,
) -> Health:
    """The outcome of one fetch of a link.

    >>> classify_check(404, "https://www.facebook.com/help/contact/1", "").outcome
    'not-found'
    >>> classify_check(200, "https://www.facebook.com/login/?next=x", "<p>Log in</p>").outcome
    'login-required'
    """
    if error == "offsite-redirect" and quality.login_url(error_detail):
        return Health("login-required", f"redirected to {error_detail}")
    if error and error not in ("http-4xx", "http-5xx"):  # those are told by the status
        detail = f": {error_detail}" if error_detail else ""
        return Health("error", f"{error}{detail}"[:300])
    if http_status in (404, 410):
        return Health("not-found", f"HTTP {http_status}")
    if http_status is None or http_status >= 400:
        return Health("error", f"HTTP {http_status}")
    if quality.login_url(final_url):
        return Health("login-required", f"redirected to {final_url}")
    page = html or ""
    tree = _tree(page) if page.strip() else None
    text = tree.text_content() if tree is not None else ""
    if phrase := quality.blocked(text):
        return Health("error", f"anti-bot page: {phrase}")
    if phrase := unavailable_phrase(text):
        return Health("unavailable", phrase)
    fields = form_fields(tree) if tree is not None else 0
    if fields:  # before the login check: logged-out pages carry a login form in the header
        return Health("form", f"a form with {fields} field{'s' if fields > 1 else ''}")
    if quality.login_form(page):
        return Health("login-required", "a login form instead of the form")
    if phrase := quality.consent_wall(final_url, text):
        return Health("error", f"consent wall: {phrase}")
    return Health("error", "no form on the page")


@dataclass(frozen=True)
class Settled:
    """The confirmed outcome after a check, and whether it just changed (news)."""

    outcome: str | None
    changed: bool = False
    baseline: bool = False


def settle(confirmed: str | None, previous: str | None, new: str) -> Settled:
    """Debounce: a new outcome is confirmed only when the next check shows it again.

    ``confirmed`` is the link's confirmed outcome (None before the first), ``previous``
    the outcome of the check before this one. A first outcome is taken at once as the
    baseline (an ``error`` only once confirmed); it is never news.

    >>> settle("form", "form", "error")          # one timeout: nothing yet
    Settled(outcome='form', changed=False, baseline=False)
    >>> settle("form", "unavailable", "unavailable")
    Settled(outcome='unavailable', changed=True, baseline=False)
    """
    if confirmed is None:
        if new != "error" or previous == "error":
            return Settled(new, baseline=True)
        return Settled(None)
    if new != confirmed and previous == new:
        return Settled(new, changed=True)
    return Settled(confirmed)


_NEWS = {
    "form": "works again: the form is there",
    "login-required": "now requires logging in",
    "not-found": "is gone ({evidence})",
    "error": "fails to load ({evidence})",
}


def headline(name: str, locale: str, new: str, evidence: str) -> str:
    """The title of a link-health change.

    >>> headline("Objection form for AI at Meta", "fr_FR", "unavailable",
    ...          "ce formulaire n'est pas disponible")
    "Objection form for AI at Meta [fr_FR] now answers 'ce formulaire n'est pas disponible'"
    """
    tagged = locale.startswith("en") or f"[{locale}]" in name
    where = name if tagged else f"{name} [{locale}]"
    if new == "unavailable":
        return f"{where} now answers '{evidence}'"
    return f"{where} {_NEWS[new].format(evidence=evidence)}"
