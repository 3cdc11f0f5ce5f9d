"""The unchanged-page fast path: a region fingerprint that ignores tokens and nothing else.

The fingerprint (changes/region.py) must be equal for two fetches of a page that differ
only in link tokens and attributes extraction ignores, and different whenever the text
differs: checked on the real pages of demo/data/html, on consecutive versions of the
recorded history as the demo serves them, and end to end through the spider against the
local server (a token-only re-fetch is not extracted; a one-word change is a change).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path

import pytest
from sqlalchemy import func, select

from changes import region
from changes.extract import extract
from changes.links import canonical_url
from config.run import RunConfig, sources_of
from demo.corpus import load_history, load_html
from demo.pages import meta_page
from demo.server import FakeMeta
from pipeline import derive, spider_process
from storage.blobs import get_text
from storage.db import open_db
from storage.history import add_or_touch_version
from storage.models import Change, Document, Fetch, Version
from storage.repo import FetchRecord, record_fetch, sync_documents
from tests.conftest import write_sources
from tests.factories import start_run

BASE = "https://www.facebook.com/privacy/policy/"
PAGES = [
    ("facebook-privacy-policy", ["#root"]),
    ("facebook-genai", ["#root"]),
    ("whatsapp-privacy-policy", ["#content-wrapper"]),
]
_ABSOLUTE_HREF = re.compile(r'href="(https?://[^"]*)"')
_CLASS = re.compile(r'class="([^"]*)"')


def rotate(html: str) -> str:
    """The page as the next request serves it: every absolute link gets a fresh signature
    (``h=``) and click token (``__cft__[0]=``), every class name a fresh suffix."""

    def token(match: re.Match[str]) -> str:
        url, hash_, fragment = match.group(1).partition("#")
        joiner = "&amp;" if "?" in url else "?"
        fresh = secrets.token_hex(8)
        return f'href="{url}{joiner}h=AT{fresh}&amp;__cft__[0]={fresh}{hash_}{fragment}"'

    html = _ABSOLUTE_HREF.sub(token, html)
    return _CLASS.sub(lambda m: f'class="{m.group(1)} x{secrets.token_hex(3)}"', html)


def one_word_changed(html: str, select: list[str]) -> str:
    """The page with one word of its policy text replaced (a word the page has once)."""
    text = extract(html, BASE, select).text
    for word in re.findall(r"\b[a-z]{7,}\b", text[len(text) // 2 :]):
        if html.count(f" {word} ") == 1 and text.count(word) == 1:
            return html.replace(f" {word} ", f" {word[::-1]} ")
    raise AssertionError("no word to change")


def fingerprint(html: str, select: list[str]) -> str:
    return region.region_hash(html, BASE, select)


@pytest.mark.parametrize(("name", "select"), PAGES)
def test_tokens_and_ignored_attributes_leave_the_fingerprint_alone(
    name: str, select: list[str]
) -> None:
    html = load_html(name)
    rotated = rotate(html)
    assert rotated != html and rotate(html) != rotated
    assert fingerprint(rotated, select) == fingerprint(html, select)
    assert fingerprint(rotate(html), select) == fingerprint(rotated, select)
    assert extract(rotated, BASE, select).text == extract(html, BASE, select).text


@pytest.mark.parametrize(("name", "select"), PAGES)
def test_a_one_word_change_changes_the_fingerprint(name: str, select: list[str]) -> None:
    html = load_html(name)
    changed = one_word_changed(html, select)
    assert extract(changed, BASE, select).text != extract(html, BASE, select).text
    assert fingerprint(rotate(changed), select) != fingerprint(html, select)


def test_what_extraction_reads_changes_the_fingerprint() -> None:
    def page(inner: str) -> str:
        return f"<html><body><nav>menu</nav><div id='root'>{inner}</div></body></html>"

    plain = page("<p>Text <a href='https://example.com/a?x=1' class='c'>link</a></p>")
    same = [
        page("<p>Text <a href='https://example.com/a?x=1&h=AT1' class='d' id='q'>link</a></p>"),
        page("<p>Text <a href='https://example.com/a?x=1&utm_source=z' data-ft='9'>link</a></p>"),
    ]
    different = [
        page("<p>Text <a href='https://example.com/b?x=1'>link</a></p>"),  # target
        page("<p>Text <a href='https://example.com/a?x=2'>link</a></p>"),  # kept parameter
        page("<p>Text <a href='https://example.com/a?x=1'>Link</a></p>"),  # anchor text
        page("<h2>Text <a href='https://example.com/a?x=1'>link</a></h2>"),  # a tag
        page("<p>Text <a href='https://example.com/a?x=1' title='t'>link</a></p>"),  # read
        page("<p>Text <a href='https://example.com/a?x=1'>link</a></p> "),  # a tail
    ]
    for html in same:
        assert fingerprint(html, ["#root"]) == fingerprint(plain, ["#root"])
    seen = {fingerprint(plain, ["#root"])}
    for html in different:
        digest = fingerprint(html, ["#root"])
        assert digest not in seen, html
        seen.add(digest)
    # the rules and the base are part of it
    assert fingerprint(plain, ["div"]) != fingerprint(plain, ["#root"])
    assert region.region_hash(plain, "https://other.example/", ["#root"]) != fingerprint(
        plain, ["#root"]
    )


def test_link_keys_never_hide_what_canonicalisation_keeps() -> None:
    """Equal keys must mean equal canonical URLs: every link of the real pages, with and
    without tokens, canonicalises the same as its key's URL."""
    for name, _ in PAGES:
        for html in (load_html(name), rotate(load_html(name))):
            for href in re.findall(r'href="([^"]*)"', html):
                url = href.replace("&amp;", "&")
                key = region.link_key(url)
                if key.startswith("k:"):
                    assert canonical_url(key[2:], BASE) == canonical_url(url, BASE), url


