"""The rules that keep alerts honest, as pure decisions (changes/versioning, quality, dates)."""

from __future__ import annotations

import pytest

from changes.dates import stated_date
from changes.quality import page_failure
from changes.versioning import Decision, Seen, decide

A, B, SHORT = Seen("a", 1000), Seen("b", 990), Seen("s", 100)


@pytest.mark.parametrize(
    ("current", "held", "new", "matched", "expected"),
    [
        (None, None, A, True, Decision.FIRST),
        (None, None, A, False, Decision.HOLD),  # a first text whose selector missed
        (None, A, A, False, Decision.CONFIRM),
        (A, None, A, True, Decision.SAME),
        (A, None, B, True, Decision.ACCEPT),
        (A, None, SHORT, True, Decision.HOLD),  # 90 % of the words gone
        (A, SHORT, SHORT, True, Decision.CONFIRM),
        (A, SHORT, A, True, Decision.SAME),  # the page came back: the held text is dropped
        (A, None, B, False, Decision.HOLD),  # the selector no longer matches
        (A, SHORT, B, True, Decision.ACCEPT),
    ],
)
def test_decide(
    current: Seen | None, held: Seen | None, new: Seen, matched: bool, expected: Decision
) -> None:
    assert decide(current, held, new, matched).decision is expected


def test_hold_reason_says_how_much_went() -> None:
    verdict = decide(A, None, SHORT)
    assert verdict.reason == "90% of the words are gone (1000 -> 100)"


@pytest.mark.parametrize(
    ("url", "html", "words", "expected"),
    [
        ("https://www.facebook.com/login/?next=x", "<p>whatever</p>", 500, "login-wall"),
        ("https://www.facebook.com/checkpoint/", "", 0, "login-wall"),
        (
            "https://www.facebook.com/privacy/policy/",
            "<form><input type='password'></form> Log in to Facebook",
            12,
            "login-wall",
        ),
        ("https://x/p", "<h1>You're Temporarily Blocked</h1>", 10, "blocked"),
        ("https://x/p", "<p>Hello</p>", 1, "empty"),
        ("https://x/p", "<p>policy</p>", 5000, None),
        # a long policy that mentions logging in is still the policy
        ("https://x/p", "<input type=password> Log in to Facebook", 5000, None),
    ],
)
def test_page_failure(url: str, html: str, words: int, expected: str | None) -> None:
    assert page_failure(url, html, words, min_words=30) == expected


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Privacy Policy\n\nEffective May 27, 2025\n\nHighlights", "May 27, 2025"),
        ("Last revised: January 1, 2023", "January 1, 2023"),
        ("Date de la dernière révision : 4 janvier 2022", "4 janvier 2022"),
        ("Gültig ab: 26. Juni 2024", "26. Juni 2024"),
        ("No date here", None),
    ],
)
def test_stated_date(text: str, date: str | None) -> None:
    assert stated_date(text) == date
