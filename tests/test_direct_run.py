"""`policywatch crawl` without a configured Prefect server runs the monitor's steps on a plain
thread pool (flows/direct.py, decision 0018): it stores what the Prefect flow stores, imports
no Prefect, leaves no process behind, and two such crawls at once still store one change
per edit (the per-document database lock). Real spider, database, feeds and processes,
against a local server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import feedparser
import pytest
from sqlalchemy import func, select

from demo.server import FakeMeta, Reply
from flows import steps
from flows.direct import monitor_direct
from storage.db import open_db
from storage.models import Change, Fetch, Run, Version
from tests.conftest import fresh_db_url, on_postgres, write_sources
from tests.test_concurrency import CRAWL, STARTER
from tests.test_faults_kill import V1, V2, alive, descendants, page, wait_for
from tests.test_temporary_api import command_line

ROOT = Path(__file__).resolve().parent.parent
POLICYWATCH = Path(sys.executable).with_name("policywatch")
#: What each crawl serves: document -> page (None: HTTP 500), one dict per crawl.
STATES: list[dict[str, bytes | None]] = [
    {"a": V1, "b": V1, "c": page("We share data with partners.")},
    {"a": V2, "b": None, "c": page("We share data with partners.")},
    {"a": V2, "b": V1, "c": page("We share data with partners and advertisers.")},
    {"a": V2, "b": V1, "c": page("We share data with partners and advertisers.")},
]


def no_prefect_env(tmp: Path) -> dict[str, str]:
    """The environment of a machine with no Prefect server configured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(HOME=str(tmp), PREFECT_HOME=str(tmp / "prefect-home"), PYTHONPATH=str(ROOT))
    return env


def stored(db_url: str) -> dict[str, Any]:
    """What the runs stored, without ids of rows or times."""
    with open_db(db_url)() as s:
        versions = sorted(
            (v.document_id, v.text_hash, v.state, v.words) for v in s.scalars(select(Version))
        )
        changes = sorted(
            (c.document_id, c.seq, c.kind, c.title, tuple(c.categories), repr(c.summary), c.alert)
            for c in s.scalars(select(Change))
        )
        fetches = sorted(
            (f.document_id, f.http_status, f.error, f.processed) for f in s.scalars(select(Fetch))
        )
        runs = [(r.trigger, r.status) for r in s.scalars(select(Run).order_by(Run.id))]
    return {"versions": versions, "changes": changes, "fetches": fetches, "runs": runs}


def published(out: Path) -> dict[str, Any]:
    feed = feedparser.parse((out / "feed.atom").read_bytes())
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    return {"entries": [(e.title, e.link) for e in feed.entries], "files": files}


@pytest.mark.usefixtures("prefect")
def test_the_direct_run_stores_and_publishes_what_the_flow_does(
    tmp_path: Path, site: FakeMeta
) -> None:
    from flows.monitor import monitor

    docs = [{"id": d, "url": site.url(f"/{d}")} for d in ("a", "b", "c")]
    sources = write_sources(tmp_path / "sources.toml", docs)
    results: dict[str, list[dict[str, Any]]] = {"flow": [], "direct": []}
    with fresh_db_url(tmp_path / "flow") as flow_db, fresh_db_url(tmp_path / "direct") as db:
        urls = {"flow": flow_db, "direct": db}
        for state in STATES:
            for doc, body in state.items():
                site.set(f"/{doc}", Reply(500, b"down") if body is None else Reply(200, body))
            for way, url in urls.items():
                out = str(tmp_path / way / "public")
                if way == "flow":
                    counts = monitor(db=url, sources=str(sources), out=out, base_url="https://pw/")
                else:
                    cfg = steps.run_config(None, url, str(sources), out, "https://pw/")
                    counts = monitor_direct(cfg)
                results[way].append({k: v for k, v in counts.items() if k != "out_dir"})
        assert results["direct"] == results["flow"]
        assert [r["new"] for r in results["direct"]] == [3, 1, 1, 0]  # it did run
        assert results["direct"][1]["failures"] == 1
        assert stored(db) == stored(flow_db)
        assert len(stored(db)["changes"]) >= 2
    flow_site, direct_site = (published(tmp_path / w / "public") for w in ("flow", "direct"))
    assert direct_site == flow_site and direct_site["entries"]


DIRECT = """
import json, sys
from pathlib import Path
from flows.crawl_now import run_monitor
result = run_monitor([], sys.argv[1], Path(sys.argv[2]), sys.argv[3], "https://pw/", "manual",
                     show_progress=False)
print(json.dumps({"new": result["new"], "prefect": "prefect" in sys.modules,
                  "fastapi": "fastapi" in sys.modules}))
"""