def test_every_attribute_extraction_reads_is_in_the_fingerprint() -> None:
    root = Path(__file__).resolve().parent.parent / "changes"
    source = (root / "extract.py").read_text() + (root / "markdown.py").read_text()
    read = set(
        re.findall(r"""\b(?:el|a|img|tag|table|parent|source|b)\.get\(\s*["'](\w+)["']""", source)
    )
    assert read >= {"href", "src", "alt", "colspan", "start", "role"}  # the pattern works
    assert read <= region.READ_ATTRS


def test_equal_fingerprints_mean_equal_texts_on_the_recorded_history() -> None:
    """Recorded versions (a sample) served as Meta serves them (tokens everywhere): a
    fingerprint seen before always means the text seen with it (never a change skipped);
    a re-served page has its fingerprint again."""
    history = load_history("facebook-privacy-policy-en")[::40]
    pages = [meta_page(version.text) for version in history]
    texts = [extract(html, BASE, ["#root"]).text for html in pages]
    digests = [fingerprint(html, ["#root"]) for html in pages]
    assert len(set(texts)) > 5
    for i in range(len(pages)):
        for j in range(i):
            if digests[i] == digests[j]:
                assert texts[i] == texts[j], (i, j)
            if texts[i] != texts[j]:
                assert digests[i] != digests[j], (i, j)
    for i in range(0, len(pages), 4):
        again = meta_page(history[i].text)  # fresh tokens, fresh CSRF, fresh time
        assert fingerprint(again, ["#root"]) == digests[i]


