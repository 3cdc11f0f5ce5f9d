"""A crawl with Prefect gets a head start (flows/head_start.py): the run is opened and the
spider fetches before Prefect is imported and the flow starts; the flow adopts both.

Real processes and a real Prefect API (the session's), pages from the local stand-in server.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from demo.server import FakeMeta, Reply
from flows.crawl_now import run_monitor
from storage.db import open_db
from storage.models import Fetch, Run
from tests.conftest import write_sources
from tests.test_faults_kill import V1, V2, alive, descendants, wait_for

POLICYWATCH = Path(sys.executable).with_name("policywatch")


def fetches(db_url: str) -> dict[str, int]:
    with open_db(db_url)() as s:
        rows = s.execute(select(Fetch.document_id, func.count()).group_by(Fetch.document_id))
        return {doc: count for doc, count in rows}


def run_statuses(db_url: str) -> list[str]:
    with open_db(db_url)() as s:
        return list(s.scalars(select(Run.status).order_by(Run.id)))


@pytest.fixture
def silent_api() -> Iterator[str]:
    """A Prefect API URL whose server accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/api"
    stop.set()
    listener.close()
    for conn in held:
        conn.close()


@pytest.mark.usefixtures("prefect")
def test_the_flow_adopts_the_run_and_the_crawl_begun_before_it(
    tmp_path: Path, site: FakeMeta, db_url: str
) -> None:
    site.set("/a", Reply(200, V1))
    site.set("/b", Reply(200, V1))
    docs = [{"id": "a", "url": site.url("/a")}, {"id": "b", "url": site.url("/b")}]
    sources = write_sources(tmp_path / "sources.toml", docs, timeout=30.0)
    out = str(tmp_path / "public")
    first = run_monitor([], db_url, sources, out, "http://x/", "manual", show_progress=False)
    site.set("/a", Reply(200, V2))
    second = run_monitor([], db_url, sources, out, "http://x/", "manual", show_progress=False)
    # one run per crawl, each page fetched once per run (not by the head start and the flow)
    assert run_statuses(db_url) == ["completed", "completed"]
    assert fetches(db_url) == {"a": 2, "b": 2}
    assert (first["fetched"], first["new"]) == (2, 2)
    assert (second["run_id"], second["fetched"], second["changes"]) == (2, 2, 1)


def test_the_spider_fetches_while_the_prefect_api_keeps_the_flow_waiting(
    tmp_path: Path, site: FakeMeta, db_url: str, silent_api: str
) -> None:
    """The flow cannot start (its API never answers), yet the pages are fetched and stored;
    a SIGTERM then closes the run as failed and leaves no process behind."""
    site.set("/a", Reply(200, V1))
    site.set("/b", Reply(200, V1))
    docs = [{"id": "a", "url": site.url("/a")}, {"id": "b", "url": site.url("/b")}]
    sources = write_sources(tmp_path / "sources.toml", docs, timeout=30.0)
    env = {**os.environ, "PREFECT_API_URL": silent_api, "PREFECT_HOME": str(tmp_path / "ph")}
    cmd = [str(POLICYWATCH), "crawl", "--json", "--db", db_url, "--sources", str(sources)]
    cmd += ["--out", str(tmp_path / "public")]
    log = (tmp_path / "crawl.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: fetches(db_url) == {"a": 1, "b": 1} or proc.poll() is not None)
        assert proc.poll() is None, (tmp_path / "crawl.log").read_text()
        assert run_statuses(db_url) == ["running"]
        below = descendants(proc.pid)
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM, (tmp_path / "crawl.log").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    wait_for(lambda: not any(alive(p) for p in below), 20, "the spider to stop")
    assert run_statuses(db_url) == ["failed"]
