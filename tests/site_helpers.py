"""Shared by the site tests: texts, two changes of one document, HTML helpers."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from storage.models import Change
from tests.factories import T1, T2, T3, add_change, add_document, add_version

BASE = "http://127.0.0.1:8000/"
OLD = "We rely on consent for AI training.\n\nObject here: https://example.org/form"
NEW = "We rely on legitimate interests for AI training.\n\nObject here: https://example.org/form"
NEWER = NEW + "\n\nEffective June 26, 2024."
HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(1)> "
    '<a href="javascript:alert(1)">javascript:alert(1)</a> \x00 \x0c'
)


@pytest.fixture
def changes(session: Session) -> tuple[Change, Change]:
    """Two changes of one document: consent -> legitimate interests, then a stated date."""
    add_document(
        session, "fb-privacy", "Facebook Privacy Policy", "https://www.facebook.com/privacy"
    )
    v1 = add_version(session, "fb-privacy", OLD, T1, "May 1, 2024")
    v2 = add_version(session, "fb-privacy", NEW, T2, "June 26, 2024")
    v3 = add_version(session, "fb-privacy", NEWER, T3, "June 26, 2024")
    first = add_change(
        session,
        v1,
        v2,
        OLD,
        NEW,
        T2,
        "Facebook Privacy Policy: legal basis changed",
        ["legal-basis", "ai"],
        {"date": {"from": "May 1, 2024", "to": "June 26, 2024"}},
    )
    second = add_change(session, v2, v3, NEW, NEWER, T3, "Facebook Privacy Policy: date", ["dates"])
    session.commit()
    return first, second


def add_third_change(session: Session, second: Change) -> Change:
    """News after the ``changes`` fixture's two: a third version and a ``dates`` change."""
    v3 = second.to_version
    newest = NEWER + "\n\nWe now also rely on consent."
    v4 = add_version(session, "fb-privacy", newest, T3.replace(day=9))
    third = add_change(session, v3, v4, NEWER, newest, T3.replace(day=9), "FB again", ["dates"])
    session.commit()
    return third


class Links(HTMLParser):
    """Collects tags and the URLs of href/src attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.urls += [v for k, v in attrs if k in ("href", "src") and v is not None]


def links(path: Path) -> Links:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


SCRIPT_TAG = re.compile(r'<script src="(?:\.\./)*static/site\.js\?v=[0-9a-f]{12}" defer></script>')


def only_our_script(html: str) -> bool:
    """The one script tag is our static file: no inline script, no other source."""
    return html.lower().count("<script") == len(SCRIPT_TAG.findall(html)) == 1


def ins_del(html: str) -> tuple[str, str]:
    return (
        " ".join(re.findall(r"<ins>(.*?)</ins>", html, re.S)),
        " ".join(re.findall(r"<del>(.*?)</del>", html, re.S)),
    )
