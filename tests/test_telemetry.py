"""Prefect's analytics are off in every Prefect process policywatch starts.

A spawned process in a terminal (a pty: Prefect only onboards interactive users) with
none of the opt-out variables set: loading the project's CLI and defining its flow must
neither print Prefect's telemetry notice nor start Prefect's analytics thread, and its
settings (inherited by the ephemeral API server and flow-run subprocesses) say analytics
off. The same process without the project does both, which shows that the check can fail.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prefect._internal.analytics.ci_detection import CI_ENV_VARS

ROOT = Path(__file__).resolve().parent.parent

# Runs in the spawned process. With "project", it loads the CLI the way the `policywatch`
# script does and imports the flow (defining a flow is one of Prefect's tracked milestones).
PROBE = """
import json, sys
if sys.argv[1] == "project":
    from cli.app import app  # what the `policywatch` console script imports first
    import flows.monitor  # defines the flow
else:
    from prefect import flow

    @flow
    def probe() -> None: ...
from prefect._internal.analytics import is_telemetry_enabled
from prefect._internal.analytics.service import AnalyticsService
from prefect.settings import get_current_settings

service = AnalyticsService._instance
print("PROBE" + json.dumps({
    "client": is_telemetry_enabled(),
    "server": get_current_settings().server.analytics_enabled,
    "thread": bool(service is not None and service._started),
}))
"""


def spawn_in_terminal(mode: str, home: Path) -> tuple[dict[str, bool], str]:
    """Run PROBE in a fresh interpreter on a pty, with no opt-out and no CI variable set."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in CI_ENV_VARS and key != "DO_NOT_TRACK" and not key.startswith("PREFECT_")
    }
    env["PREFECT_HOME"] = str(home)
    env["PYTHONPATH"] = str(ROOT)
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", PROBE, mode],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        cwd=home.parent,
    )
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the pty closes when the process and its children are gone
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert process.wait(120) == 0, output.decode(errors="replace")
    text = output.decode(errors="replace")
    line = next(line for line in text.splitlines() if line.startswith("PROBE"))
    return json.loads(line.removeprefix("PROBE")), text


def test_a_spawned_policywatch_process_sends_no_analytics(tmp_path: Path) -> None:
    state, output = spawn_in_terminal("project", tmp_path / "home")
    assert state == {"client": False, "server": False, "thread": False}, output
    assert "anonymous usage data" not in output


def test_without_the_project_prefect_would_track_this_process(tmp_path: Path) -> None:
    state, output = spawn_in_terminal("bare", tmp_path / "home")
    assert state == {"client": True, "server": True, "thread": True}, output
    assert "Prefect collects anonymous usage data" in output


@pytest.mark.usefixtures("prefect")
def test_the_tests_prefect_server_has_analytics_off() -> None:
    from prefect.settings import PREFECT_API_URL

    settings = httpx.get(f"{PREFECT_API_URL.value()}/admin/settings", timeout=30).json()
    assert settings["server"]["analytics_enabled"] is False
