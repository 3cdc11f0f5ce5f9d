"""End to end through the real spider, flow, database and feeds, against a local server."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from sqlalchemy import func, select

from demo.server import FakeMeta, Reply
from flows.monitor import monitor
from storage.db import open_db
from storage.models import Change, Fetch, Version
from tests.conftest import write_sources

pytestmark = pytest.mark.usefixtures("prefect")

FILLER = " ".join(f"word{i}" for i in range(200))


def page(*paragraphs: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        "<html><body><nav>Menu <a href='/login/'>Log in</a></nav>"
        f"<div id='root'><h1>Privacy Policy</h1>{body}</div>"
        "<footer>rendered at 12:00:01</footer></body></html>"
    )


V1 = page(
    "We process information for the following legal bases.",
    "Provide and improve Meta Products: performance of a contract.",
    FILLER,
)
V2 = page(
    "We process information for the following legal bases.",
    "Provide and improve Meta Products: performance of a contract.",
    "Develop and improve AI at Meta: legitimate interests.",
    FILLER,
)


class Env:
    def __init__(self, tmp_path: Path, site: FakeMeta, db_url: str) -> None:
        self.tmp = tmp_path
        self.site = site
        self.db = db_url
        self.out = tmp_path / "public"
        self.sources = tmp_path / "sources.toml"

    def docs(self, *docs: dict[str, object], **kw: object) -> None:
        write_sources(self.sources, list(docs), **kw)  # type: ignore[arg-type]

    def crawl(self, *documents: str) -> dict[str, object]:
        return monitor(
            documents=list(documents) or None,
            db=self.db,
            sources=str(self.sources),
            out=str(self.out),
            base_url="https://pw.example/",
        )

    def count(self, model: type, *where: object) -> int:
        with open_db(self.db)() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def fetches(self, document_id: str) -> list[Fetch]:
        with open_db(self.db)() as s:
            return list(s.scalars(select(Fetch).where(Fetch.document_id == document_id)))


@pytest.fixture
def env(tmp_path: Path, site: FakeMeta, db_url: str) -> Env:
    return Env(tmp_path, site, db_url)


def test_edit_is_one_change_in_feeds_and_site_and_a_rerun_adds_nothing(env: Env) -> None:
    env.site.page("/privacy/policy/", V1)
    env.docs({"id": "fb-policy", "url": env.site.url("/privacy/policy/")})

    first = env.crawl()
    assert first["new"] == 1 and first["changes"] == 0
    env.site.page("/privacy/policy/", V2)
    second = env.crawl()  # a second crawl in the same process: the reactor question
    assert second["changes"] == 1
    assert env.count(Change) == 1 and env.count(Version) == 2

    with open_db(env.db)() as s:
        change = s.scalars(select(Change)).one()
        assert change.words_added == 8 and change.words_removed == 0
        change_id = change.id

    atom = feedparser.parse((env.out / "feed.atom").read_bytes())
    rss = feedparser.parse((env.out / "feed.rss").read_bytes())
    for feed in (atom, rss):
        assert not feed.bozo, feed.get("bozo_exception")
        assert len(feed.entries) == 1
        entry = feed.entries[0]
        assert "Fb Policy" in entry.title
        assert entry.link == f"https://pw.example/changes/{change_id}.html"
        assert "Develop and improve AI at Meta" in (entry.get("content") or [entry])[0].get(
            "value", entry.get("summary", "")
        )
    assert atom.entries[0].id.startswith("tag:")

    index = (env.out / "index.html").read_text()
    assert f"changes/{change_id}.html" in index
    change_page = (env.out / "changes" / f"{change_id}.html").read_text()
    assert "<ins" in change_page and "Develop and improve AI at Meta" in change_page
    assert "rendered at" not in change_page  # the footer is outside the select rule

    feed_before = (env.out / "feed.atom").read_bytes()
    third = env.crawl()
    assert third["same"] == 1 and third["changes"] == 0
    assert env.count(Change) == 1 and env.count(Version) == 2
    assert (env.out / "feed.atom").read_bytes() == feed_before


def test_failed_fetches_are_typed_and_never_versions(env: Env) -> None:
    site = env.site
    site.page("/error", V1, status=500)
    site.page("/slow", V1, delay=4.0)
    site.set("/empty", Reply(200, b""))
    site.redirect("/private", "/login/?next=%2Fprivate")
    site.page(
        "/login/?next=%2Fprivate",
        "<html><body><div id='root'><form><input name=email>"
        "<input type=password name=pass></form>Log in to Facebook</div></body></html>",
    )
    site.page("/missing-page-is-404", "", status=404)
    env.docs(
        {"id": "server-error", "url": site.url("/error")},
        {"id": "timeout", "url": site.url("/slow")},
        {"id": "empty", "url": site.url("/empty")},
        {"id": "login", "url": site.url("/private")},
        {"id": "gone", "url": site.url("/not-there")},
        timeout=1.0,
    )
    result = env.crawl()
    assert result["failures"] == 5 and result["new"] == 0
    expected = {
        "server-error": ("http-5xx", 500),
        "timeout": ("timeout", None),
        "empty": ("empty", 200),
        "login": ("login-wall", 200),
        "gone": ("http-4xx", 404),
    }
    for doc_id, (error, status) in expected.items():
        (fetch,) = env.fetches(doc_id)
        assert (fetch.error, fetch.http_status) == (error, status), doc_id
        assert fetch.version_id is None
    assert env.count(Version) == 0


def test_lost_text_is_held_until_a_second_fetch_confirms_it(env: Env) -> None:
    env.site.page("/p", V2)
    env.docs({"id": "policy", "url": env.site.url("/p")})
    env.crawl()
    short = page("We process information for the following legal bases.", FILLER[:200])
    env.site.page("/p", short)

    held = env.crawl()
    assert held["held"] == 1 and held["changes"] == 0
    with open_db(env.db)() as s:
        version = s.scalars(select(Version).where(Version.state == "held")).one()
        assert "words are gone" in (version.hold_reason or "")
    assert env.count(Change) == 0

    confirmed = env.crawl()
    assert confirmed["confirmed"] == 1 and confirmed["changes"] == 1
    assert env.count(Version, Version.state == "held") == 0


def test_held_text_that_does_not_come_back_is_dropped(env: Env) -> None:
    env.site.page("/p", V2)
    env.docs({"id": "policy", "url": env.site.url("/p")})
    env.crawl()
    env.site.page("/p", page("Partial render.", FILLER[:300]))
    assert env.crawl()["held"] == 1
    env.site.page("/p", V2)
    again = env.crawl()
    assert again["same"] == 1 and again["changes"] == 0
    assert env.count(Version, Version.state == "dropped") == 1
    assert env.count(Change) == 0


def test_redirect_to_a_host_not_in_sources_is_refused(env: Env) -> None:
    site = env.site
    elsewhere = site.url("/elsewhere", host="localhost")  # same server, another host name
    site.redirect("/moved", elsewhere)
    site.page("/elsewhere", V1)
    site.redirect("/hop", "/p")
    site.page("/p", V1)
    env.docs(
        {"id": "moved", "url": site.url("/moved")},
        {"id": "hop", "url": site.url("/hop")},
    )
    env.crawl()
    (fetch,) = env.fetches("moved")
    assert fetch.error == "offsite-redirect" and fetch.error_detail == elsewhere
    assert site.hits.get("/elsewhere", 0) == 0
    (ok,) = env.fetches("hop")
    assert ok.error is None and ok.final_url == site.url("/p") and ok.version_id is not None


def test_crawl_of_named_documents_only(env: Env) -> None:
    env.site.page("/a", V1)
    env.site.page("/b", V1)
    env.docs({"id": "a", "url": env.site.url("/a")}, {"id": "b", "url": env.site.url("/b")})
    env.crawl("b")
    assert env.fetches("a") == [] and len(env.fetches("b")) == 1
