"""The link-check outcome classifier and its debounce: pure, driven by the lexicon's data."""

from __future__ import annotations

import doctest

import pytest

from changes import link_health, quality
from changes.link_health import LEXICON, Settled, classify_check, headline, settle

FORM = "<form action='/submit'><input name=email type=email><textarea name=why></textarea></form>"
LOGIN = (
    "<form action='/login/'><input name=email><input type=password name=pass>"
    "<button>Log in</button></form><p>Log into Facebook</p>"
)
URL = "https://www.facebook.com/help/contact/6359191084165019"


def page(*parts: str) -> str:
    return f"<html><head><title>Help</title></head><body>{''.join(parts)}</body></html>"


@pytest.mark.parametrize("example", LEXICON["example"], ids=lambda e: e["text"][:40])
def test_lexicon_examples(example: dict[str, str]) -> None:
    health = classify_check(200, URL, page(f"<p>{example['text']}</p>", FORM))
    assert health.outcome == example["outcome"]
    if "evidence" in example:
        assert health.evidence == example["evidence"]


def test_every_language_has_phrases_and_they_are_normalised() -> None:
    assert set(link_health.UNAVAILABLE) == {"en", "fr", "de"}
    for phrases in link_health.UNAVAILABLE.values():
        for phrase in phrases:
            assert phrase == link_health.normalise(phrase), phrase


@pytest.mark.parametrize(
    ("status", "final_url", "html", "error", "detail", "outcome", "evidence"),
    [
        (200, URL, page(FORM), None, None, "form", "a form with 2 fields"),
        (200, URL, page(LOGIN, FORM), None, None, "form", "a form with 2 fields"),
        (200, "https://www.facebook.com/login/?next=x", page(LOGIN), None, None,
         "login-required", "redirected to https://www.facebook.com/login/?next=x"),
        (200, URL, page(LOGIN), None, None, "login-required", "a login form instead of the form"),
        (None, URL, None, "offsite-redirect", "https://facebook.com/login.php?next=1",
         "login-required", "redirected to https://facebook.com/login.php?next=1"),
        (None, URL, None, "offsite-redirect", "https://evil.example/", "error",
         "offsite-redirect: https://evil.example/"),
        (404, URL, "", None, None, "not-found", "HTTP 404"),
        (410, URL, "", None, None, "not-found", "HTTP 410"),
        (503, URL, "", None, None, "error", "HTTP 503"),
        (None, URL, None, "timeout", "TimeoutError: took longer", "error",
         "timeout: TimeoutError: took longer"),
        (200, URL, page("<p>You're temporarily blocked</p>", FORM), None, None, "error",
         "anti-bot page: You're temporarily blocked"),
        (200, URL, page("<p>Allow the use of cookies from Facebook on this browser?</p>"),
         None, None, "error", "consent wall: Allow the use of cookies from Facebook"),
        (200, URL, page("<p>Help Centre</p><form role=search><input name=q></form>"), None, None,
         "error", "no form on the page"),
        (200, URL, page("<script>var s='This content isn\\'t available'</script>", FORM), None,
         None, "form", "a form with 2 fields"),
        (200, URL, "", None, None, "error", "no form on the page"),
    ],
)  # fmt: skip
def test_outcomes(
    status: int | None,
    final_url: str,
    html: str | None,
    error: str | None,
    detail: str | None,
    outcome: str,
    evidence: str,
) -> None:
    health = classify_check(status, final_url, html, error, detail)
    assert (health.outcome, health.evidence) == (outcome, evidence)


def test_consent_wall_is_a_failure_type_of_crawled_pages_too() -> None:
    wall = page("<p>Allow the use of cookies from Instagram on this browser?</p>")
    assert quality.page_failure("https://privacycenter.instagram.com/policy", wall, 12, 30) == (
        "consent-wall"
    )
    assert quality.page_failure("https://x.test/privacy/consent/", "<p>x</p>", 2, 30) == (
        "consent-wall"
    )


@pytest.mark.parametrize(
    ("checks", "confirmed", "changes"),
    [
        (["form", "form", "error", "form"], "form", 0),  # a single timeout never alerts
        (["form", "unavailable", "unavailable"], "unavailable", 1),
        (["form", "login-required", "login-required", "login-required"], "login-required", 1),
        (["form", "not-found", "form", "not-found", "not-found"], "not-found", 1),
        (["error", "form"], "form", 0),  # a first error is not a baseline
        (["error", "error"], "error", 0),
        (["form", "error", "error", "form", "form"], "form", 2),
    ],
)
def test_settle_debounces_one_confirming_check(
    checks: list[str], confirmed: str, changes: int
) -> None:
    state: str | None = None
    previous: str | None = None
    seen = 0
    for outcome in checks:
        settled = settle(state, previous, outcome)
        state, previous = settled.outcome, outcome
        seen += settled.changed
    assert (state, seen) == (confirmed, changes)
    assert settle(None, None, "form") == Settled("form", baseline=True)


def test_headlines() -> None:
    assert headline("Objection form for AI at Meta", "en_US", "unavailable", "this form is x") == (
        "Objection form for AI at Meta now answers 'this form is x'"
    )
    assert headline("Form", "de_DE", "not-found", "HTTP 404") == "Form [de_DE] is gone (HTTP 404)"
    assert headline("Form", "en_GB", "login-required", "") == "Form now requires logging in"


def test_docstring_examples() -> None:
    assert doctest.testmod(link_health).failed == 0
