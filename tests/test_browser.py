"""Browser mode (render = "browser"): a page whose text JavaScript inserts after load.

One crawl (one Chromium) covers it all: plain HTTP sees no text, the browser does, and the
browser fetches nothing from hosts that sources.toml does not name.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from config.run import RunConfig
from demo.server import FakeMeta
from pipeline import spider_process, versions
from storage.blobs import get_text
from storage.db import open_db
from storage.models import Fetch, Version
from tests.conftest import write_sources
from tests.factories import start_run

TEXT = "We use legitimate interests to develop AI at Meta. " + " ".join(
    f"word{i}" for i in range(80)
)


def js_page(site: FakeMeta) -> str:
    offsite = site.url("/tracker.png", host="localhost")
    return f"""<html><head><title>Privacy Policy</title></head><body>
<div id="root" role="main"></div><img src="{offsite}">
<script>setTimeout(function () {{
  document.getElementById("root").innerHTML = "<h1>Privacy Policy</h1><p>{TEXT}</p>";
}}, 300);</script></body></html>"""


def test_javascript_page_is_captured_in_browser_mode_only(
    tmp_path: Path, db_url: str, site: FakeMeta
) -> None:
    site.page("/policy", js_page(site))
    site.redirect("/moved", site.url("/elsewhere", host="localhost"))
    site.page("/elsewhere", js_page(site))
    sources = write_sources(
        tmp_path / "sources.toml",
        [
            {"id": "plain", "url": site.url("/policy")},
            {"id": "rendered", "url": site.url("/policy"), "render": "browser"},
            {"id": "moved", "url": site.url("/moved"), "render": "browser"},
        ],
        timeout=5.0,
    )
    cfg = RunConfig(db_url=db_url, sources_path=str(sources))
    run_id = start_run(cfg)
    assert spider_process.crawl(cfg, run_id) == 3
    counts, _ = versions.derive_versions(cfg, run_id)
    assert counts["new"] == 1 and counts["failures"] == 2

    with open_db(cfg.db_url)() as s:
        fetch = {f.document_id: f for f in s.scalars(select(Fetch))}
        assert fetch["plain"].error == "empty" and fetch["plain"].version_id is None
        assert fetch["rendered"].error is None and fetch["rendered"].http_status == 200
        version = s.get(Version, fetch["rendered"].version_id)
        assert version is not None
        assert "legitimate interests to develop AI at Meta" in get_text(s, version.text_blob)
        assert fetch["moved"].error == "offsite-redirect"
        assert fetch["moved"].error_detail == site.url("/elsewhere", host="localhost")
    assert site.hits.get("/elsewhere", 0) == 0 and site.hits.get("/tracker.png", 0) == 0
    assert site.headers["/policy"]["Accept-Language"].startswith("en-US")
