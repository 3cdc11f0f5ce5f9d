"""How a change's structured summary reads on its page."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from feeds.publish import publish
from tests import factories, site_helpers
from tests.factories import T1, T2, add_change, add_document, add_version
from tests.site_helpers import BASE, NEW, OLD, links

session = factories.session  # a real SQLite file
changes = site_helpers.changes


def test_summary_known_keys_read_well_and_unknown_ones_still_show(
    session: Session, tmp_path: Path
) -> None:
    add_document(session, "fb", "Facebook Privacy Policy", "https://www.facebook.com/privacy")
    v1 = add_version(session, "fb", OLD, T1)
    v2 = add_version(session, "fb", NEW, T2)
    summary = {
        "bases": [
            {"purpose": "AI at Meta", "basis": "legitimate interests", "action": "added"},
            {"purpose": "AI at Meta", "basis": "consent", "action": "removed"},
        ],
        "links": {
            "added": [{"url": "https://www.facebook.com/help/contact/1", "text": "Object"}],
            "removed": [{"url": "javascript:alert(1)", "text": "<b>bad</b>"}],
            "retargeted": [
                {"text": "form", "from": "https://a.example/", "to": "data:text/html,x"}
            ],
        },
        "date": {"from": "May 1, 2024", "to": "June 26, 2024"},
        "ai": True,
        "new_key": {"deep": ["x", {"y": "<i>z</i>"}]},
        "bases_weird": "kept",
        "words_added": 2,
    }
    change = add_change(session, v1, v2, OLD, NEW, T2, "FB", ["legal-basis"], summary)
    session.commit()
    publish(session, tmp_path / "public", BASE)
    page = (tmp_path / "public" / "changes" / f"{change.id}.html").read_text()
    assert '<dd class="mark-added">Added: legitimate interests for “AI at Meta”' in page
    assert '<dd class="mark-removed">Removed: consent for “AI at Meta”' in page
    assert (
        '<a href="https://www.facebook.com/help/contact/1" rel="noopener noreferrer nofollow">'
        in page
    )
    assert "Removed: “&lt;b&gt;bad&lt;/b&gt;” <code>javascript:alert(1)</code>" in page
    assert "<code>data:text/html,x</code>" in page  # shown, never a link
    assert "Moved from May 1, 2024 to June 26, 2024" in page
    assert "Yes: the change concerns AI" in page
    assert "<dt>New key</dt>" in page and "Deep: x, Y: &lt;i&gt;z&lt;/i&gt;" in page
    assert "<dt>Bases weird</dt>" in page and "Words added" not in page
    hrefs = [u for u in links(tmp_path / "public" / "changes" / f"{change.id}.html").urls]
    assert not any(u.startswith(("javascript", "data")) for u in hrefs)
    index = (tmp_path / "public" / "index.html").read_text()
    assert "Legal basis added: legitimate interests for AI at Meta" in index


def test_summary_of_an_unexpected_shape_is_shown_generically() -> None:
    from feeds.summary import blocks

    shown = blocks({"bases": "legitimate interests", "links": {"added": "x"}, "date": [1], "ai": 3})
    assert [(b.label, [line.plain for line in b.lines]) for b in shown] == [
        ("Bases", ["legitimate interests"]),
        ("Links", ["Added: x"]),
        ("Date", ["1"]),
        ("Ai", ["3"]),
    ]
    assert blocks(None) == [] and blocks(["not", "a", "dict"]) == []  # type: ignore[arg-type]
