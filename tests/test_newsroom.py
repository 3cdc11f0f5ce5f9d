"""The newsroom: a local WordPress-shaped RSS feed; relevant posts become documents, a new
post and an edited one become entries of the `newsroom` feed category."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from sqlalchemy import select

from config.run import RunConfig
from demo.server import FakeMeta, Reply
from feeds.text import short_title
from spiders.newsroom import Post, matched_keywords, parse_feed, post_id
from storage.db import open_db
from storage.models import Change, Document, Version
from tests.conftest import write_sources
from tests.factories import run_steps as run

KEYWORDS = ["AI", "privacy", "Europe", "KI", "données"]
FILLER = " ".join(f"word{i}" for i in range(60))


def rss(site: FakeMeta, *items: tuple[str, str, str]) -> bytes:
    body = "".join(
        f"<item><title>{title}</title><link>{site.url(path)}</link>"
        f"<pubDate>Mon, 10 Jun 2024 09:00:00 +0000</pubDate><category><![CDATA[{cat}]]></category>"
        f"<description><![CDATA[<p>{title}</p>]]></description></item>"
        for title, path, cat in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Meta Newsroom</title><link>{site.url('/news/')}</link>{body}</channel></rss>"
    ).encode()


def post(title: str, *paragraphs: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in (*paragraphs, FILLER))
    return (
        f"<html><body><nav>Newsroom menu</nav><article><h1>{title}</h1>{body}</article>"
        "<aside>Related posts</aside></body></html>"
    )


AI_POST = ("Building AI Technology for Europeans", "/news/2024/06/building-ai-europe/", "AI")
PRIVACY_POST = ("Our privacy update", "/news/2024/06/privacy-update/", "Company News")
OTHER_POST = ("New Reels features", "/news/2024/06/reels/", "Instagram")
OBJECT = (
    "You can <a href='https://www.facebook.com/help/contact/6359191084165019'>object to the use"
    " of your information</a> for AI at Meta."
)
PAUSE = "Update on June 14: we are pausing our plans to train AI with EU users' content."


def test_new_and_edited_posts_are_newsroom_entries(
    tmp_path: Path, db_url: str, site: FakeMeta
) -> None:
    feed_xml = rss(site, AI_POST, OTHER_POST)
    site.set("/news/feed/", Reply(200, feed_xml, {"Content-Type": "application/rss+xml"}))
    site.page(AI_POST[1], post(AI_POST[0], "We will train AI at Meta on public content."))
    site.page(OTHER_POST[1], post(OTHER_POST[0], "Reels get longer."))
    site.page(PRIVACY_POST[1], post(PRIVACY_POST[0], OBJECT))
    sources = write_sources(
        tmp_path / "sources.toml",
        [
            {
                "id": "newsroom",
                "kind": "newsroom",
                "service": "Meta",
                "url": site.url("/news/feed/"),
                "keywords": KEYWORDS,
                "post_select": ["article"],
                "select": [],
            }
        ],
    )
    cfg = RunConfig(
        db_url=db_url,
        sources_path=str(sources),
        out_dir=str(tmp_path / "public"),
        base_url="https://pw.example/",
    )
    first = run(cfg)
    assert first["feeds"] == 1 and first["new"] == 1 and first["changes"] == 0  # the backlog
    assert site.hits.get(OTHER_POST[1], 0) == 0  # not relevant: never fetched
    ai_id = post_id("newsroom", site.url(AI_POST[1]))
    with open_db(cfg.db_url)() as s:
        doc = s.get(Document, ai_id)
        assert doc is not None and (doc.kind, doc.group_id) == ("newsroom", "newsroom")
        assert s.scalars(select(Version).where(Version.document_id == "newsroom")).all() == []

    site.page(AI_POST[1], post(AI_POST[0], "We will train AI at Meta on public content.", PAUSE))
    feed_xml = rss(site, PRIVACY_POST, AI_POST, OTHER_POST)
    site.set("/news/feed/", Reply(200, feed_xml, {"Content-Type": "application/rss+xml"}))
    second = run(cfg)
    assert second["new"] == 2 and second["changes"] == 2  # one edit, one first version

    with open_db(cfg.db_url)() as s:
        changes = {c.document_id: c for c in s.scalars(select(Change))}
    edited = changes[ai_id]
    assert edited.categories[:2] == ["newsroom", "text"] and edited.from_version_id is not None
    assert "newsroom post \u201cBuilding AI Technology for Europeans\u201d" in edited.title
    new = changes[post_id("newsroom", site.url(PRIVACY_POST[1]))]
    assert new.from_version_id is None and new.categories[0] == "newsroom"
    assert "opt-out" in new.categories  # classification: it links the objection form
    assert new.title.startswith("Meta newsroom: new post \u201cOur privacy update\u201d")

    out = Path(cfg.out_dir)
    feed = feedparser.parse((out / "categories" / "newsroom.atom").read_bytes())
    assert not feed.bozo and len(feed.entries) == 2
    text = {e.title: e.content[0].value for e in feed.entries}  # titles cut at 140 characters
    assert "pausing our plans" in text[short_title(edited.title)]
    assert "object to the use" in text[short_title(new.title)]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Building AI Technology for Europeans", ["AI", "Europe"]),
        ("Said the chairman", []),  # "AI" is a whole word, case kept
        ("Privacy Matters: a new Privacy Center", ["privacy"]),
        ("Meta KI: Neue Funktionen", ["KI"]),
        ("Comment nous utilisons vos données", ["données"]),
        ("New Reels features", []),
    ],
)
def test_keywords(title: str, expected: list[str]) -> None:
    assert matched_keywords(Post(title, "https://x.test/", "", (), ""), tuple(KEYWORDS)) == expected


def test_feed_parsing_is_safe_and_tolerant() -> None:
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<rss><channel><item><title>&x; AI</title><link>https://about.fb.com/news/a/</link>"
        b"</item><item><title>no link</title><link>javascript:alert(1)</link></item>"
        b"</channel></rss>"
    )
    (item,) = parse_feed(evil)
    assert "root:" not in item.title and item.url == "https://about.fb.com/news/a/"
    assert parse_feed(b"<html>not a feed") == [] and parse_feed(b"") == []
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>AI post</title>'
        b'<link rel="alternate" href="https://about.fb.com/news/b/"/></entry></feed>'
    )
    assert [p.url for p in parse_feed(atom)] == ["https://about.fb.com/news/b/"]
    long_url = "https://about.fb.com/news/2024/06/" + "very-long-title-" * 20
    assert len(post_id("meta-newsroom", long_url)) < 180
    assert post_id("n", "https://about.fb.com/news/2024/06/ai-europe/#x") == "n.2024-06-ai-europe"
