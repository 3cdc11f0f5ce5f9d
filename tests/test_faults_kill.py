"""Real processes: `policywatch crawl` killed (kill -9, SIGTERM), two crawls at once, a crawl
and a replay at once, against the local stand-in server. Afterwards no process is left,
every run is closed, and the database matches a re-derivation of its stored bodies: every
transition exactly once.

The command lines use the session's Prefect API (PREFECT_API_URL), so that each starts in
seconds instead of starting a temporary server of its own.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config.run import RunConfig
from config.sources import load_sources
from demo.server import FakeMeta, Reply
from pipeline import derive, runs, spider_process
from pipeline.audit import audit
from storage.db import open_db
from storage.models import Change, Fetch, Run
from tests.conftest import write_sources

pytestmark = pytest.mark.usefixtures("prefect")

POLICYWATCH = Path(sys.executable).with_name("policywatch")
FILLER = " ".join(f"word{i}" for i in range(150))


def page(*paragraphs: str) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in (*paragraphs, FILLER))
    return f"<html><body><div id='root'><h1>Privacy</h1>{body}</div></body></html>".encode()


V1 = page("Provide Meta Products: performance of a contract.")
V2 = page(
    "Provide Meta Products: performance of a contract.",
    "Develop and improve AI at Meta: legitimate interests.",
)


def wait_for(condition: Callable[[], bool], timeout: float = 90.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.1)


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Bench:
    """A database, a sources file for documents a and b on the local server, and ways to
    crawl them: in-process (steps) or as a real `policywatch crawl` process."""

    def __init__(self, tmp: Path, site: FakeMeta, db_url: str) -> None:
        from prefect.settings import get_current_settings

        self.tmp, self.site = tmp, site
        self.db = db_url
        docs = [{"id": "a", "url": site.url("/a")}, {"id": "b", "url": site.url("/b")}]
        self.sources = write_sources(tmp / "sources.toml", docs, timeout=30.0)
        self.cfg = RunConfig(db_url=self.db, sources_path=str(self.sources))
        self.env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}
        self.logs: list[Path] = []

    def crawl_here(self) -> dict[str, int]:
        with runs.run(self.db, "manual", load_sources(self.sources).documents) as current:
            spider_process.crawl(self.cfg, current.id)
            current.counts = derive.derive_versions(self.cfg, current.id)
        return current.counts

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = self.tmp / f"cli-{len(self.logs)}.log"
        self.logs.append(log)
        cmd = [str(POLICYWATCH), *args, "--db", self.db]
        with log.open("wb") as out:
            return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=self.env)

    def start_crawl(self) -> subprocess.Popen[bytes]:
        out = str(self.tmp / "public")
        return self.start("crawl", "--sources", str(self.sources), "--out", out, "--json")

    def fetches(self, doc: str) -> int:
        with open_db(self.db)() as s:
            return s.scalar(select(func.count()).where(Fetch.document_id == doc)) or 0

    def changes(self, doc: str) -> int:
        with open_db(self.db)() as s:
            where = (Change.document_id == doc, Change.to_version_id.is_not(None))
            return s.scalar(select(func.count()).select_from(Change).where(*where)) or 0

    def runs(self) -> list[str]:
        with open_db(self.db)() as s:
            return list(s.scalars(select(Run.status).order_by(Run.id)))

    def output(self) -> str:
        return "\n".join(log.read_text(errors="replace")[-3000:] for log in self.logs)

    def exactly_once(self) -> None:
        report = audit(self.db, str(self.sources))
        assert report.ok and report.expected == report.stored, (report, self.output())


@pytest.fixture
def bench(tmp_path: Path, site: FakeMeta, db_url: str) -> Bench:
    b = Bench(tmp_path, site, db_url)
    site.set("/a", Reply(200, V1))
    site.set("/b", Reply(200, V1))
    b.crawl_here()  # the first versions
    site.set("/a", Reply(200, V2))
    site.set("/b", Reply(200, V2, delay=3.0))  # the kill lands while b is being fetched
    return b


def _kill_after_a_is_stored(bench: Bench, sig: int) -> tuple[subprocess.Popen[bytes], set[int]]:
    proc = bench.start_crawl()
    wait_for(lambda: bench.fetches("a") == 2 or proc.poll() is not None, what="a's fetch")
    assert proc.poll() is None, bench.output()
    below = descendants(proc.pid)
    assert below, "the crawl runs its spider in a subprocess"
    os.kill(proc.pid, sig)
    return proc, below


def test_kill_9_mid_crawl_leaves_no_process_and_the_next_run_recovers(bench: Bench) -> None:
    proc, below = _kill_after_a_is_stored(bench, signal.SIGKILL)
    proc.wait(timeout=30)
    wait_for(lambda: not any(alive(p) for p in below), 20, "the spider to die with its parent")
    assert bench.changes("a") == 0  # a's fetch is stored, not derived: the dead run's
    bench.site.set("/b", Reply(200, V2))
    counts = bench.crawl_here()
    assert bench.runs()[1] == "crashed" and bench.runs()[-1] == "completed"
    assert counts["changes"] == 2 and bench.changes("a") == 1 and bench.changes("b") == 1
    bench.exactly_once()


def test_sigterm_mid_crawl_stops_cleanly_and_the_next_run_recovers(bench: Bench) -> None:
    proc, below = _kill_after_a_is_stored(bench, signal.SIGTERM)
    assert proc.wait(timeout=60) == 143, bench.output()
    wait_for(lambda: not any(alive(p) for p in below), 20, "the spider and Prefect to stop")
    assert bench.runs()[-1] == "failed"  # closed by the command itself
    bench.site.set("/b", Reply(200, V2))
    bench.crawl_here()
    assert bench.changes("a") == 1 and bench.changes("b") == 1
    bench.exactly_once()


def test_two_crawls_at_once_store_each_transition_once(bench: Bench) -> None:
    both = threading.Barrier(2)  # the two spiders get each page at the same moment
    bench.site.set("/a", Reply(200, V2, barrier=both))
    bench.site.set("/b", Reply(200, V2, barrier=threading.Barrier(2)))
    first, second = bench.start_crawl(), bench.start_crawl()
    assert first.wait(timeout=180) == 0 and second.wait(timeout=180) == 0, bench.output()
    assert bench.fetches("a") == 3 and bench.fetches("b") == 3
    assert bench.changes("a") == 1 and bench.changes("b") == 1
    bench.exactly_once()


def test_a_crawl_and_a_replay_at_once(bench: Bench, tmp_path: Path) -> None:
    """The replay commits in batches under the document lock: the crawl neither waits for the
    whole replay nor loses its change, and the replay stores what it stores alone."""
    folder = tmp_path / "history"
    folder.mkdir()
    for i in range(40):
        text = f"# Terms\n\n{FILLER}\n\nClause {i % 7}: we may change these terms.\n"
        (folder / f"2024-01-{i % 28 + 1:02d}T{i // 28:02d}-00-00.md").write_text(text)
    bench.site.set("/b", Reply(200, V2, delay=1.0))
    replay_args = ["replay", str(folder), "--doc", "terms", "--title", "Terms",
                   "--url", "https://terms.example/", "--no-publish", "--json",
                   "--sources", str(bench.sources)]  # fmt: skip
    crawl, replay = bench.start_crawl(), bench.start(*replay_args)
    assert crawl.wait(timeout=180) == 0 and replay.wait(timeout=180) == 0, bench.output()
    assert bench.changes("a") == 1 and bench.changes("b") == 1
    bench.exactly_once()  # documents with an archive history are left out of the audit
    alone = f"sqlite:///{tmp_path / 'alone.db'}"
    cmd = [str(POLICYWATCH), *replay_args, "--db", alone]
    subprocess.run(cmd, check=True, env=bench.env, capture_output=True, timeout=180)
    with open_db(alone)() as s:
        expected = s.scalar(select(func.count()).select_from(Change)) or 0
    assert expected > 0 and bench.changes("terms") == expected
