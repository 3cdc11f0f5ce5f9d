"""Outputs beside the site and the Atom/RSS feeds (feeds/outputs/): the JSON Feed one, read
back with feedparser, and the registry a new output joins with one module."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import feedparser_rs
import pytest
from sqlalchemy.orm import Session

from feeds import outputs
from feeds.outputs import Publication, output
from feeds.outputs.json_feed import VERSION
from feeds.publish import publish
from tests import factories
from tests.factories import T1, T2, T3, add_change, add_document, add_version

BASE = "https://example.org/pw/"
OLD = "We process your data on the basis of consent."
NEW = "We process your data on the basis of legitimate interests. <script>alert(1)</script>"

session = factories.session


@pytest.fixture
def stored(session: Session) -> Session:
    add_document(session, "fb", "Facebook Privacy Policy")
    add_document(session, "ig", "Instagram <b>Privacy</b> Policy")
    v1 = add_version(session, "fb", OLD, T1)
    v2 = add_version(session, "fb", NEW, T2)
    w1 = add_version(session, "ig", OLD, T1)
    w2 = add_version(session, "ig", OLD + " More.", T3)
    add_change(session, v1, v2, OLD, NEW, T2, "fb: basis <now> legitimate", ["legal-basis"])
    add_change(session, w1, w2, OLD, OLD + " More.", T3, "ig: a sentence added", ["text"])
    session.commit()
    return session


def test_every_feed_has_a_json_feed_with_the_same_entries(stored: Session, tmp_path: Path) -> None:
    out = tmp_path / "public"
    result = publish(stored, out, BASE)
    for name in ("feed", "documents/fb", "categories/legal-basis"):
        atom = feedparser.parse((out / f"{name}.atom").read_bytes())
        raw = (out / f"{name}.json").read_bytes()
        data = json.loads(raw)
        assert data["version"] == VERSION and data["feed_url"] == f"{BASE}{name}.json"
        assert [i["id"] for i in data["items"]] == [e.id for e in atom.entries] != []
        assert [i["url"] for i in data["items"]] == [e.link for e in atom.entries]
        assert out / f"{name}.json" in result.outputs["json-feed"]
        read = feedparser_rs.parse(raw)  # a JSON Feed reader takes it as a feed
        assert (read.version, read.bozo) == ("json11", False)
        assert [e.id for e in read.entries] == [e.id for e in atom.entries]
        assert [i["title"] for i in data["items"]] == [e.title for e in atom.entries]  # text
    items = json.loads((out / "feed.json").read_text())["items"]
    assert [i["tags"] for i in items] == [["text"], ["legal-basis"]]  # newest first
    assert items[1]["date_published"] == T2.isoformat()
    html = items[1]["content_html"]
    assert "<script>" not in html and "&lt;script&gt;" in html  # crawled text escaped
    assert "<b>Privacy" not in (out / "feed.json").read_text()  # only escaped, in HTML


def test_json_feeds_are_reused_when_nothing_changed(stored: Session, tmp_path: Path) -> None:
    out = tmp_path / "public"
    publish(stored, out, BASE)
    before = (out / "feed.json").read_bytes()
    again = publish(stored, out, BASE)
    assert again.outcome == "unchanged" and (out / "feed.json").read_bytes() == before
    v3 = add_version(stored, "fb", NEW + " Again.", T3)
    fb_versions = [v for v in factories.repo.accepted_versions(stored, "fb")]
    add_change(stored, fb_versions[-2], v3, NEW, NEW + " Again.", T3, "fb: more", ["text"])
    stored.commit()
    third = publish(stored, out, BASE)
    assert third.written > 0
    assert len(json.loads((out / "feed.json").read_text())["items"]) == 3
    assert len(json.loads((out / "documents/ig.json").read_text())["items"]) == 1


def test_a_registered_output_is_written_into_the_same_generation(
    stored: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outputs, "_OUTPUTS", dict(outputs.registered()))

    @output("change-count")
    def count(publication: Publication) -> list[str]:
        n = len(publication.site.changes)
        key = publication.out.key("change-count", n)
        if not publication.out.keep("count.txt", key):
            publication.out.write("count.txt", f"{n}\n", key)
        return ["count.txt"]

    assert "change-count" in outputs.registered() and "json-feed" in outputs.registered()
    out = tmp_path / "public"
    result = publish(stored, out, BASE)
    assert (out / "count.txt").read_text() == "2\n" and result.outputs["change-count"] == [
        out / "count.txt"
    ]
    assert out.is_symlink()  # written inside the generation the symlink points to
    with pytest.raises(ValueError, match="two outputs"):
        output("change-count")(lambda p: [])
