"""The pages of the static site: index, change, document, version pages, escaping."""

from __future__ import annotations

import json
import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
from sqlalchemy.orm import Session

from feeds import atomic
from feeds.publish import publish
from storage.models import Change, Document
from tests import factories, site_helpers
from tests.factories import T1, T2, add_change, add_document, add_fetch, add_version
from tests.site_helpers import BASE, HOSTILE, NEW, OLD, ins_del, links, only_our_script

session = factories.session  # a real SQLite file
changes = site_helpers.changes


def test_index_lists_changes_newest_first(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    first, second = changes
    result = publish(session, tmp_path / "public", BASE)
    # index, links, two changes, one document, three versions, three categories
    assert result.pages == 1 + 1 + 2 + 1 + 3 + 3
    index = (tmp_path / "public" / "index.html").read_text()
    assert index.index(second.title) < index.index(first.title)
    assert f'href="changes/{first.id}.html"' in index
    assert 'href="documents/fb-privacy.html"' in index
    assert '<li class="badge">legal-basis</li>' in index
    assert "effective June 26, 2024" in index
    assert "+2" in index and "−1" in index
    assert '<time datetime="2024-06-26T14:30:00+00:00">2024-06-26 14:30 UTC</time>' in index
    assert "Effective date moved" not in index  # the one-line summary
    assert "Date May 1, 2024 \u2192 June 26, 2024" in index
    parsed = links(tmp_path / "public" / "index.html")
    alternates = [a["href"] for t, a in parsed.tags if t == "link" and a.get("rel") == "alternate"]
    assert alternates == [
        "feed.atom",
        "feed.rss",
        *(f"categories/{c}.{e}" for c in ("ai", "dates", "legal-basis") for e in ("atom", "rss")),
    ]
    for href in alternates:
        assert (tmp_path / "public" / href).is_file()
    assert '<option value="legal-basis">legal-basis</option>' in index
    assert '<option value="fb-privacy">Facebook Privacy Policy</option>' in index
    assert 'href="categories/legal-basis.html"' in index and 'href="links.html"' in index
    category = (tmp_path / "public" / "categories" / "dates.html").read_text()
    assert second.title in category and first.title not in category


def test_index_json_lists_every_change_as_text(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    first, second = changes
    publish(session, tmp_path / "public", BASE, limit=1)
    data = json.loads((tmp_path / "public" / "index.json").read_text())
    assert [r["id"] for r in data["changes"]] == [second.id, first.id]  # not capped by limit
    record = data["changes"][1]
    assert record["document"] == "fb-privacy" and record["categories"] == ["legal-basis", "ai"]
    assert record["detected"] == "2024-06-26T14:30:00+00:00"
    assert record["summary"].startswith("Date May 1, 2024")
    index = (tmp_path / "public" / "index.html").read_text()
    assert first.title not in index and "index.json" in index  # limit=1: older ones omitted


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
    assert "Moved from May 1, 2024 to June 26, 2024" in page  # the summary, readable
    assert page.index("<h2>Summary</h2>") < page.index('<h2 id="diff">What changed</h2>')
    assert f'rel="next" href="../changes/{second.id}.html"' in page
    assert 'rel="prev"' not in page
    assert f'href="../versions/{first.from_version_id}.html"' in page  # archived texts
    assert f'href="../versions/{first.to_version_id}.html"' in page
    assert 'id="view-side"' in page and '<table class="sbs">' in page
    later = (tmp_path / "public" / "changes" / f"{second.id}.html").read_text()
    assert f'rel="prev" href="../changes/{first.id}.html"' in later
    assert "Effective" in ins_del(later)[0]


def test_document_page_has_history_and_feeds(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    publish(session, tmp_path / "public", BASE)
    page = (tmp_path / "public" / "documents" / "fb-privacy.html").read_text()
    assert page.count('class="event event-version"') == 3
    assert page.count('class="event event-change"') == 2
    assert 'href="../documents/fb-privacy.atom"' in page
    assert '<a href="https://www.facebook.com/privacy" rel="noopener noreferrer nofollow">' in page
    assert '<div class="text" lang="en">' in page and "Effective June 26, 2024." in page
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
    pages = [out / rel for rel in atomic.site_files(out) if rel.endswith(".html")]
    assert len(pages) == 11
    for page in pages:
        html = page.read_text()
        assert html.startswith('<!doctype html>\n<html lang="en">')
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
        assert "Content-Security-Policy" in html and "default-src 'none'" in html
        assert "script-src 'self';" in html and "unsafe" not in html
        assert only_our_script(html), page
        assert html.count("<h1") == 1, page  # one title per page, then h2, h3
        assert "<img" not in html and "<iframe" not in html
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
            target = Path(os.path.normpath(page.parent / parts.path))  # as a browser does
            assert target.is_file(), f"{page.name} links to missing {url}"
            assert out in target.parents
    assert (out / "static" / "style.css").read_text().count("font-family") == 2  # text, code
    assert "innerHTML" not in (out / "static" / "site.js").read_text()
    assert "url(" not in (out / "static" / "style.css").read_text()  # no fonts, no images


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
    files = [out / rel for rel in atomic.site_files(out)]  # pages through their links
    assert len(files) > 5
    for path in files:
        raw = path.read_bytes()
        if path.suffix == ".md":  # a version's text for download: data, never a page
            assert path.parent.name == "versions", path
            assert b"\x00" not in raw and b"\x0c" not in raw, path
            continue
        if path.suffix == ".html":
            assert only_our_script(raw.decode()), path
        elif path.suffix != ".js":
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


def test_document_timeline_folds_failed_fetches_and_text_carries_its_language(
    session: Session, tmp_path: Path
) -> None:
    add_document(session, "fb", "Politique de confidentialité", "https://fr-fr.facebook.com/p")
    session.get(Document, "fb").locale = "fr_FR"  # type: ignore[union-attr]
    v1 = add_version(session, "fb", OLD, T1)
    v2 = add_version(session, "fb", NEW, T2)
    add_change(session, v1, v2, OLD, NEW, T2, "FR", ["text"])
    hour = timedelta(hours=1)
    outcomes = ["http-5xx", "http-5xx", "http-5xx", None, "timeout", "login-wall", "login-wall"]
    for i, error in enumerate(outcomes):
        detail = "<script>x</script>" if error else None
        status = 503 if error == "http-5xx" else None
        add_fetch(session, "fb", T2 + i * hour, error, status, detail)
    session.commit()
    out = tmp_path / "public"
    publish(session, out, BASE)
    page = (out / "documents" / "fb.html").read_text()
    assert page.count('class="event event-failure"') == 3
    assert "3 fetches in a row" in page and "2 fetches in a row" in page
    assert "<strong>timeout</strong>" in page and "6 failed fetches" in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert '<div class="text" lang="fr-FR">' in page
    change_page = next((out / "changes").glob("*.html")).read_text()
    assert '<div class="diff" lang="fr-FR">' in change_page
    assert '<td class="diff" lang="fr-FR">' in change_page
    version_page = (out / "versions" / f"{v2.id}.html").read_text()
    assert (
        '<ol class="text lines" lang="fr-FR">' in version_page
        and "legitimate interests" in version_page
    )
    lines = re.findall(r'<li id="L(\d+)">', version_page)
    assert lines == [str(n) for n in range(1, len(lines) + 1)] and lines  # numbered as diffs


def test_language_tag_of_locales() -> None:
    from feeds.text import language_tag

    locales = ("en_US", "fr", "de_DE", "", None, 'en" x="y', "en_US_POSIX")
    assert [language_tag(x) for x in locales] == [
        "en-US",
        "fr",
        "de-DE",
        "",
        "",
        "",
        "en-US-POSIX",
    ]
