"""Run heartbeats with real processes: a live run longer than the staleness limit is never
closed as crashed by a run starting meanwhile; a run whose process was killed is, as soon
as its process is gone (this host) or its heartbeat is stale (another host)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

import storage.runs
from pipeline import runs
from storage.db import open_db
from storage.models import Run

#: A run in a process of its own, beating every 0.2 s, until its stdin closes.
CHILD = """
import sys
from datetime import timedelta
import storage.runs
storage.runs.HEARTBEAT_EVERY = timedelta(seconds=0.2)
from pipeline import runs
with runs.run(sys.argv[1], "manual") as current:
    print(current.id, flush=True)
    sys.stdin.read()
"""

STALE = timedelta(seconds=4)


def wait_for(condition: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def row(db_url: str, run_id: int) -> Run:
    with open_db(db_url)() as session:
        found = session.get(Run, run_id)
        assert found is not None
        session.expunge(found)
        return found


def age(run: Run) -> timedelta:
    return datetime.now(UTC) - (run.heartbeat_at or run.started_at)


@pytest.fixture
def child(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    monkeypatch.setattr(storage.runs, "STALE_AFTER", STALE)
    runs.finish(db_url, runs.start(db_url, "manual"), "completed", {})  # the schema, first
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.getcwd(),
    )
    assert proc.stdout is not None
    run_id = int(proc.stdout.readline())
    try:
        yield proc, run_id
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def test_a_live_run_longer_than_the_limit_is_never_closed(
    db_url: str, child: tuple[subprocess.Popen[str], int]
) -> None:
    proc, run_id = child
    started = row(db_url, run_id).started_at
    wait_for(lambda: datetime.now(UTC) - started > STALE * 1.5, what="the run to be old")
    beat = row(db_url, run_id).heartbeat_at
    assert beat is not None and beat - started > STALE, "the heartbeat is refreshed"
    # Without the heartbeat, this run would be stale: another run starting would close it.
    assert storage.runs.is_dead(Run(status="running", started_at=started, heartbeat_at=started))
    other = runs.start(db_url, "manual")
    assert row(db_url, run_id).status == "running"
    runs.finish(db_url, other, "completed", {})
    assert proc.stdin is not None
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0
    assert row(db_url, run_id).status == "completed"


def test_a_killed_run_is_closed_by_the_next_one(
    db_url: str, child: tuple[subprocess.Popen[str], int]
) -> None:
    proc, run_id = child
    wait_for(lambda: row(db_url, run_id).heartbeat_at != row(db_url, run_id).started_at,
             what="a heartbeat")  # fmt: skip
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    runs.finish(db_url, runs.start(db_url, "manual"), "completed", {})
    assert row(db_url, run_id).status == "crashed"  # this host: its process is gone


def test_another_hosts_run_is_closed_once_its_heartbeat_is_stale(
    db_url: str, child: tuple[subprocess.Popen[str], int]
) -> None:
    proc, run_id = child
    with open_db(db_url).begin() as session:  # as if it ran on another machine
        session.get(Run, run_id).host = "another-host"  # type: ignore[union-attr]
    wait_for(lambda: age(row(db_url, run_id)) < timedelta(seconds=1), what="a fresh beat")
    runs.finish(db_url, runs.start(db_url, "manual"), "completed", {})
    assert row(db_url, run_id).status == "running"  # alive: it beats
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    wait_for(lambda: age(row(db_url, run_id)) > STALE, what="the heartbeat to go stale")
    runs.finish(db_url, runs.start(db_url, "manual"), "completed", {})
    assert row(db_url, run_id).status == "crashed"
