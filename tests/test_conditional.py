"""Conditional requests: a server that sends ETag / Last-Modified gets If-None-Match /
If-Modified-Since next time; its 304 is a fetch of the body it validates (not extracted
again, no change), and a changed page is a 200 and a change as usual."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from config.run import RunConfig
from demo.corpus import load_html
from pipeline import derive, spider_process
from storage.db import open_db
from storage.models import Change, Fetch
from tests.conftest import write_sources
from tests.factories import start_run

MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT"


class ConditionalServer:
    """Serves one page at /policy with an ETag and a Last-Modified date, and answers 304
    when the request's validator matches (by ETag if it sent one, else by date)."""

    def __init__(self, html: str, etag: bool = True) -> None:
        self.html, self.version, self.etag = html, 1, etag
        self.requests: list[dict[str, str]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                owner.requests.append({k.lower(): v for k, v in self.headers.items()})
                tag, date = (
                    f'"v{owner.version}"',
                    MODIFIED.replace("2026", str(2025 + owner.version)),
                )
                sent_tag, sent_date = (
                    self.headers.get("If-None-Match"),
                    self.headers.get("If-Modified-Since"),
                )
                fresh = sent_tag == tag if (owner.etag and sent_tag) else sent_date == date
                self.send_response(304 if fresh else 200)
                if owner.etag:
                    self.send_header("ETag", tag)
                self.send_header("Last-Modified", date)
                if fresh:
                    self.end_headers()
                    return
                body = owner.html.encode("utf-8")
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/policy"

    def change(self, html: str) -> None:
        self.html, self.version = html, self.version + 1


@pytest.fixture(params=[True, False], ids=["etag", "last-modified"])
def server(request: pytest.FixtureRequest) -> Iterator[ConditionalServer]:
    served = ConditionalServer(load_html("facebook-privacy-policy"), etag=request.param)
    yield served
    served.server.shutdown()
    served.server.server_close()


def test_a_304_is_the_same_page_and_a_new_page_a_change(
    tmp_path: Path, db_url: str, server: ConditionalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = write_sources(tmp_path / "sources.toml", [{"id": "policy", "url": server.url}])
    cfg = RunConfig(db_url, str(sources))
    extracted: list[int] = []
    real = derive.read_page
    monkeypatch.setattr(derive, "read_page", lambda *a: extracted.append(1) or real(*a))

    def crawl() -> dict[str, int]:
        run_id = start_run(cfg)
        spider_process.crawl(cfg, run_id)
        return derive.derive_versions(cfg, run_id)

    assert crawl()["new"] == 1
    assert (
        "if-none-match" not in server.requests[0] and "if-modified-since" not in server.requests[0]
    )

    again = crawl()
    sent = server.requests[1]
    if server.etag:
        assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == MODIFIED
    assert again["same"] == 1 and again["changes"] == 0 and len(extracted) == 1

    html = server.html
    server.change(html.replace(" information ", " info ", 40))
    changed = crawl()
    assert changed["new"] == 1 and changed["changes"] == 1 and len(extracted) == 2

    with open_db(db_url)() as s:
        fetches = list(s.scalars(select(Fetch).order_by(Fetch.id)))
        assert [f.http_status for f in fetches] == [200, 304, 200]
        assert fetches[1].blob_hash == fetches[0].blob_hash  # no new body stored
        assert fetches[1].headers["content-type"] == "text/html; charset=utf-8"
        assert fetches[1].version_id == fetches[0].version_id != fetches[2].version_id
        assert s.scalars(select(Change)).one().to_version_id == fetches[2].version_id