class Crawls:
    def __init__(self, tmp_path: Path, site: FakeMeta, db_url: str) -> None:
        self.site = site
        sources = write_sources(
            tmp_path / "sources.toml", [{"id": "fb-policy", "url": site.url("/privacy/policy/")}]
        )
        self.cfg = RunConfig(db_url, str(sources), out_dir=str(tmp_path / "out"))
        self.extracted = 0

    def count_extractions(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real = derive.read_page

        def counted(*args: object) -> object:
            self.extracted += 1
            return real(*args)  # type: ignore[arg-type]

        monkeypatch.setattr(derive, "read_page", counted)

    def crawl(self, html: str) -> dict[str, int]:
        """Serve ``html``, crawl it, derive it."""
        self.site.page("/privacy/policy/", html)
        run_id = start_run(self.cfg)
        spider_process.crawl(self.cfg, run_id)
        return derive.derive_versions(self.cfg, run_id)


def test_a_token_only_refetch_is_not_extracted_and_a_one_word_change_is_a_change(
    tmp_path: Path, site: FakeMeta, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    html = load_html("facebook-privacy-policy")
    crawls = Crawls(tmp_path, site, db_url)
    crawls.count_extractions(monkeypatch)

    first = crawls.crawl(rotate(html))
    assert first["new"] == 1 and crawls.extracted == 1

    again = crawls.crawl(rotate(html))  # new tokens, new class names
    assert again["same"] == 1 and again["changes"] == 0
    assert crawls.extracted == 1  # the fast path: not extracted

    edited = crawls.crawl(rotate(one_word_changed(html, ["#root"])))
    assert edited["new"] == 1 and edited["changes"] == 1 and crawls.extracted == 2

    with open_db(db_url)() as s:
        fetches = list(s.scalars(select(Fetch).order_by(Fetch.id)))
        versions = {v.id: v for v in s.scalars(select(Version))}
        assert len(versions) == 2 and len(fetches) == 3
        assert fetches[0].version_id == fetches[1].version_id != fetches[2].version_id
        assert all(f.region_hash for f in fetches)
        assert fetches[0].region_hash == fetches[1].region_hash != fetches[2].region_hash
        # the text the fast path reused is the text extraction gives for that fetch
        v1 = versions[fetches[0].version_id]
        assert (
            get_text(s, v1.text_blob) == extract(html, site.url("/privacy/policy/"), ["#root"]).text
        )
        change = s.scalars(select(Change).order_by(Change.id)).first()
        assert change is not None and change.words_added >= 1 and change.words_removed >= 1


# --- the fast commit (pipeline/unchanged.py: commit_unchanged) and its fallbacks ---------

DAY = timedelta(days=1)
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


class Fetches:
    """Fetches of the real page stored straight into the database, as the spider stores
    them, and derived in this process."""

    def __init__(self, tmp_path: Path, db_url: str) -> None:
        sources = write_sources(tmp_path / "sources.toml", [{"id": "fb", "url": BASE}])
        self.cfg = RunConfig(db_url, str(sources))
        self.sessions = open_db(db_url)
        with self.sessions.begin() as s:
            sync_documents(s, sources_of(self.cfg).documents)

    def derive(self, html: str, at: datetime) -> dict[str, int]:
        headers = {"content-type": "text/html; charset=utf-8"}
        record = FetchRecord("fb", BASE, BASE, at, at, 200, headers, html.encode(), None)
        with self.sessions.begin() as s:
            record_fetch(s, None, record)
        return derive.derive_versions(self.cfg, None)


def test_an_unchanged_refetch_touches_its_version_and_drops_a_held_one(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    html = load_html("facebook-privacy-policy")
    db = Fetches(tmp_path, db_url)
    assert db.derive(rotate(html), T0)["new"] == 1
    extracted: list[object] = []
    real_read = derive.read_page
    monkeypatch.setattr(derive, "read_page", lambda *a: extracted.append(a) or real_read(*a))

    assert db.derive(rotate(html), T0 + DAY)["same"] == 1  # the fast commit
    with db.sessions() as s:
        (v1,) = s.scalars(select(Version)).all()
        assert v1.state == "accepted" and v1.last_seen == T0 + DAY
        fetches = s.scalars(select(Fetch).order_by(Fetch.id)).all()
        assert [f.processed for f in fetches] == [True, True]
        assert fetches[1].version_id == v1.id and fetches[1].region_hash == v1.region_hash
    # A version held meanwhile (a page that lost most of its words): seeing the current
    # text again drops it, as the usual path does.
    with db.sessions.begin() as s:
        text = "A short page.\n"
        held = add_or_touch_version(
            s,
            "fb",
            text,
            sha256(text.encode()).hexdigest(),
            3,
            T0 + DAY,
            None,
            "2",
            None,
            "held",
            "test",
        )
        held_id = held.id
    counts = db.derive(rotate(html), T0 + 2 * DAY)
    assert counts["same"] == 1 and counts["changes"] == 0 and extracted == []
    with db.sessions() as s:
        assert s.get(Version, held_id).state == "dropped"  # type: ignore[union-attr]
        assert s.get(Version, v1.id).last_seen == T0 + 2 * DAY  # type: ignore[union-attr]
        assert s.scalar(select(func.count()).select_from(Change)) == 0


def test_an_unchanged_refetch_after_the_document_moved_is_applied_with_its_text(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another run moves the document to a new version between this fetch's read and its
    locked transaction: the fetch still shows the old text, a change back to it."""
    html = load_html("facebook-privacy-policy")
    db = Fetches(tmp_path, db_url)
    assert db.derive(rotate(html), T0)["new"] == 1
    assert db.derive(rotate(one_word_changed(html, ["#root"])), T0 + DAY)["new"] == 1
    with db.sessions() as s:
        doc = s.get(Document, "fb")
        first, second = s.scalars(select(Version).order_by(Version.id)).all()
        assert doc is not None and doc.current_version_id == second.id
    # back to the first text: found by its fingerprint... after the second one is current
    # again, as another run would have made it between this run's read and its lock.
    with db.sessions.begin() as s:
        s.get(Document, "fb").current_version_id = first.id  # type: ignore[union-attr]
    real_commit = derive._commit

    def moved_first(sessions: object, document_id: str, *args: object) -> object:
        with db.sessions.begin() as s:
            s.get(Document, document_id).current_version_id = second.id  # type: ignore[union-attr]
        return real_commit(sessions, document_id, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(derive, "_commit", moved_first)
    counts = db.derive(rotate(html), T0 + 2 * DAY)
    assert counts["new"] == 1 and counts["changes"] == 1
    with db.sessions() as s:
        doc = s.get(Document, "fb")
        assert doc is not None and doc.current_version_id == first.id
        change = s.scalars(select(Change).order_by(Change.id.desc())).first()
        assert change is not None
        assert (change.from_version_id, change.to_version_id) == (second.id, first.id)
        assert s.scalar(select(func.count()).select_from(Version)) == 2  # no duplicate