def test_a_crawl_without_a_prefect_server_never_imports_prefect(
    tmp_path: Path, site: FakeMeta
) -> None:
    site.set("/a", Reply(200, V1))
    sources = write_sources(tmp_path / "sources.toml", [{"id": "a", "url": site.url("/a")}])
    args = [f"sqlite:///{tmp_path / 'pw.db'}", str(sources), str(tmp_path / "public")]
    env = no_prefect_env(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", DIRECT, *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "new": 1,
        "prefect": False,
        "fastapi": False,
    }
    forced = subprocess.run(
        [sys.executable, "-c", DIRECT, *args],
        env={**env, "POLICYWATCH_PREFECT_FLOW": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert forced.returncode == 0, forced.stderr[-3000:]
    # the flow's run, its parameters sent without fastapi's encoder (flows/monitor.py)
    assert json.loads(forced.stdout.strip().splitlines()[-1]) == {
        "new": 0,
        "prefect": True,
        "fastapi": False,
    }


def test_a_killed_direct_crawl_takes_its_spider_with_it(tmp_path: Path, site: FakeMeta) -> None:
    site.set("/a", Reply(200, V1, delay=60.0))  # the crawl is still fetching when killed
    sources = write_sources(
        tmp_path / "sources.toml", [{"id": "a", "url": site.url("/a")}], timeout=120.0
    )
    cmd = [str(POLICYWATCH), "crawl", "--db", f"sqlite:///{tmp_path / 'pw.db'}"]
    cmd += ["--sources", str(sources), "--out", str(tmp_path / "public")]
    proc = subprocess.Popen(
        cmd, env=no_prefect_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    spiders: set[int] = set()

    def spider_started() -> bool:
        spiders.update(pid for pid in descendants(proc.pid) if "spiders.crawl" in command_line(pid))
        return bool(spiders) and site.hits.get("/a", 0) > 0

    try:
        wait_for(spider_started, timeout=120, what="the spider to fetch")
        assert not any(
            "uvicorn" in command_line(pid) for pid in descendants(proc.pid)
        )  # no temporary Prefect server
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    wait_for(lambda: not any(alive(pid) for pid in spiders), timeout=30, what="the spider to die")


@pytest.mark.skipif(on_postgres(), reason="PostgreSQL: test_concurrency's flow crawls suffice")
def test_two_direct_crawls_at_once_after_each_edit_store_one_change_each_time(
    db_url: str, tmp_path: Path, site: FakeMeta
) -> None:
    """Two `policywatch crawl` processes at once, no Prefect server: each on its own thread
    pool, only the database's per-document lock between them."""
    sources = write_sources(tmp_path / "sources.toml", [{"id": "p", "url": site.url("/p")}])
    args = ["--db", db_url, "--sources", str(sources), "--out", str(tmp_path / "public")]
    env = no_prefect_env(tmp_path)
    changes = []
    for edit in range(3):
        words = " ".join(f"clause{edit}-{i}" for i in range(40))
        site.page("/p", f"<html><body><div id='root'><p>We process data.</p><p>{words}</p></div>")
        start = tmp_path / f"start-{edit}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", STARTER.format(body=CRAWL), db_url, str(start), *args],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        start.touch()  # both wait for it: they begin together
        try:
            for proc in procs:
                out, err = proc.communicate(timeout=600)
                assert proc.returncode == 0, err[-3000:]
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=30)
        with open_db(db_url)() as session:
            changes.append(session.scalar(select(func.count()).select_from(Change)) or 0)
            assert (
                session.scalar(
                    select(func.count()).select_from(Fetch).where(Fetch.processed.is_(False))
                )
                == 0
            )
            statuses = set(session.scalars(select(Run.status)))
        assert statuses == {"completed"}
    assert changes == [0, 1, 2]


#: A direct crawl noting, at each fetch the spider stores, whether publishing is imported,
#: and when glibc is told to give big blocks back and to keep them.
IMPORTS_AT_FETCH = """
import json, sys
from pathlib import Path
from flows import progress, steps
from flows.crawl_now import run_monitor
seen, order = [], []
emit = progress.emit
def noting(event):
    seen.append("pipeline.publishing" in sys.modules)
    order.append("fetch")
    emit(event)
progress.emit = noting
for name in ("return_big_blocks", "keep_big_blocks"):
    real = getattr(steps, name)
    setattr(steps, name, lambda real=real, name=name: (order.append(name), real()))
result = run_monitor([], sys.argv[1], Path(sys.argv[2]), sys.argv[3], "https://pw/", "manual",
                     show_progress=False)
print(json.dumps({"new": result["new"], "at_fetches": seen,
                  "after": "pipeline.publishing" in sys.modules, "order": order}))
"""


def test_publishing_is_imported_once_the_crawl_has_ended(tmp_path: Path, site: FakeMeta) -> None:
    """The steps after the crawl are imported while it runs, publishing's (feeds, Jinja,
    markdown-it: about 5 MB) only once it has ended: the spider's process, alive until
    then, is the other half of a run's memory peak (decision 0018)."""
    docs = []
    for name in ("a", "b", "c"):
        site.set(f"/{name}", Reply(200, V1))
        docs.append({"id": name, "url": site.url(f"/{name}")})
    sources = write_sources(tmp_path / "sources.toml", docs)
    args = [f"sqlite:///{tmp_path / 'pw.db'}", str(sources), str(tmp_path / "public")]
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS_AT_FETCH, *args],
        env=no_prefect_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "new": 3,
        "at_fetches": [False, False, False],
        "after": True,
        # big blocks go back to the system while the spider's process is alive only
        "order": ["return_big_blocks", "fetch", "fetch", "fetch", "keep_big_blocks"],
    }
