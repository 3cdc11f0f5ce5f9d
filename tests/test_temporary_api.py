"""Real processes: `policywatch crawl` with no Prefect server configured, made to run the
Prefect flow (POLICYWATCH_PREFECT_FLOW=1; without it the steps run without Prefect,
tests/test_direct_run.py), starts Prefect's temporary API server itself
(flows/temporary_api.py) and the spider ahead of time (pipeline/spider_process.py:
prewarm); the run completes through that server, and neither process outlives the
command, whether it ends normally or is killed (kill -9)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from demo.server import FakeMeta, Reply
from tests.conftest import write_sources
from tests.test_faults_kill import V1, alive, descendants, wait_for

POLICYWATCH = Path(sys.executable).with_name("policywatch")


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def crawl(tmp: Path, site: FakeMeta) -> tuple[list[str], dict[str, str]]:
    site.set("/a", Reply(200, V1))
    sources = write_sources(tmp / "sources.toml", [{"id": "a", "url": site.url("/a")}])
    cmd = [str(POLICYWATCH), "crawl", "--json", "--db", f"sqlite:///{tmp / 'pw.db'}"]
    cmd += ["--sources", str(sources), "--out", str(tmp / "public")]
    # no Prefect server configured: nothing PREFECT_* from the test session's harness
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp / "prefect-home")
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "300"
    env["POLICYWATCH_PREFECT_FLOW"] = "1"
    return cmd, env


def helpers_of(pid: int) -> dict[str, int]:
    """The command's temporary API server and spider subprocess, by role."""
    found: dict[str, int] = {}
    for child in descendants(pid):
        line = command_line(child)
        if "uvicorn" in line and "prefect.server.api.server:create_app" in line:
            found["server"] = child
        elif "-m spiders.crawl" in line:
            found["spider"] = child
    return found


def test_a_crawl_without_a_prefect_server_runs_on_its_own_and_leaves_nothing(
    tmp_path: Path, site: FakeMeta
) -> None:
    cmd, env = crawl(tmp_path, site)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen: dict[str, int] = {}

    def both_started() -> bool:
        seen.update(helpers_of(proc.pid))
        return {"server", "spider"} <= seen.keys() or proc.poll() is not None

    wait_for(both_started, timeout=120, what="the temporary server and the spider")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode(errors="replace")[-3000:]
    counts = json.loads(out.decode().strip().splitlines()[-1])
    assert counts["fetched"] == 1 and counts["new"] == 1
    assert {"server", "spider"} <= seen.keys()  # both ran, started by the command
    wait_for(lambda: not any(alive(pid) for pid in seen.values()), timeout=30, what="exit")


def test_a_killed_crawl_takes_its_temporary_server_and_spider_with_it(
    tmp_path: Path, site: FakeMeta
) -> None:
    cmd, env = crawl(tmp_path, site)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen: dict[str, int] = {}

    def both_started() -> bool:
        seen.update(helpers_of(proc.pid))
        return {"server", "spider"} <= seen.keys()

    try:
        wait_for(both_started, timeout=120, what="the temporary server and the spider")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    wait_for(lambda: not any(alive(pid) for pid in seen.values()), timeout=30, what="orphans")
