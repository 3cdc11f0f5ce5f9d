"""Atom and RSS feeds, read back with feedparser from a real SQLite database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import feedparser
import pytest
from sqlalchemy.orm import Session

from changes import diff as diff_module
from changes.diff import Hunk
from feeds import text
from feeds.feed import EMPTY_FEED_UPDATED
from feeds.publish import publish
from feeds.render import excerpt
from storage.installation import tag_scheme
from storage.models import Change
from tests import factories
from tests.factories import T1, T2, T3, add_change, add_document, add_version

BASE = "https://example.org/policywatch/"

OLD = "We process your data for AI on the basis of consent.\n\nYou can object at any time."
NEW = (
    "We process your data for AI on the basis of legitimate interests.\n\n"
    "You can object at any time."
)


@dataclass
class World:
    session: Session
    basis: Change  # fb-privacy, T2: consent -> legitimate interests
    date: Change  # fb-privacy, T3: effective date moved
    other: Change  # ig-privacy, T1


session = factories.session  # a real SQLite file


@pytest.fixture
def world(session: Session) -> World:
    add_document(session, "fb-privacy", "Facebook Privacy Policy")
    add_document(session, "ig-privacy", "Instagram Privacy Policy")
    v1 = add_version(session, "fb-privacy", OLD, T1, "May 1, 2024")
    v2 = add_version(session, "fb-privacy", NEW, T2, "June 26, 2024")
    newer = NEW + "\n\nThis policy is effective from June 26, 2024."
    v3 = add_version(session, "fb-privacy", newer, T3, "June 26, 2024")
    basis = add_change(
        session,
        v1,
        v2,
        OLD,
        NEW,
        T2,
        "Facebook Privacy Policy: legal basis for AI changed to legitimate interests",
        ["legal-basis", "ai"],
        {
            "bases_added": [{"basis": "legitimate interests", "purpose": "AI"}],
            "words_added": 2,
            "words_removed": 1,
        },
    )
    date = add_change(
        session,
        v2,
        v3,
        NEW,
        newer,
        T3,
        "Facebook Privacy Policy: effective date stated",
        ["dates"],
    )
    i1 = add_version(session, "ig-privacy", "Instagram text one.", T1 - (T2 - T1))
    i2 = add_version(session, "ig-privacy", "Instagram text two.", T1)
    other = add_change(
        session,
        i1,
        i2,
        "Instagram text one.",
        "Instagram text two.",
        T1,
        "Instagram Privacy Policy: text changed",
        ["text"],
    )
    tech = add_version(session, "ig-privacy", "Instagram text two, re-extracted.", T3)
    add_change(
        session,
        i2,
        tech,
        "Instagram text two.",
        "Instagram text two, re-extracted.",
        T3,
        "Instagram Privacy Policy: re-extracted",
        ["text"],
        technical=True,
    )
    session.commit()
    return World(session, basis, date, other)


def parse(path: Path) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


# --- the tests -------------------------------------------------------------------------------


def test_feeds_parse_newest_first_with_tag_ids(world: World, tmp_path: Path) -> None:
    out = tmp_path / "public"
    result = publish(world.session, out, BASE)
    assert result.changes == 3  # the technical change is never published
    assert out / "feed.atom" in result.feeds and out / "feed.rss" in result.feeds
    for name in ("feed.atom", "feed.rss"):
        entries = parse(out / name).entries
        scheme = tag_scheme(world.session, "ignored: chosen by the first publish")
        assert re.fullmatch(r"example\.org,\d{4}-\d{2}-\d{2}", scheme.authority)
        base = f"tag:{scheme.authority}:{scheme.prefix}"
        assert [e.id for e in entries] == [
            f"{base}/change/fb-privacy/{world.date.id}",
            f"{base}/change/fb-privacy/{world.basis.id}",
            f"{base}/change/ig-privacy/{world.other.id}",
        ]
        assert entries[0].link == f"{BASE}changes/{world.date.id}.html"
        assert entries[1].title == world.basis.title
        assert entries[1].published_parsed[:6] == (2024, 6, 26, 14, 30, 0)
        if name.endswith("atom"):
            assert entries[1].updated_parsed[:6] == (2024, 6, 26, 14, 30, 0)
        assert {t.term for t in entries[1].tags} == {"legal-basis", "ai"}
        assert "re-extracted" not in (out / name).read_text()


def test_feed_updated_is_newest_entry_not_now(world: World, tmp_path: Path) -> None:
    publish(world.session, tmp_path / "public", BASE)
    atom = parse(tmp_path / "public" / "feed.atom")
    rss = parse(tmp_path / "public" / "feed.rss")
    assert atom.feed.updated_parsed[:6] == (2024, 7, 1, 8, 15, 0)
    assert rss.feed.updated_parsed[:6] == (2024, 7, 1, 8, 15, 0)


def test_entry_content_shows_escaped_diff_and_summary(world: World, tmp_path: Path) -> None:
    publish(world.session, tmp_path / "public", BASE)
    for name in ("feed.atom", "feed.rss"):
        entry = parse(tmp_path / "public" / name).entries[1]
        html = entry.content[0].value if name.endswith("atom") else entry.description
        inserted = " ".join(re.findall(r"<ins>(.*?)</ins>", html, re.S))
        deleted = " ".join(re.findall(r"<del>(.*?)</del>", html, re.S))
        assert "legitimate" in inserted and "interests" in inserted
        assert "consent" in deleted
        assert "legal-basis" in html and "+2" in html
        assert "Bases added" in html and "legitimate interests" in html
        assert f"{BASE}changes/{world.basis.id}.html" in html
        assert "Words added" not in html  # counts are shown once, in the summary line


def test_ids_stable_across_rebuilds_and_base_urls(world: World, tmp_path: Path) -> None:
    publish(world.session, tmp_path / "a", BASE)
    publish(world.session, tmp_path / "b", "http://127.0.0.1:8000")
    for name in ("feed.atom", "feed.rss", "documents/fb-privacy.atom"):
        a, b = parse(tmp_path / "a" / name), parse(tmp_path / "b" / name)
        assert [e.id for e in a.entries] == [e.id for e in b.entries]
        assert a.feed.id == b.feed.id if name.endswith("atom") else True
        assert all(e.link.startswith("http://127.0.0.1:8000/changes/") for e in b.entries)


def test_rebuild_without_new_change_is_byte_identical(world: World, tmp_path: Path) -> None:
    out = tmp_path / "public"
    first = publish(world.session, out, BASE)
    before = {p: p.read_bytes() for p in first.feeds}
    second = publish(world.session, out, BASE)
    assert second.feeds == first.feeds
    assert {p: p.read_bytes() for p in second.feeds} == before


def test_document_and_category_feeds(world: World, tmp_path: Path) -> None:
    out = tmp_path / "public"
    publish(world.session, out, BASE)
    fb = parse(out / "documents" / "fb-privacy.rss").entries
    assert [e.id.rsplit("/", 1)[1] for e in fb] == [str(world.date.id), str(world.basis.id)]
    ig = parse(out / "documents" / "ig-privacy.atom")
    assert [e.title for e in ig.entries] == ["Instagram Privacy Policy: text changed"]
    assert ig.feed.updated_parsed[:6] == (2024, 6, 10, 9, 0, 0)  # not the technical change
    legal = parse(out / "categories" / "legal-basis.atom").entries
    assert [e.title for e in legal] == [world.basis.title]
    assert (out / "categories" / "dates.rss").is_file()


def test_limit_caps_every_feed(world: World, tmp_path: Path) -> None:
    out = tmp_path / "public"
    result = publish(world.session, out, BASE, limit=1)
    assert len(parse(out / "feed.atom").entries) == 1
    assert len(parse(out / "documents" / "fb-privacy.rss").entries) == 1
    assert result.changes == 3
    assert (out / "changes" / f"{world.other.id}.html").is_file()  # pages are not capped


def test_empty_database_gives_valid_stable_feeds(session: Session, tmp_path: Path) -> None:
    add_document(session, "fb-privacy", "Facebook Privacy Policy")
    session.commit()
    out = tmp_path / "public"
    publish(session, out, BASE)
    for name in ("feed.atom", "feed.rss", "documents/fb-privacy.atom"):
        parsed = parse(out / name)
        assert parsed.entries == []
    assert parse(out / "feed.atom").feed.updated_parsed[:3] == EMPTY_FEED_UPDATED.timetuple()[:3]


HOSTILE = (
    "Intro <script>alert(1)</script> and <img src=x onerror=alert(1)> and "
    "[click](javascript:alert(1)) \x00nul \x0cff \x1b[31m \ufffe end."
)


def test_hostile_text_is_escaped_and_feeds_still_parse(session: Session, tmp_path: Path) -> None:
    add_document(
        session, "evil", "Evil <script>alert(1)</script> Policy", url="javascript:alert(1)"
    )
    v1 = add_version(session, "evil", "Plain old text.", T1)
    v2 = add_version(session, "evil", HOSTILE, T2)
    add_change(
        session,
        v1,
        v2,
        "Plain old text.",
        HOSTILE,
        T2,
        "Evil: <script>alert(1)</script>\x00 changed",
        ["<b>bold</b>", "x\x0cy"],
        {"links_added": ["javascript:alert(1)", "<script>alert(2)</script>"]},
    )
    session.commit()
    out = tmp_path / "public"
    publish(session, out, BASE)
    for name in ("feed.atom", "feed.rss", "documents/evil.atom", "documents/evil.rss"):
        raw = (out / name).read_bytes()
        assert b"<script" not in raw and b"<img" not in raw and b"\x00" not in raw
        entry = parse(out / name).entries[0]
        assert entry.title == "Evil: <script>alert(1)</script> changed"  # text, shown as text
        html = entry.content[0].value if name.endswith("atom") else entry.description
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        assert "<script" not in html and "<img" not in html
        assert {t.term for t in entry.tags} == {"<b>bold</b>", "xy"}


def test_text_helpers() -> None:
    assert text.clean("a\x00b\x08c\x0bd\x0ce\x1ff\tg\nh\ri") == "abcdef\tg\nh\ri"
    # its shortcut for printable strings: no printable character is one it strips
    chars = "".join(chr(i) for i in range(0x110000))
    assert not [c for c in chars if c.isprintable() and text._ILLEGAL.search(c)]
    assert text.clean("caf\u00e9 \ud800x\uffff") == "caf\u00e9 x"  # not printable: cleaned
    long = "a\nb\x00" * 5000  # a long text: cleaned, then remembered, never another's
    assert text.clean(long) == text.clean(long) == "a\nb" * 5000
    assert text.clean("c\nd\x01" * 5000) == "c\nd" * 5000
    # fmt_datetime: strftime's form, also for a year strftime does not pad
    for moment in (datetime(2024, 6, 10, 14, 3, tzinfo=UTC), datetime(999, 1, 2, 3, 4, tzinfo=UTC)):
        assert text.fmt_datetime(moment) == moment.strftime("%Y-%m-%d %H:%M UTC")
    east = datetime(2024, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert text.fmt_datetime(east) == "2023-12-31 22:30 UTC"
    assert text.safe_url("https://example.org/x?a=1") == "https://example.org/x?a=1"
    for bad in (
        "javascript:alert(1)",
        "JaVaScRiPt:x",
        "data:text/html,x",
        "//evil.org",
        "http://",
        "https://exa mple.org",
        "https://a.org/\x00",
        None,
        "",
    ):
        assert text.safe_url(bad) is None
    assert text.tag_uri("tag:a.org,2026-11-23:p", "change", "fb privacy", 7) == (
        "tag:a.org,2026-11-23:p/change/fb%20privacy/7"
    )
    assert text.short_title("x" * 200) == "x" * 139 + "\u2026"
    long = "Facebook Privacy Policy: " + "legal basis changed for a purpose, " * 8
    assert len(text.short_title(long)) <= 140 and text.short_title(long).endswith(" legal\u2026")
    assert text.slug("fb-privacy") == "fb-privacy"
    for bad in ("../etc", "a/b", ".hidden", "x" * 300, ""):
        name = text.slug(bad)
        assert re.fullmatch(r"[A-Za-z0-9_-]+", name), name
    assert text.summary_items({"date": {"from": "May 1", "to": None}, "empty": [], "n": 0}) == [
        ("Date", ["From: May 1"]),
        ("N", ["0"]),
    ]


def test_feeds_never_recompute_diffs(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("publish recomputed a diff (pipeline.detect stores it once)")

    monkeypatch.setattr(diff_module, "word_diff", forbidden)
    assert publish(world.session, tmp_path / "public", BASE).changes == 3


def test_excerpt_shortens_long_hunks() -> None:
    before, added, after = "a " * 500, "new " * 1000, "z " * 500
    folded = [Hunk(ops=(("=", before), ("+", added), ("=", after)), old_line=1, new_line=1)]
    folded += [Hunk(ops=(("-", f"gone{i}"),), old_line=i, new_line=i) for i in range(2, 7)]
    shown, more = excerpt(folded, max_hunks=3, max_chars=300, context_chars=50)
    assert more == 5  # the first hunk used the whole budget
    (ops,) = [h.ops for h in shown]
    assert ops[0][1].startswith("\u2026") and len(ops[0][1]) <= 52
    assert ops[1][1].endswith("\u2026") and len(ops[1][1]) <= 302
    assert ops[2][1].endswith("\u2026") and len(ops[2][1]) <= 52


def test_attribution_in_feed_rights_and_pages(world: World, tmp_path: Path) -> None:
    credit = "Texts: Platform Governance Archive <PGA v2>, ODC-BY 1.0"
    publish(world.session, tmp_path / "public", BASE, attribution=credit)
    assert parse(tmp_path / "public" / "feed.atom").feed.rights == credit
    assert parse(tmp_path / "public" / "feed.rss").feed.rights == credit
    index = (tmp_path / "public" / "index.html").read_text()
    assert "Platform Governance Archive &lt;PGA v2&gt;, ODC-BY 1.0" in index
