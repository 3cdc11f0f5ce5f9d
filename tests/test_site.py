"""The static site and the atomic publish, from a real SQLite database."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
from sqlalchemy.orm import Session

from changes.diff import word_diff
from feeds import atomic, site
from feeds import publish as publish_module
from feeds.publish import publish
from storage.models import Change, Document, Fetch, Link, LinkCheck, LinkSighting
from tests import factories
from tests.factories import T1, T2, T3, add_change, add_document, add_version

BASE = "http://127.0.0.1:8000/"
OLD = "We rely on consent for AI training.\n\nObject here: https://example.org/form"
NEW = "We rely on legitimate interests for AI training.\n\nObject here: https://example.org/form"
NEWER = NEW + "\n\nEffective June 26, 2024."
HOSTILE = (
    "<script>alert(1)</script> <img src=x onerror=alert(1)> "
    '<a href="javascript:alert(1)">javascript:alert(1)</a> \x00 \x0c'
)


session = factories.session  # a real SQLite file


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


SCRIPT_TAG = re.compile(r'<script src="(?:\.\./)*static/site\.js\?v=[0-9a-f]{12}" defer></script>')


def only_our_script(html: str) -> bool:
    """The one script tag is our static file: no inline script, no other source."""
    return html.lower().count("<script") == len(SCRIPT_TAG.findall(html)) == 1


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
    pages = sorted(out.rglob("*.html"))
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
            target = (page.parent / parts.path).resolve()
            assert target.is_file(), f"{page.name} links to missing {url}"
            assert out.resolve() in target.parents
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
    files = [p for p in out.rglob("*") if p.is_file()]
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


# --- atomic publish --------------------------------------------------------------------------


def siblings(tmp_path: Path) -> set[str]:
    """What a publish left next to ``public``: the link, the generations folder and the
    generations in it (``new-*`` build folders must not survive a publish)."""
    names = {
        p.name for p in tmp_path.iterdir() if p.name != "t.db" and not p.name.startswith("t.db-")
    }
    sites = tmp_path / ".public.sites"
    if sites.is_dir():
        names |= {f"sites/{p.name.split('-')[0]}" for p in sites.iterdir() if p.name != ".lock"}
    return names


def test_publish_swaps_atomically_and_leaves_no_temp(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    publish(session, out, BASE)
    first = atomic.live(out)
    (out / "stale.html").write_text("left from an older build")
    assert publish(session, out, BASE).outcome == "unchanged"  # nothing new: no new tree
    assert atomic.live(out) == first
    result = publish(session, out, "https://elsewhere.example/")  # every feed changes
    assert result.out_dir == out and result.outcome == "published"
    assert out.is_symlink() and atomic.live(out) != first
    assert siblings(tmp_path) == {"public", ".public.sites", "sites/gen"}  # the old one too
    assert not (out / "stale.html").exists()  # the whole folder was replaced
    assert (out / atomic.MARKER).is_file()
    assert oct(out.stat().st_mode & 0o777) == oct(0o755)
    publish(session, out, BASE)
    atomic.wait_for_sweeps(60)
    assert len(atomic.describe(out)["generations"]) == 2  # the one replaced last time is gone


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
    assert siblings(tmp_path) == {"public", ".public.sites", "sites/gen"}


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
    assert siblings(tmp_path) <= {".public.sites"}  # no link, no generation


def test_refuses_to_replace_a_foreign_folder(session: Session, tmp_path: Path) -> None:
    out = tmp_path / "home"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(FileExistsError):
        publish(session, out, BASE)
    assert (out / "thesis.tex").read_text() == "years of work"
    assert siblings(tmp_path) == {"home"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere)  # a symlink policywatch did not make
    with pytest.raises(FileExistsError):
        publish(session, tmp_path / "link", BASE)


def test_empty_folder_and_bad_base_url(session: Session, tmp_path: Path) -> None:
    out = tmp_path / "public"
    out.mkdir()
    result = publish(session, out, "https://example.org/pw")  # no trailing slash: added
    assert result.pages == 2 and result.changes == 0  # index and links
    assert "No changes recorded yet." in (out / "index.html").read_text()
    assert 'href="https://example.org/pw/feed.atom"' in (out / "feed.atom").read_text()
    for bad in ("ftp://example.org/", "/relative/", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            publish(session, out, bad)


# --- what the pages show ---------------------------------------------------------------------


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


def test_health_changes_render_without_a_diff_and_silent_ones_are_not_listed(
    session: Session, tmp_path: Path
) -> None:
    add_document(session, "fb", "Facebook Privacy Policy", "https://www.facebook.com/privacy")
    link = Link(
        url="https://www.facebook.com/help/contact/1",
        kind="objection",
        first_seen=T1,
        last_seen=T3,
        outcome="not-found",
        outcome_since=T3,
    )
    session.add(link)
    session.flush()
    for kind, title, alert in (
        ("link-health", "Objection form is gone", True),
        ("source-health", "The policy kept failing", True),
        ("source-health", "Flapped back, kept quietly", False),
    ):
        session.add(
            Change(
                kind=kind,
                document_id="fb",
                link_id=link.id if kind == "link-health" else None,
                detected_at=T3,
                title=title,
                categories=["opt-out-links"],
                summary={"outcome": {"from": "form", "to": "not-found"}},
                alert=alert,
            )
        )
    session.commit()
    out = tmp_path / "public"
    result = publish(session, out, BASE)
    assert result.changes == 2
    index = (out / "index.html").read_text()
    assert "Objection form is gone" in index and "Flapped back" not in index
    assert "Link health; Outcome: From: form; To: not-found" in index
    pages = {p.read_text() for p in (out / "changes").glob("*.html")}
    (link_page,) = [p for p in pages if "<h1>Objection form is gone" in p]
    assert f'href="../links.html#link-{link.id}"' in link_page
    assert "What changed" not in link_page and "<ins>" not in link_page
    (source_page,) = [p for p in pages if "<h1>The policy kept failing" in p]
    assert 'href="../documents/fb.html#timeline"' in source_page
    assert "+0 / −0 words" not in (out / "feed.atom").read_text()


def test_links_page_shows_every_link_where_it_appears_and_its_checks(
    session: Session, tmp_path: Path
) -> None:
    add_document(session, "fb", "Facebook Privacy Policy", "https://www.facebook.com/privacy")
    good = Link(
        url="https://www.facebook.com/help/contact/1",
        kind="objection",
        first_seen=T1,
        last_seen=T3,
        outcome="form",
        outcome_since=T1,
    )
    bad = Link(
        url="javascript:alert(1)",
        kind="opt-out",
        first_seen=T1,
        last_seen=T3,
        outcome="<b>weird</b>",
        outcome_since=T2,
    )
    session.add_all([good, bad])
    session.flush()
    session.add(
        LinkSighting(
            link_id=good.id,
            document_id="fb",
            anchor="Object here",
            context="You can object <script>x</script>",
            first_seen=T1,
            last_seen=T3,
        )
    )
    session.add(
        LinkSighting(
            link_id=bad.id,
            document_id="fb",
            anchor="gone",
            context="",
            first_seen=T1,
            last_seen=T2,
            present=False,
        )
    )
    for i in range(25):
        session.add(
            LinkCheck(
                link_id=good.id,
                checked_at=T1 + (T2 - T1) * i / 25,
                http_status=200,
                final_url="https://www.facebook.com/help/",
                outcome="form",
                evidence="a form",
            )
        )
    session.add(
        LinkCheck(
            link_id=bad.id,
            checked_at=T2,
            http_status=None,
            final_url="javascript:alert(2)",
            outcome="error",
            evidence="<img src=x onerror=alert(1)>",
        )
    )
    session.commit()
    out = tmp_path / "public"
    publish(session, out, BASE)
    page = (out / "links.html").read_text()
    assert page.index(f'id="link-{bad.id}"') < page.index(f'id="link-{good.id}"')  # failing first
    assert (
        '<a href="https://www.facebook.com/help/contact/1" rel="noopener noreferrer nofollow">'
        in page
    )
    assert 'class="health health-ok">form</span>' in page
    assert 'class="health health-unknown">&lt;b&gt;weird&lt;/b&gt;</span>' in page
    assert "You can object &lt;script&gt;x&lt;/script&gt;" in page
    assert "(no longer there since" in page
    assert "The 20 newest of 25 checks." in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert not any(u.startswith("javascript") for u in links(out / "links.html").urls)
    assert only_our_script(page) and "<img" not in page


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
        session.add(
            Fetch(
                document_id="fb",
                url="https://x",
                started_at=T2 + i * hour,
                error=error,
                http_status=status,
                error_detail=detail,
            )
        )
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


def test_side_by_side_rows_keep_both_texts() -> None:
    from changes.diff import hunks
    from feeds.diffview import rows

    old = "Intro.\nWe use consent.\nKeep this.\nAnd this line.\nEnd.\n"
    new = "Intro.\nWe use legitimate interests.\nKeep this.\nNew line.\nAnd this line.\nEnd.\n"
    ops = word_diff(old, new)
    (hunk,) = hunks(ops, context_lines=5)
    found = rows(hunk)
    assert "".join(t for r in found for _, t in r.old) == old
    assert "".join(t for r in found for _, t in r.new) == new
    changed = [r for r in found if r.changed]
    assert changed[0].old == (("=", "We use "), ("-", "consent"), ("=", ".\n"))
    assert ("+", "legitimate interests") in changed[0].new
    assert [t for _, t in changed[1].old] == [] or all(op != "+" for op, _ in changed[1].old)


def test_lang_of_locales() -> None:
    from feeds.text import lang

    assert [lang(x) for x in ("en_US", "fr", "de_DE", "", None, 'en" x="y', "en_US_POSIX")] == [
        "en-US",
        "fr",
        "de-DE",
        "",
        "",
        "",
        "en-US-POSIX",
    ]


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_colours_have_enough_contrast_in_light_and_dark_mode() -> None:
    from importlib import resources

    css = resources.files("feeds").joinpath("static", "style.css").read_text()
    light_block = css[css.index(":root {") : css.index("}", css.index(":root {"))]
    dark_start = css.index(":root {", css.index("prefers-color-scheme: dark"))
    dark_block = css[dark_start : css.index("}", dark_start)]
    for block in (light_block, dark_block):
        colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", block))
        for fg, bg in (
            ("fg", "bg"),
            ("muted", "bg"),
            ("link", "bg"),
            ("badge-fg", "badge-bg"),
            ("ins-fg", "ins-bg"),
            ("del-fg", "del-bg"),
            ("warn-fg", "warn-bg"),
        ):
            ratio = contrast(colours[fg], colours[bg])
            assert ratio >= 4.5, f"{fg} on {bg}: {ratio:.2f} (WCAG AA needs 4.5)"
