"""Many processes on one database at once, as several workers or machines run them: real
processes, on SQLite and (POLICYWATCH_TEST_DB) PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from cli.app import app
from config.run import RunConfig
from demo.server import FakeMeta
from storage.db import make_engine, open_db
from storage.hosts import last_requests
from storage.migrate import head_revisions
from storage.models import Blob, Change, Document
from storage.repo import DocumentSpec, sync_documents
from tests.conftest import fresh_db_url, on_postgres, write_sources
from tests.factories import start_run

ROOT = Path(__file__).resolve().parent.parent

#: Each process waits for the start file, so that all of them begin at the same moment,
#: however long each took to import.
STARTER = """
import json, os, sys, time
start = sys.argv[2]
while not os.path.exists(start):
    time.sleep(0.005)
{body}
"""


def together(tmp_path: Path, body: str, url: str, n: int) -> list[subprocess.CompletedProcess[str]]:
    """Run ``body`` (Python, with ``url = sys.argv[1]``) in ``n`` processes started at once."""
    start = tmp_path / f"start-{time.monotonic_ns()}"
    script = STARTER.format(body=body)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, url, str(start)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    time.sleep(1.0)  # let them import; the race starts when the file appears
    start.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


MIGRATE = """
from storage.db import make_engine
from storage.migrate import upgrade
print(json.dumps(upgrade(make_engine(sys.argv[1]))))
"""


def test_processes_starting_together_on_a_new_database_migrate_it_once(tmp_path: Path) -> None:
    for attempt in range(3):
        folder = tmp_path / f"attempt{attempt}"
        folder.mkdir()
        with fresh_db_url(folder) as url:
            results = together(folder, MIGRATE, url, n=4)
            for r in results:
                assert r.returncode == 0, r.stderr[-2000:]
            migrated = [json.loads(r.stdout) for r in results]
            assert migrated.count(True) == 1, migrated
            engine = make_engine(url)
            with engine.connect() as conn:
                versions = set(
                    conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
                )
            engine.dispose()
            assert versions == head_revisions(engine)


SYNC_AND_STORE = """
from storage.blobs import put_blob
from storage.db import open_db
from storage.repo import DocumentSpec, sync_documents
sessions = open_db(sys.argv[1])
spec = DocumentSpec("new-doc", "Meta", "New", "policy", "https://www.facebook.com/p", None,
                    "en_US", "http", (), ())
for _ in range(20):
    with sessions.begin() as session:
        sync_documents(session, [spec])
        put_blob(session, b"the same body, stored by every process" * 100)
print("ok")
"""


def test_first_runs_of_a_new_document_together_neither_fails(db_url: str, tmp_path: Path) -> None:
    """Document sync is an upsert and blob writes are idempotent: processes racing to add
    the same new document and the same body all succeed, and each is stored once."""
    open_db(db_url)  # schema first: this test is about the rows
    results = together(tmp_path, SYNC_AND_STORE, db_url, n=3)
    for r in results:
        assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]
    with open_db(db_url)() as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 1
        assert session.scalar(select(func.count()).select_from(Blob)) == 1


def test_sync_updates_what_sources_say_and_keeps_the_rest(db_url: str) -> None:
    spec = DocumentSpec(
        "d", "Meta", "Old", "policy", "https://a.test/", None, "en_US", "http", ("#root",), ()
    )
    sessions = open_db(db_url)
    with sessions.begin() as session:
        sync_documents(session, [spec])
        doc = session.get(Document, "d")
        assert doc is not None and doc.title == "Old"
        doc.current_version_id = 7
    renamed = DocumentSpec(
        "d", "Meta", "New", "policy", "https://a.test/", None, "en_US", "browser", (), ()
    )
    with sessions.begin() as session:
        loaded = session.get(Document, "d")  # in the session before the sync: refreshed after
        assert loaded is not None
        sync_documents(session, [renamed])
        assert (loaded.title, loaded.render, loaded.select) == ("New", "browser", [])
        assert loaded.current_version_id == 7


def test_two_crawls_of_one_host_keep_the_delay_between_all_their_requests(
    db_url: str, tmp_path: Path, site: FakeMeta
) -> None:
    """Two crawl processes, three pages each on one host, a 1 s delay: the server sees the
    six requests one at a time, each at least 1 s after the previous one."""
    for path in ("/a", "/b", "/c"):
        site.page(path, f"<html><body><div id='root'>{path} {'word ' * 50}</div></body></html>")
    sources = write_sources(
        tmp_path / "sources.toml", [{"id": p, "url": site.url(f"/{p}")} for p in "abc"]
    )
    sources.write_text(sources.read_text().replace("download_delay = 0.0", "download_delay = 1.0"))
    cfg = RunConfig(db_url=db_url, sources_path=str(sources))
    run_ids = [start_run(cfg), start_run(cfg)]
    crawl = "from spiders.crawl import main\nsys.exit(main(sys.argv[3:]))"
    start = tmp_path / "start"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER.format(body=crawl), db_url, str(start)]
            + ["--db", db_url, "--sources", str(sources), "--run-id", str(run_id)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for run_id in run_ids
    ]
    time.sleep(1.0)
    start.touch()
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        assert out.count('"event": "fetch"') == 3, out
    times = sorted(at for at, _path in site.log)
    assert len(times) == 6
    gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 0.999, gaps
    with open_db(db_url)() as session:
        ((host, last),) = last_requests(session)
    assert host == "127.0.0.1" and last is not None
    assert abs(last.timestamp() - times[-1]) < 1.0
    shown = CliRunner().invoke(app, ["status", "--db", db_url, "--json"])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.output)
    assert {r["host_last_request"] for r in rows} == {last.isoformat(timespec="seconds")}
    shown = CliRunner().invoke(app, ["status", "--db", db_url])
    assert "last request per host" in shown.output and "127.0.0.1" in shown.output


CRAWL = """
import subprocess
sys.exit(subprocess.run([os.path.join(os.path.dirname(sys.executable), "policywatch"), "crawl",
                         "--json", *sys.argv[3:]]).returncode)
"""


@pytest.mark.usefixtures("prefect")
@pytest.mark.skipif(
    on_postgres(), reason="PostgreSQL: test_faults_kill's two crawls at once (kept fast)"
)
def test_two_crawls_started_together_after_each_edit_store_one_change_each_time(
    db_url: str, tmp_path: Path, site: FakeMeta, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `policywatch crawl` processes at once, on a new database, then after each of two
    edits: no crash, and exactly one change per edit (the per-document lock and the
    uniqueness of transitions, storage.locks)."""
    from prefect.settings import PREFECT_API_URL

    # the session's Prefect API (conftest), not an ephemeral server started by each process
    monkeypatch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
    sources = write_sources(tmp_path / "sources.toml", [{"id": "p", "url": site.url("/p")}])
    args = ["--db", db_url, "--sources", str(sources), "--out", str(tmp_path / "public")]
    changes = []
    for edit in range(3):
        words = " ".join(f"clause{edit}-{i}" for i in range(40))
        site.page("/p", f"<html><body><div id='root'><p>We process data.</p><p>{words}</p></div>")
        start = tmp_path / f"start-{edit}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", STARTER.format(body=CRAWL), db_url, str(start), *args],
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        start.touch()  # both wait for it: they begin together, however long they took to start
        try:
            for proc in procs:
                out, err = proc.communicate(timeout=600)  # generous: the machine may be busy
                assert proc.returncode == 0, err[-3000:]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=30)
        with open_db(db_url)() as session:
            changes.append(session.scalar(select(func.count()).select_from(Change)) or 0)
    assert changes == [0, 1, 2]
