"""Prefect's temporary API server for a command run without one (``policywatch crawl`` and the
demo when no PREFECT_API_URL is configured), started early and by this module.

Prefect 3.8.8 starts the same server itself (``prefect.server.api.server.SubprocessASGIServer``:
``python -m uvicorn ... prefect.server.api.server:create_app`` on a free local port, with
``PREFECT__SERVER_EPHEMERAL=1`` and the UI off) when a flow first needs its API, and waits
for it. Doing so it imports the whole server into the command's own process (3-4 s of CPU
and about 80 MB that the command never uses), and nothing else starts before the server
answers. :func:`start` launches that same command line with that same environment as soon as
the command knows it needs it, without importing the server here, so that the server starts
while the command goes on importing and preparing the crawl; :func:`ready` then waits for it
and points this process's Prefect settings at it (PREFECT_API_URL). The server keeps
Prefect's behaviour otherwise: the same database (PREFECT_HOME), runs visible later in the
UI. It dies with the command (``pipeline.processes.die_with_parent``; an ``atexit`` handler
stops it on a normal exit), and it counts as this process's own: no other run sees its
concurrency slots (flows/slots.py).
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from pipeline.processes import die_with_parent, stop

#: The exit code uvicorn gives when the port it was given is taken: another port is tried.
PORT_TAKEN = 3


class TemporaryServerError(RuntimeError):
    """The temporary API server did not answer in time (or exited)."""


@dataclass
class _Server:
    process: subprocess.Popen[bytes]
    port: int
    env: dict[str, str]
    answered: bool = False

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"


_server: _Server | None = None
_lock = threading.Lock()


def needed() -> bool:
    """Whether this process has no Prefect API to talk to and Prefect would start a temporary
    one (PREFECT_API_URL unset in its settings, the ephemeral server allowed)."""
    from prefect.settings import get_current_settings

    settings = get_current_settings()
    return not settings.api.url and settings.server.ephemeral.enabled


def api_url() -> str | None:
    """The URL of the temporary server this module started, if any."""
    return _server.api_url if _server is not None else None


def start() -> None:
    """Launch the server (if this process needs one and has none yet) without waiting."""
    global _server
    with _lock:
        if _server is not None or not needed():
            return
        from prefect.settings import get_current_settings

        env = {
            **os.environ,
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
            **get_current_settings().to_environment_variables(exclude_unset=True),
        }
        _server = _launch(env)
        atexit.register(shutdown)


def ready(timeout: float | None = None) -> str | None:
    """Wait until the server :func:`start` launched answers, then point this process's
    Prefect settings at it; its API URL (None when no server was started here)."""
    server = _server
    if server is None:
        return None
    if not server.answered:
        _wait(server, timeout if timeout is not None else _startup_timeout())
        os.environ["PREFECT_API_URL"] = server.api_url
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()  # the settings read PREFECT_API_URL again
        server.answered = True
    return server.api_url


@contextmanager
def flow_settings() -> Iterator[None]:
    """The settings a flow runs with in this process: on the temporary server started here,
    without Prefect's flow-run heartbeats (they let a server that outlives a crashed run
    mark it crashed; this one ends with the command, and the heartbeat thread kept the end
    of every run waiting up to a second); unchanged otherwise."""
    if _server is None or not _server.answered:
        yield
        return
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def shutdown() -> None:
    """Stop the server (at exit, or by hand); this process then has no API configured."""
    global _server
    with _lock:
        server, _server = _server, None
    if server is None:
        return
    stop(server.process)
    if os.environ.get("PREFECT_API_URL") == server.api_url:
        del os.environ["PREFECT_API_URL"]
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()


def _startup_timeout() -> float:
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    return float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _launch(env: dict[str, str]) -> _Server:
    import prefect

    port = _free_port()
    cmd = [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent)]
    cmd += ["--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--log-level", "error", "--lifespan", "on"]
    # from the main thread, so that die_with_parent ties it to the process, not to a thread
    process = subprocess.Popen(cmd, env=env, preexec_fn=die_with_parent)
    return _Server(process, port, env)


def _wait(server: _Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client() as client:
        while time.monotonic() < deadline:
            code = server.process.poll()
            if code == PORT_TAKEN:  # taken meanwhile by another process: another port
                fresh = _launch(server.env)
                server.process, server.port = fresh.process, fresh.port
                continue
            if code is not None:
                raise TemporaryServerError(
                    f"Prefect's temporary API server exited with code {code} while starting"
                )
            try:
                if client.get(f"{server.api_url}/health", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise TemporaryServerError(
        f"Prefect's temporary API server did not answer within {timeout:.0f} s "
        "(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS)"
    )
