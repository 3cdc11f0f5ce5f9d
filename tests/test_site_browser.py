"""The published site in a real browser: headless Chromium driven by Playwright.

The site is served from 127.0.0.1; every request the browser makes is recorded, and any
that would leave the site's own origin is blocked and fails the test. Chromium is Debian's
(``POLICYWATCH_CHROMIUM``, default /usr/bin/chromium; ``make test`` installs it through
scripts/install-chromium.sh). Playwright never downloads a browser here.
"""

from __future__ import annotations

import functools
import html
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from demo.server import FakeMeta
from feeds import atomic
from feeds.publish import publish
from spiders.browser import CHROMIUM_ARGS as BROWSER_ARGS
from storage.db import open_db
from storage.models import Change, Document
from tests.conftest import write_sources
from tests.factories import (
    T1,
    T2,
    T3,
    add_change,
    add_check,
    add_document,
    add_fetch,
    add_health_change,
    add_link,
    add_sighting,
    add_version,
)
from tests.site_helpers import NEW, NEWER, OLD

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
# The project's own launch arguments (spiders.browser), plus --headless for the tests.
CHROMIUM_ARGS = ["--headless", *BROWSER_ARGS]


def chromium_path() -> str:
    """Debian's Chromium, or the one ``POLICYWATCH_CHROMIUM`` names."""
    return os.environ.get("POLICYWATCH_CHROMIUM") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    path = chromium_path()
    if not os.access(path, os.X_OK):
        message = (
            f"no Chromium at {path}: run `bash scripts/install-chromium.sh` (make test does), "
            "or set POLICYWATCH_CHROMIUM to a Chromium binary"
        )
        if os.environ.get("POLICYWATCH_SKIP_BROWSER") == "1":
            pytest.skip(message)
        pytest.fail(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (any free port); yields its base URL."""
    handler = functools.partial(_Quiet, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Watch:
    """What one browser context did: requests, blocked ones, console errors, page errors."""

    origin: str
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def check(self) -> None:
        assert self.blocked == [], f"requests tried to leave the site: {self.blocked}"
        assert all(u.startswith(self.origin) for u in self.requests), self.requests
        assert self.errors == [], self.errors


@contextmanager
def context(browser: Any, base: str, **options: Any) -> Iterator[tuple[Any, Watch]]:
    """A fresh browser context that records everything and blocks other origins."""
    ctx = browser.new_context(**options)
    watch = Watch(base)

    def route(r: Any) -> None:
        url = r.request.url
        if url.startswith(base):
            r.continue_()
        else:
            watch.blocked.append(url)
            r.abort()

    ctx.route("**/*", route)
    ctx.on("request", lambda req: watch.requests.append(req.url))

    def on_page(page: Any) -> None:
        page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: watch.errors.append(f"page error: {e}"))

    ctx.on("page", on_page)
    try:
        yield ctx, watch
    finally:
        ctx.close()


# --- a journalist's path -------------------------------------------------------------------


@pytest.fixture
def built(tmp_path: Path, db_url: str) -> Path:
    """A published site: two text changes, a link-health change, links and a failed fetch."""
    maker = open_db(db_url)
    with maker() as session:
        add_document(session, "fb-privacy", "Facebook Privacy Policy", "https://www.facebook.com/p")
        add_document(session, "ig-privacy", "Instagram Privacy Policy", "https://instagram.com/p")
        session.get(Document, "fb-privacy").locale = "en_US"  # type: ignore[union-attr]
        v1 = add_version(session, "fb-privacy", OLD, T1, "May 1, 2024")
        v2 = add_version(session, "fb-privacy", NEW, T2, "June 26, 2024")
        v3 = add_version(session, "fb-privacy", NEWER, T3, "June 26, 2024")
        basis = {
            "bases": [{"purpose": "AI", "basis": "legitimate interests", "action": "added"}],
            "date": {"from": "May 1, 2024", "to": "June 26, 2024"},
        }
        add_change(session, v1, v2, OLD, NEW, T2, "Legal basis changed", ["legal-basis"], basis)
        add_change(session, v2, v3, NEW, NEWER, T3, "Effective date stated", ["dates"])
        i1 = add_version(session, "ig-privacy", "Instagram one.", T1)
        i2 = add_version(session, "ig-privacy", "Instagram two.", T2)
        add_change(session, i1, i2, "Instagram one.", "Instagram two.", T1, "IG text", ["text"])
        form = "https://www.facebook.com/help/contact/1"
        link = add_link(session, form, "objection", "login-required", T3)
        add_sighting(session, link, "fb-privacy", "Object", "You can object.")
        add_check(session, link, T3, "login-required", "Log in")
        add_health_change(
            session,
            "link-health",
            "fb-privacy",
            T3 + timedelta(hours=2),
            "Objection form asks to log in",
            ["opt-out-links"],
            {"outcome": "login-required"},
            link=link,
        )
        add_fetch(
            session,
            "fb-privacy",
            T3 + timedelta(hours=3),
            "http-5xx",
            503,
            url="https://www.facebook.com/p",
        )
        session.commit()
        publish(session, tmp_path / "public", "http://127.0.0.1:8000/")
    return tmp_path / "public"


def test_journalist_filters_opens_a_change_switches_the_view_and_reads_the_history(
    browser: Any, built: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with (
        serve(built) as base,
        context(browser, base, viewport={"width": 1100, "height": 900}) as (
            ctx,
            watch,
        ),
    ):
        page = ctx.new_page()
        page.goto(base + "index.html")
        assert page.locator("h1").inner_text() == "Latest changes"
        assert page.locator("#change-list > li").count() == 4
        page.screenshot(path=str(ARTIFACTS / "index.png"), full_page=True)

        unlabelled = page.evaluate(
            "[...document.querySelectorAll('select,input')]"
            ".filter(e => !document.querySelector(`label[for='${e.id}']`)).length"
        )
        assert unlabelled == 0
        page.select_option("#filter-category", "legal-basis")  # over index.json
        expect(page.locator("#change-list > li")).to_have_count(1)
        assert page.locator("#filter-status").inner_text().startswith("1 change in category")
        assert "category=legal-basis" in page.url
        page.select_option("#filter-document", "ig-privacy")
        expect(page.locator("#change-list > li")).to_have_count(0)
        page.select_option("#filter-category", "")
        expect(page.locator("#change-list > li")).to_have_count(1)
        assert page.locator("#change-list h2").inner_text() == "IG text"
        page.select_option("#filter-document", "fb-privacy")
        expect(page.locator("#change-list > li")).to_have_count(3)
        page.fill("#filter-q", "effective STATED")  # search: every word, any case
        expect(page.locator("#change-list > li")).to_have_count(1)
        assert "matching" in page.locator("#filter-status").inner_text()
        assert "q=effective" in page.url
        page.fill("#filter-q", "")
        expect(page.locator("#change-list > li")).to_have_count(3)

        page.click("text=Legal basis changed")
        page.wait_for_url("**/changes/*.html")
        assert page.locator("h1").inner_text() == "Legal basis changed"
        assert page.locator("h2").first.inner_text() == "Summary"
        assert page.locator(".passage .rendered ins").first.inner_text() == "legitimate interests"
        assert page.locator(".passage .rendered").first.get_attribute("lang") == "en-US"
        inline, side = page.locator(".view-inline"), page.locator(".view-side")
        assert not inline.is_visible()  # the Markdown source is behind a toggle
        page.click("details.raw-diff > summary")
        assert inline.is_visible() and not side.is_visible()
        assert page.locator(".view-inline .diff").first.get_attribute("lang") == "en-US"
        assert page.locator(".view-inline ins").first.inner_text() == "legitimate interests"
        page.click("label[for=view-side]")
        assert side.is_visible() and not inline.is_visible()
        assert page.locator("table.sbs del").first.inner_text() == "consent"
        page.screenshot(path=str(ARTIFACTS / "change.png"), full_page=True)

        page.reload()  # the choice is remembered (site.js, localStorage)
        page.click("details.raw-diff > summary")
        assert page.locator(".view-side").is_visible()
        page.click("label[for=view-inline]")
        assert page.locator(".view-inline").is_visible()

        page.click("a[rel=next]")
        page.wait_for_url("**/changes/*.html")
        assert page.locator("h1").inner_text() == "Effective date stated"
        page.click("nav.crumbs >> text=Facebook Privacy Policy")
        page.wait_for_url("**/documents/fb-privacy.html")
        assert page.locator("#timeline").inner_text() == "History"
        assert page.locator("li.event-failure").count() == 1
        assert page.locator("li.event-change").count() == 3
        assert page.locator(".text").get_attribute("lang") == "en-US"

        page.goto(base + "links.html")
        assert "login-required" in page.locator(".health").first.inner_text()
        page.set_viewport_size({"width": 390, "height": 800})  # a phone
        page.goto(base + "index.html")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, "the index scrolls sideways on a phone"
        page.screenshot(path=str(ARTIFACTS / "index-phone.png"), full_page=True)
    watch.check()
    assert any(u.endswith("index.json") for u in watch.requests)


def test_pages_read_without_javascript(browser: Any, built: Path) -> None:
    with serve(built) as base, context(browser, base, java_script_enabled=False) as (ctx, watch):
        page = ctx.new_page()
        page.goto(base + "index.html")
        assert page.locator("#change-list > li").count() == 4
        assert not page.locator("#filters").is_visible()  # needs the script: hidden without it
        page.click("nav.browse >> text=dates")
        page.wait_for_url("**/categories/dates.html")
        assert page.locator("li.change").count() == 1
        page.click("text=Effective date stated")
        page.wait_for_url("**/changes/*.html")
        assert page.locator(".passage .rendered").first.is_visible()
        page.click("details.raw-diff > summary")  # <details>: no script needed
        assert page.locator(".view-inline").is_visible()
        page.click("label[for=view-side]")  # the toggle is CSS: it works without script
        assert page.locator(".view-side").is_visible()
    watch.check()


# --- hostile pages through the whole pipeline ---------------------------------------------

FILLER = " ".join(f"word{i}" for i in range(120))


def hostile_page(beacon: str) -> str:
    """A policy page full of things that must never run, load or leak."""
    return f"""<html><head><title>x</title><base href="{beacon}/base/">
<meta http-equiv="refresh" content="0;url={beacon}/refresh">
<link rel="stylesheet" href="{beacon}/css"></head><body>
<div id='root'><h1>Privacy Policy</h1>
<p>We process information for AI. {FILLER}</p>
<script>window.__pwned = 'script'; document.title = 'pwned'; fetch('{beacon}/script')</script>
<p>An image <img src="{beacon}/img" onerror="window.__pwned='img'"> here.</p>
<p><a href="javascript:window.__pwned='js-link'">Object with javascript</a></p>
<p><a href="JaVaScRiPt:window.__pwned=1">Mixed case</a> and
<a href="data:text/html,&lt;script&gt;window.__pwned=1&lt;/script&gt;">a data link</a>.</p>
<svg onload="window.__pwned='svg'"><script>window.__pwned='svg-script'</script></svg>
<p>Literal &lt;script&gt;window.__pwned='escaped'&lt;/script&gt; and
&lt;img src=x onerror="window.__pwned='escaped-img'"&gt; as text.</p>
<p>Markdown [click](javascript:window.__pwned=1) and
<b onmouseover="window.__pwned='b'">bold</b>.</p>
<iframe src="{beacon}/iframe"></iframe><object data="{beacon}/object"></object>
<p style="background:url({beacon}/style)">Styled.</p>
<p><a href="{beacon}/link">A plain http link</a> to the objection form.</p>
<div <p>broken <<markup</div></p><p>"><script>window.__pwned='attr'</script>
'><img src=x onerror=window.__pwned=1></p>
<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned='mxss'>
</div></body></html>"""


def benign_page() -> str:
    return (
        "<html><body><div id='root'><h1>Privacy Policy</h1>"
        f"<p>We process information for AI. {FILLER}</p></div></body></html>"
    )


def hostile_rows(session: Session, beacon: str) -> None:
    """What the classifier and link checker may one day store, made hostile."""
    change = session.scalars(select(Change)).one()
    evil = "<img src=x onerror=window.__pwned='category'>"
    change.categories = ["text", evil, "</script><script>window.__pwned=1</script>"]
    change.summary = {
        **(change.summary or {}),
        "bases": [
            {"purpose": "<script>window.__pwned=1</script>", "basis": evil, "action": "added"}
        ],
        "links": {
            "added": [{"url": "javascript:window.__pwned='summary'", "text": "<b>x</b>"}],
            "removed": [{"url": f"{beacon}/summary", "text": "watched"}],
            "retargeted": [{"text": "t", "from": "data:text/html,x", "to": "vbscript:x"}],
        },
        "ai": "<svg onload=window.__pwned=1>",
        "other": {"html": "<iframe src=javascript:window.__pwned=1>"},
    }
    link = add_link(
        session, "javascript:window.__pwned='link'", "<b>opt-out</b>", "<script>x</script>", T3
    )
    watched = add_link(session, f"{beacon}/objection", "objection", "form", T2)
    for lk in (link, watched):
        add_sighting(
            session, lk, "evil", "<img src=x onerror=1>", "<script>window.__pwned=1</script>"
        )
        add_check(
            session,
            lk,
            T3,
            "error",
            "<svg onload=window.__pwned=1>",
            final_url="javascript:window.__pwned=1",
        )
    add_health_change(
        session,
        "link-health",
        "evil",
        T3,
        "<script>window.__pwned='title'</script>",
        [evil],
        {"<b>key</b>": "<img src=x onerror=window.__pwned=1>"},
        link=link,
    )


@pytest.mark.usefixtures("prefect")
def test_hostile_pages_through_the_pipeline_never_run_load_or_leak(
    browser: Any, site: FakeMeta, tmp_path: Path, db_url: str
) -> None:
    from flows.monitor import monitor

    beacon = site.url("/beacon")
    site.page("/policy", benign_page())
    sources = write_sources(
        tmp_path / "sources.toml",
        [{"id": "evil", "url": site.url("/policy"), "title": "<svg onload=alert(1)> Policy"}],
    )
    db = db_url
    out = tmp_path / "public"

    def crawl() -> dict[str, Any]:
        return monitor(db=db, sources=str(sources), out=str(out), base_url="https://pw.example/")

    crawl()
    site.page("/policy", hostile_page(beacon))
    assert crawl()["changes"] == 1
    # The link check visits, by design, the objection link the page names (its host is in
    # sources.toml): once, as policywatch. Nothing else of the page is ever fetched.
    assert {p: n for p, n in site.hits.items() if p.startswith("/beacon")} == {"/beacon/link": 1}
    assert site.headers["/beacon/link"]["User-Agent"].startswith("policywatch/")
    checked = dict(site.hits)
    with open_db(db)() as session:
        hostile_rows(session, beacon)
        session.commit()
        publish(session, out, "https://pw.example/")

    ARTIFACTS.mkdir(exist_ok=True)
    pages = [rel for rel in atomic.site_files(out) if rel.endswith(".html")]
    assert len(pages) >= 8 and "links.html" in pages
    with serve(out) as base, context(browser, base) as (ctx, watch):
        page = ctx.new_page()
        for rel in pages:
            page.goto(base + rel)
            page.wait_for_load_state("load")
            if page.locator("details.raw-diff").count():
                page.click("details.raw-diff > summary")
            if page.locator("details.link-only").count():
                page.click("details.link-only > summary")
            if page.locator("label[for=view-side]").count():
                page.click("label[for=view-side]")
            if rel == "index.html":
                for option in page.locator("#filter-category option").all():
                    page.select_option("#filter-category", option.get_attribute("value") or "")
                    page.wait_for_timeout(50)
            page.hover("body")
            assert page.evaluate("window.__pwned") is None, rel
            assert page.title() == written_title(out, rel), rel  # no script changed it
            assert page.evaluate("document.querySelectorAll('iframe,object,embed,img').length") == 0
        change = next(
            p for p in pages if p.startswith("changes/") and "What changed" in open_text(out, p)
        )
        page.goto(base + change)
        body = page.inner_text("body")
        assert "pwned='escaped'" in body and "<script>window" in body  # shown, as text
        assert "javascript:window.__pwned='summary'" in body
        page.screenshot(path=str(ARTIFACTS / "hostile-change.png"), full_page=True)
    watch.check()
    leaks = [p for p, n in site.hits.items() if p.startswith("/beacon") and n != checked.get(p)]
    assert not leaks, site.hits


def open_text(out: Path, rel: str) -> str:
    return (out / rel).read_text(encoding="utf-8")


def written_title(out: Path, rel: str) -> str:
    """The page's <title> as published (hostile text in it is escaped, shown as text)."""
    raw = open_text(out, rel)
    return html.unescape(raw[raw.index("<title>") + 7 : raw.index("</title>")])


# --- accessibility: axe-core on every page type, phones, screenshots -------------------------
# axe-core is the npm package, pinned; `make test` installs it (scripts/install-axe.sh).

AXE_VERSION = "4.14.1"
RUN_AXE = """async () => {
  for (const d of document.querySelectorAll("details")) d.open = true;  /* check hidden parts too */
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
  }));
}"""


def axe_script() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    default = cache / "policywatch" / f"axe-core-{AXE_VERSION}"
    path = Path(os.environ.get("POLICYWATCH_AXE_DIR") or default)
    script = path / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file():
        pytest.fail(f"no axe-core at {script}: run `bash scripts/install-axe.sh` (make test does)")
    return script


def page_types(out: Path) -> dict[str, str]:
    """One page of each type, by type."""
    changes = sorted(str(p.relative_to(out)) for p in (out / "changes").glob("*.html"))
    text = {p: (out / p).read_text(encoding="utf-8") for p in changes}
    return {
        "index": "index.html",
        "category": str(next((out / "categories").glob("*.html")).relative_to(out)),
        "change (legal basis)": next(p for p in changes if 'id="why"' in text[p]),
        "change (link health)": next(p for p in changes if "What changed" not in text[p]),
        "document": str(next((out / "documents").glob("*.html")).relative_to(out)),
        "version": str(next((out / "versions").glob("*.html")).relative_to(out)),
        "links": "links.html",
    }


def test_every_page_type_has_no_serious_axe_violation(browser: Any, built: Path) -> None:
    script = axe_script()
    pages = page_types(built)
    found: dict[str, list[dict[str, Any]]] = {}
    with serve(built) as base, context(browser, base, bypass_csp=True) as (ctx, watch):
        page = ctx.new_page()
        for kind, rel in pages.items():
            page.goto(base + rel)
            page.add_script_tag(path=str(script))
            violations = page.evaluate(RUN_AXE)
            bad = [v for v in violations if v["impact"] in ("serious", "critical")]
            if bad:
                found[f"{kind} ({rel})"] = bad
        assert found == {}, found
    watch.check()


def test_every_page_type_reads_at_390_px_and_screenshots(browser: Any, built: Path) -> None:
    pages = page_types(built)
    ARTIFACTS.mkdir(exist_ok=True)
    with serve(built) as base, context(browser, base) as (ctx, watch):
        page = ctx.new_page()
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(base + "index.html")
        page.screenshot(path=str(ARTIFACTS / "index.png"), full_page=True)
        for name, kind in (
            ("change-legal-basis", "change (legal basis)"),
            ("change-link-health", "change (link health)"),
        ):
            page.goto(base + pages[kind])
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        for kind, rel in pages.items():
            page.goto(base + rel)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{kind} ({rel}) scrolls sideways on a phone: {width} px"
        page.goto(base + pages["change (legal basis)"])
        page.screenshot(path=str(ARTIFACTS / "change-legal-basis-phone.png"), full_page=True)
    watch.check()
    for name in ("index", "change-legal-basis", "change-link-health"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000
