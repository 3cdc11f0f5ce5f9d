"""`policywatch serve` registers a cron-scheduled deployment on a real Prefect server."""

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

from flows.cli import app
from tests.conftest import write_sources

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


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
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


def test_serve_registers_a_scheduled_deployment(
    prefect_server: tuple[str, dict[str, str]], tmp_path: Path, db_url: str
) -> None:
    api, env = prefect_server
    sources = write_sources(tmp_path / "sources.toml", [{"id": "p", "url": "http://127.0.0.1:9/"}])
    serve = subprocess.Popen(
        [
            str(BIN / "policywatch"),
            "serve",
            "--cron",
            "15 */6 * * *",
            "--sources",
            str(sources),
            "--db",
            db_url,
        ],
        env=env,
        cwd=tmp_path,
        stdout=(tmp_path / "serve.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    output = lambda: (tmp_path / "serve.log").read_text()  # noqa: E731
    try:
        (deployment,) = wait_for(lambda: deployments(api), 180, "the deployment")
        wait_for(lambda: "is scheduled on" in output(), 120, "the runner to start")
        assert deployment["name"] == "policywatch"
        (schedule,) = deployment["schedules"]
        assert schedule["schedule"]["cron"] == "15 */6 * * *" and schedule["active"]
        params = deployment["parameters"]
        assert params["trigger"] == "scheduled" and params["sources"] == str(sources)
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            serve.wait(120)
        except subprocess.TimeoutExpired:
            serve.kill()
            raise AssertionError(f"serve did not stop on SIGTERM:\n{output()}") from None
    assert "monitor/policywatch" in output()
    (after,) = deployments(api)
    assert after["paused"], output()
    assert "is paused" in output()


def test_serve_without_a_server_says_how_to_start_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "prefect server start" in result.output and "PREFECT_API_URL" in result.output
