"""`policywatch serve` and `deploy` on a real Prefect server: one deployment that several serve
processes or a worker run, one run at a time, with settings from each process's environment."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from cli.app import app
from config.run import RunConfig
from demo.server import FakeMeta
from tests.conftest import write_sources
from tests.factories import run_steps

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Any, seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            value = check()
        except (httpx.HTTPError, OSError):
            value = None
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


@pytest.fixture(scope="module")
def prefect_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, dict[str, str]]]:
    """One real Prefect server for this module's tests (each uses its own deployment name)."""
    tmp_path = tmp_path_factory.mktemp("prefect")
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # serve processes and workers ask for runs every 2 s, not 10 (the tests wait less)
        "PREFECT_RUNNER_POLL_FREQUENCY": "2",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
    }
    env.pop("PREFECT_API_URL", None)
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_for(lambda: httpx.get(f"{api}/health").status_code == 200, 180, "prefect server")
        yield api, {**env, "PREFECT_API_URL": api}
    finally:
        stop(server)
        log.close()


def stop(process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``seconds``."""
    process.terminate()
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def deployments(api: str) -> list[dict[str, Any]]:
    return list(httpx.post(f"{api}/deployments/filter", json={}).json())


FILLER = " ".join(f"word{i}" for i in range(60))
V1 = f"<html><body><div id='root'><p>We process information.</p><p>{FILLER}</p></div></body></html>"
V2 = V1.replace("We process information.", "We process information to train AI at Meta.")


def start_serve(env: dict[str, str], tmp_path: Path, label: str, *args: str) -> Any:
    log = (tmp_path / f"serve-{label}.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "policywatch"), "serve", "--cron", "15 */6 * * *", *args],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    output = lambda: (tmp_path / f"serve-{label}.log").read_text()  # noqa: E731
    wait_for(lambda: "is scheduled on" in output(), 180, f"serve {label} to start")
    return proc, output


def stop_serve(proc: Any, output: Any) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"serve did not stop on SIGTERM:\n{output()}") from None


def run_all(api: str, deployment_id: str, n: int, seconds: float = 420) -> list[dict[str, Any]]:
    """Start ``n`` runs of the deployment at once; wait until each is final; their states."""

    def create() -> str | None:  # a loaded server may answer 5xx: ask again
        url = f"{api}/deployments/{deployment_id}/create_flow_run"
        reply = httpx.post(url, json={}, timeout=60)
        return reply.json().get("id") if reply.status_code < 300 else None

    runs = [wait_for(create, 180, "a flow run to be created") for _ in range(n)]
    done = ("COMPLETED", "FAILED", "CRASHED")

    def final() -> list[dict[str, Any]] | None:
        try:
            states = [httpx.get(f"{api}/flow_runs/{r}", timeout=60).json()["state"] for r in runs]
        except (KeyError, TypeError, ValueError):  # an error reply of a loaded server
            return None
        return states if all(s["type"] in done for s in states) else None

    return list(wait_for(final, seconds, f"{n} flow runs"))


def text_changes(db_url: str) -> int:
    from sqlalchemy import func, select

    from storage.db import open_db
    from storage.models import Change

    with open_db(db_url)() as session:
        return session.scalar(select(func.count()).where(Change.kind == "text")) or 0


def test_two_serves_share_one_deployment_and_two_runs_after_an_edit_make_one_change(
    prefect_server: tuple[str, dict[str, str]], tmp_path: Path, db_url: str, site: FakeMeta
) -> None:
    api, env = prefect_server
    site.page("/p", V1)
    sources = write_sources(tmp_path / "sources.toml", [{"id": "p", "url": site.url("/p")}])
    run_steps(RunConfig(db_url, str(sources), out_dir=str(tmp_path / "first")))
    site.page("/p", V2)
    common = ["--name", "shared", "--sources", str(sources), "--db", db_url]
    a, out_a = start_serve(env, tmp_path, "a", *common, "--out", str(tmp_path / "out-a"))
    try:
        (deployment,) = [d for d in deployments(api) if d["name"] == "shared"]
        assert deployment["entrypoint"] == "flows.monitor.monitor"
        assert deployment["parameters"] == {"trigger": "scheduled"}  # no paths of this machine
        assert deployment["global_concurrency_limit"]["limit"] == 1  # one run at a time
        assert deployment["concurrency_options"]["collision_strategy"] == "ENQUEUE"
        (schedule,) = deployment["schedules"]
        assert schedule["schedule"]["cron"] == "15 */6 * * *" and schedule["active"]
        b, out_b = start_serve(env, tmp_path, "b", *common, "--out", str(tmp_path / "out-b"))
        try:
            (again,) = [d for d in deployments(api) if d["name"] == "shared"]
            assert again["parameters"] == deployment["parameters"] and not again["paused"]
            states = run_all(api, deployment["id"], 2)
            assert [s["type"] for s in states] == ["COMPLETED", "COMPLETED"], (out_a(), out_b())
            assert text_changes(db_url) == 1
        finally:
            stop_serve(b, out_b)
        (after_b,) = [d for d in deployments(api) if d["name"] == "shared"]
        assert not after_b["paused"] and after_b["schedules"][0]["active"], out_b()
    finally:
        stop_serve(a, out_a)
    assert "the deployment stays scheduled" in out_a()


def test_deploy_registers_the_installed_flow_for_a_pool_and_a_worker_runs_it(
    prefect_server: tuple[str, dict[str, str]], tmp_path: Path, db_url: str, site: FakeMeta
) -> None:
    api, env = prefect_server
    site.page("/p", V1)
    sources = write_sources(tmp_path / "sources.toml", [{"id": "p", "url": site.url("/p")}])
    pool = ["work-pool", "create", "pw-pool", "--type", "process"]
    subprocess.run([str(BIN / "prefect"), *pool], env=env, check=True, capture_output=True)
    deployed = subprocess.run(
        [str(BIN / "policywatch"), "deploy", "--pool", "pw-pool", "--name", "pooled"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert deployed.returncode == 0, deployed.stderr
    (deployment,) = [d for d in deployments(api) if d["name"] == "pooled"]
    assert deployment["entrypoint"] == "flows.monitor.monitor"
    assert deployment["work_pool_name"] == "pw-pool"
    assert not deployment["path"] and not deployment["pull_steps"]  # no working directory
    assert deployment["parameters"] == {"trigger": "scheduled"}
    worker_env = {
        **env,
        "POLICYWATCH_DB": db_url,
        "POLICYWATCH_SOURCES": str(sources),
        "POLICYWATCH_OUT": str(tmp_path / "worker-out"),
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [str(BIN / "prefect"), "worker", "start", "--pool", "pw-pool"],
        env=worker_env,
        cwd="/",
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        (state,) = run_all(api, deployment["id"], 1)
        assert state["type"] == "COMPLETED", (tmp_path / "worker.log").read_text()
        assert (tmp_path / "worker-out" / "index.html").is_file()
        from storage.db import open_db
        from storage.models import Version

        with open_db(db_url)() as session:
            assert session.query(Version).count() == 1
    finally:
        stop(worker)
        log.close()


def test_a_crawl_waits_for_the_prefect_slot_of_a_document_another_run_holds(
    prefect_server: tuple[str, dict[str, str]], tmp_path: Path, db_url: str, site: FakeMeta
) -> None:
    """Deriving a document takes its one-slot Prefect limit: while another holder (this
    test, on the same server) has it, a crawl stores its fetch but does not derive it."""
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from sqlalchemy import select

    from flows import slots
    from storage.db import open_db
    from storage.models import Fetch

    api, env = prefect_server
    site.page("/p", V1)
    sources = write_sources(tmp_path / "sources.toml", [{"id": "p", "url": site.url("/p")}])
    run_steps(RunConfig(db_url, str(sources), out_dir=str(tmp_path / "first")))
    site.page("/p", V2)

    def fetches() -> list[bool]:
        with open_db(db_url)() as session:
            return list(session.scalars(select(Fetch.processed).order_by(Fetch.id)))

    command = [str(BIN / "policywatch"), "crawl", "p", "--db", db_url, "--sources", str(sources)]
    log = (tmp_path / "crawl.log").open("w")
    with temporary_settings({PREFECT_API_URL: api}), slots.one_at_a_time("p") as held:
        assert held
        limit = httpx.get(f"{api}/v2/concurrency_limits/{slots.limit_name('p')}").json()
        assert (limit["limit"], limit["active_slots"]) == (1, 1)
        crawl = subprocess.Popen(
            [*command, "--out", str(tmp_path / "out")],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: fetches() == [True, False], 180, "the crawl to store its fetch")
            time.sleep(4)  # ample time to derive one page, were the slot free
            assert fetches() == [True, False] and crawl.poll() is None
        except BaseException:
            stop(crawl)
            raise
    assert crawl.wait(180) == 0, (tmp_path / "crawl.log").read_text()
    log.close()
    assert fetches() == [True, True]
    assert text_changes(db_url) == 1
    after = httpx.get(f"{api}/v2/concurrency_limits/{slots.limit_name('p')}").json()
    assert after["active_slots"] == 0  # given back


def test_serve_without_a_server_says_how_to_start_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "prefect server start" in result.output and "PREFECT_API_URL" in result.output


def heartbeat_runs(api: str) -> set[str]:
    """The flow runs the server has received a flow-run heartbeat from."""
    events = httpx.post(
        f"{api}/events/filter",
        json={"filter": {"event": {"name": ["prefect.flow-run.heartbeat"]}}, "limit": 50},
    ).json()["events"]
    return {e["resource"]["prefect.resource.id"].removeprefix("prefect.flow-run.") for e in events}


def monitor_runs(api: str) -> set[str]:
    return {run["id"] for run in httpx.post(f"{api}/flow_runs/filter", json={}).json()}


def test_a_crawl_from_the_terminal_sends_flow_run_heartbeats_only_when_asked(
    prefect_server: tuple[str, dict[str, str]], tmp_path: Path, db_url: str, site: FakeMeta
) -> None:
    """On a configured server, `policywatch crawl` runs the flow without Prefect's flow-run
    heartbeats (decision 0018), unless PREFECT_FLOWS_HEARTBEAT_FREQUENCY asks for them."""
    api, env = prefect_server
    site.page("/p", V1)
    sources = write_sources(tmp_path / "sources.toml", [{"id": "p", "url": site.url("/p")}])
    command = [str(BIN / "policywatch"), "crawl", "--db", db_url, "--sources", str(sources)]
    command += ["--out", str(tmp_path / "out")]
    ran: list[str] = []
    for extra in ({}, {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30"}):
        before = monitor_runs(api)
        done = subprocess.run(command, env={**env, **extra}, capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        (new,) = monitor_runs(api) - before
        ran.append(new)
    quiet, beating = ran
    wait_for(lambda: beating in heartbeat_runs(api), 120, "the asked-for heartbeat")
    assert quiet not in heartbeat_runs(api)
