"""A real feed reader, Debian's newsboat, subscribed to two installations' feeds at once:
each feed shows all of its own entries (ids unique per installation, so the reader never
merges two entries into one). ``make test`` installs newsboat (scripts/install-feed-tools.sh).
"""

from __future__ import annotations

import functools
import shutil
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import pytest

from feeds.publish import publish
from storage.db import open_db
from tests.conftest import fresh_db_url
from tests.factories import T1, T2, T3, add_change, add_document, add_version


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """``tmp_path/www`` over HTTP on a free local port; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def installation(db_url: str, out: Path, changes: int) -> None:
    """An installation with ``changes`` changes of the same document, published to ``out``,
    on the same host and base URL as any other (what made readers merge them before)."""
    with open_db(db_url)() as session:
        add_document(session, "fb-privacy", "Facebook Privacy Policy")
        texts = [f"Version {i} of the policy text." for i in range(changes + 1)]
        times = [T1, T2, T3, T3.replace(day=2), T3.replace(day=3), T3.replace(day=4)]
        versions = [add_version(session, "fb-privacy", t, times[i]) for i, t in enumerate(texts)]
        for i in range(changes):
            add_change(
                session,
                versions[i],
                versions[i + 1],
                texts[i],
                texts[i + 1],
                times[i + 1],
                f"Facebook Privacy Policy: change {i + 1}",
                ["text"],
            )
        session.commit()
        publish(session, out, "http://localhost:8000/")


def test_newsboat_shows_every_entry_of_two_installations(
    tmp_path: Path, served: str, db_url: str
) -> None:
    newsboat = shutil.which("newsboat")
    if newsboat is None:
        pytest.fail("no newsboat: run `bash scripts/install-feed-tools.sh` (make test does)")
    www = tmp_path / "www"
    installation(db_url, www / "demo", 5)
    (tmp_path / "replay-db").mkdir()
    with fresh_db_url(tmp_path / "replay-db") as replay:
        installation(replay, www / "replay", 3)
    urls = [f"{served}demo/feed.atom", f"{served}replay/feed.rss"]
    (tmp_path / "urls").write_text("\n".join(urls) + "\n")
    (tmp_path / "config").write_text("")
    cache = tmp_path / "cache.db"
    result = subprocess.run(
        [newsboat, "-x", "reload", "-u", tmp_path / "urls", "-c", cache, "-C", tmp_path / "config"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    with sqlite3.connect(cache) as db:
        rows = db.execute("SELECT feedurl, guid, title FROM rss_item").fetchall()
    shown = {url: sorted(title for feed, _, title in rows if feed == url) for url in urls}
    assert shown[urls[0]] == [f"Facebook Privacy Policy: change {i}" for i in range(1, 6)]
    assert shown[urls[1]] == [f"Facebook Privacy Policy: change {i}" for i in range(1, 4)]
    guids = [guid for _, guid, _ in rows]
    assert len(set(guids)) == 8  # both installations' change 1..3 kept apart
    for url in urls:  # the reader's ids are the feeds' own
        path = www / url.removeprefix(served)
        ids = {e.id for e in feedparser.parse(path.read_bytes()).entries}
        assert ids == {guid for feed, guid, _ in rows if feed == url}
