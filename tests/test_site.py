"""The static site and the atomic publish, from a real SQLite database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from sqlalchemy.orm import Session

from changes.diff import ops_to_json, word_diff
from feeds import atomic, site
from feeds import publish as publish_module
from feeds.publish import publish
from storage.blobs import put_text, sha256
from storage.db import open_db
from storage.models import Change, Version
from storage.repo import DocumentSpec, sync_documents

BASE = "http://127.0.0.1:8000/"
T1 = datetime(2024, 6, 10, 9, 0, tzinfo=UTC)
T2 = datetime(2024, 6, 26, 14, 30, tzinfo=UTC)
T3 = datetime(2024, 7, 1, 8, 15, tzinfo=UTC)
OLD = "We rely on consent for AI training.\n\nObject here: https://example.org/form"
NEW = "We rely on legitimate interests for AI training.\n\nObject here: https://example.org/form"
NEWER = NEW + "\n\nEffective June 26, 2024."
HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(1)> "
    '<a href="javascript:alert(1)">javascript:alert(1)</a> \x00 \x0c'
)


# --- building a database (kept here: tests/conftest.py belongs to the lead) ----------------


def add_document(session: Session, doc_id: str, title: str, url: str) -> None:
    sync_documents(
        session,
        [DocumentSpec(doc_id, "facebook", title, "policy", url, None, "en", "http", (), ())],
    )


def add_version(
    session: Session, doc_id: str, body: str, seen: datetime, effective: str | None = None
) -> Version:
    version = Version(
        document_id=doc_id,
        text_hash=sha256(body.encode()),
        text_blob=put_text(session, body),
        words=len(body.split()),
        first_seen=seen,
        last_seen=seen,
        extractor_version="1",
        effective_date=effective,
        state="accepted",
    )
    session.add(version)
    session.flush()
    return version


def add_change(
    session: Session,
    old: Version,
    new: Version,
    old_text: str,
    new_text: str,
    at: datetime,
    title: str,
    categories: list[str],
    summary: dict[str, object] | None = None,
) -> Change:
    ops = word_diff(old_text, new_text)
    change = Change(
        document_id=new.document_id,
        from_version_id=old.id,
        to_version_id=new.id,
        detected_at=at,
        diff_blob=put_text(session, ops_to_json(ops)),
        words_added=sum(len(t.split()) for op, t in ops if op == "+"),
        words_removed=sum(len(t.split()) for op, t in ops if op == "-"),
        title=title,
        categories=categories,
        summary=summary or {},
        technical=False,
    )
    session.add(change)
    session.flush()
    return change


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    maker = open_db(f"sqlite:///{tmp_path}/t.db")
    with maker() as s:
        yield s
        s.rollback()


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


def ins_del(html: str) -> tuple[str, str]:
    return (
        " ".join(re.findall(r"<ins>(.*?)</ins>", html, re.S)),
        " ".join(re.findall(r"<del>(.*?)</del>", html, re.S)),
    )


# --- pages -----------------------------------------------------------------------------------


def test_index_lists_changes_newest_first(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    first, second = changes
    result = publish(session, tmp_path / "public", BASE)
    assert result.pages == 1 + 2 + 1  # index, two changes, one document
    index = (tmp_path / "public" / "index.html").read_text()
    assert index.index(second.title) < index.index(first.title)
    assert f'href="changes/{first.id}.html"' in index
    assert 'href="documents/fb-privacy.html"' in index
    assert '<li class="badge">legal-basis</li>' in index
    assert "effective June 26, 2024" in index
    assert "+2" in index and "−1" in index
    assert '<time datetime="2024-06-26T14:30:00+00:00">2024-06-26 14:30 UTC</time>' in index


def test_change_page_shows_the_folded_diff(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    first, second = changes
    publish(session, tmp_path / "public", BASE)
    page = (tmp_path / "public" / "changes" / f"{first.id}.html").read_text()
    inserted, deleted = ins_del(page)
    assert "legitimate" in inserted and "interests" in inserted and "consent" in deleted
    assert "Legend:" in page and "Facebook Privacy Policy: legal basis changed" in page
    assert "June 26, 2024" in page and "(previously May 1, 2024)" in page
    assert "From: May 1, 2024; To: June 26, 2024" in page  # the summary, readable
    assert f'rel="next" href="../changes/{second.id}.html"' in page
    assert 'rel="prev"' not in page
    later = (tmp_path / "public" / "changes" / f"{second.id}.html").read_text()
    assert f'rel="prev" href="../changes/{first.id}.html"' in later
    assert "Effective" in ins_del(later)[0]


def test_document_page_has_history_and_feeds(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    publish(session, tmp_path / "public", BASE)
    page = (tmp_path / "public" / "documents" / "fb-privacy.html").read_text()
    assert page.count("<tr><td>") == 3  # three versions
    assert page.count('class="change"') == 2
    assert 'href="../documents/fb-privacy.atom"' in page
    assert '<a href="https://www.facebook.com/privacy" rel="noopener noreferrer nofollow">' in page
    parsed = links(tmp_path / "public" / "documents" / "fb-privacy.html")
    alternates = {
        a.get("type"): a.get("href")
        for t, a in parsed.tags
        if t == "link" and a.get("rel") == "alternate"
    }
    assert alternates["application/atom+xml"] and alternates["application/rss+xml"]
    doc_feed = feedparser.parse(
        (tmp_path / "public" / "documents" / "fb-privacy.atom").read_bytes()
    )
    assert len(doc_feed.entries) == 2


def test_every_page_is_self_contained_and_links_resolve(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    publish(session, out, BASE)
    pages = sorted(out.rglob("*.html"))
    assert len(pages) == 4
    for page in pages:
        html = page.read_text()
        assert html.startswith('<!doctype html>\n<html lang="en">')
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert "Content-Security-Policy" in html and "default-src 'none'" in html
        assert "<script" not in html
        parsed = links(page)
        for tag, attrs in parsed.tags:
            if tag == "link" and attrs.get("rel") == "stylesheet":
                assert not urlsplit(attrs["href"] or "").scheme  # no CDN
        for url in parsed.urls:
            parts = urlsplit(url)
            if not parts.path:  # same-page fragment
                assert f'id="{parts.fragment}"' in html
                continue
            if parts.scheme:
                assert parts.scheme in ("http", "https")
                continue
            target = (page.parent / parts.path).resolve()
            assert target.is_file(), f"{page.name} links to missing {url}"
            assert out.resolve() in target.parents
    assert (out / "static" / "style.css").read_text().count("font-family") == 1


def test_hostile_text_only_ever_appears_escaped(session: Session, tmp_path: Path) -> None:
    add_document(session, "evil", "Evil <script>alert(1)</script>", "javascript:alert(1)")
    v1 = add_version(session, "evil", "Harmless.", T1, "<img src=x onerror=alert(1)>")
    v2 = add_version(session, "evil", HOSTILE, T2, "<script>alert(3)</script>")
    add_change(
        session,
        v1,
        v2,
        "Harmless.",
        HOSTILE,
        T2,
        "Evil <script>alert(1)</script>\x00 changed",
        ["<img src=x onerror=alert(1)>"],
        {"links_added": ["<script>alert(2)</script>"]},
    )
    session.commit()
    out = tmp_path / "public"
    publish(session, out, BASE)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > 5
    for path in files:
        raw = path.read_bytes()
        assert b"<script" not in raw.lower(), path
        assert b"<img" not in raw.lower(), path
        assert b"\x00" not in raw and b"\x0c" not in raw, path
        assert b'href="javascript:' not in raw.lower(), path
    change_page = next((out / "changes").glob("*.html")).read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in change_page
    assert "&lt;img src=x onerror=alert(1)&gt;" in change_page
    doc_page = (out / "documents" / "evil.html").read_text()
    assert "javascript:alert(1)" in doc_page  # shown as text ...
    assert not any(
        u.lower().startswith("javascript") for u in links(out / "documents" / "evil.html").urls
    )
    for name in ("feed.atom", "feed.rss"):
        assert feedparser.parse((out / name).read_bytes()).bozo == 0


# --- atomic publish --------------------------------------------------------------------------


def siblings(tmp_path: Path) -> set[str]:
    return {
        p.name for p in tmp_path.iterdir() if p.name != "t.db" and not p.name.startswith("t.db-")
    }


def test_publish_swaps_atomically_and_leaves_no_temp(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    publish(session, out, BASE)
    (out / "stale.html").write_text("left from an older build")
    result = publish(session, out, BASE)
    assert result.out_dir == out
    assert siblings(tmp_path) == {"public"}
    assert not (out / "stale.html").exists()  # the whole folder was replaced
    assert (out / atomic.MARKER).is_file()
    assert oct(out.stat().st_mode & 0o777) == oct(0o755)


def test_failed_build_keeps_previous_site(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "public"
    publish(session, out, BASE)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError("render failed")

    monkeypatch.setattr(site, "write_site", boom)
    with pytest.raises(RuntimeError, match="render failed"):
        publish(session, out, "https://elsewhere.example/")
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert siblings(tmp_path) == {"public"}


def test_failed_first_build_leaves_nothing(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom(*args: object, **kwargs: object) -> list[Path]:
        raise OSError("disk full")

    monkeypatch.setattr(publish_module.feed, "write_feeds", boom)
    with pytest.raises(OSError, match="disk full"):
        publish(session, tmp_path / "public", BASE)
    assert siblings(tmp_path) == set()


def test_refuses_to_replace_a_foreign_folder(session: Session, tmp_path: Path) -> None:
    out = tmp_path / "home"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(FileExistsError):
        publish(session, out, BASE)
    assert (out / "thesis.tex").read_text() == "years of work"
    assert siblings(tmp_path) == {"home"}


def test_empty_folder_and_bad_base_url(session: Session, tmp_path: Path) -> None:
    out = tmp_path / "public"
    out.mkdir()
    result = publish(session, out, "https://example.org/pw")  # no trailing slash: added
    assert result.pages == 1 and result.changes == 0
    assert "No changes recorded yet." in (out / "index.html").read_text()
    assert 'href="https://example.org/pw/feed.atom"' in (out / "feed.atom").read_text()
    for bad in ("ftp://example.org/", "/relative/", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            publish(session, out, bad)
