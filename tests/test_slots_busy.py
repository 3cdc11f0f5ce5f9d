"""A Prefect server whose database is busy for a moment answers 503 to a batch's slot call;
flows/slots.py asks again itself after 50 ms, 100 ms... rather than through Prefect's
client, which waits 2 s, then 4, 8... (on a real server on SQLite this cost nearly every
run with a running server 2 s, decision 0018).

The session's real Prefect API sits behind a local proxy that answers 503 to the first
slot calls and passes everything else through."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from flows import slots

INCREMENT = "/v2/concurrency_limits/increment-with-lease"


class BusyProxy:
    """Forwards every request to ``api``, but answers 503 to the first ``busy`` slot calls."""

    def __init__(self, api: str, busy: int) -> None:
        self.api, self.busy, self.calls = api.rstrip("/"), busy, 0
        self.silent = 0.0  # seconds the first slot call waits before its 503 (a locked server)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.endswith(INCREMENT):
                    proxy.calls += 1
                    if proxy.calls == 1 and proxy.silent:
                        time.sleep(proxy.silent)
                    if proxy.calls <= proxy.busy:
                        self._answer(503, b'{"exception_message": "Service Unavailable"}', {})
                        return
                path = self.path.removeprefix("/api")
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                reply = httpx.request(
                    self.command, proxy.api + path, content=body, headers=headers, timeout=60
                )
                keep = {"content-type", "retry-after"}
                self._answer(
                    reply.status_code,
                    reply.content,
                    {k: v for k, v in reply.headers.items() if k.lower() in keep},
                )

            def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _forward  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def busy_api(prefect: None) -> Iterator[BusyProxy]:
    """The session's Prefect API behind a proxy busy for its first three slot calls."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    proxy = BusyProxy(str(PREFECT_API_URL.value()), busy=3)
    try:
        with temporary_settings(updates={PREFECT_API_URL: proxy.url}):
            yield proxy
    finally:
        proxy.close()


def active_slots(document_id: str) -> int:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(slots.limit_name(document_id))
        return int(limit.active_slots)


def test_a_busy_server_is_asked_again_soon_and_the_batch_takes_its_slots(
    busy_api: BusyProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []  # time.sleep in this thread (slots.py's and Prefect's client's)
    real_sleep = slots.time.sleep
    this = threading.get_ident()

    def sleep(seconds: float) -> None:
        if threading.get_ident() == this:
            pauses.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(slots.time, "sleep", sleep)
    batch = ["busy-a", "busy-b"]
    assert slots.shared_server()
    with slots.all_at_once(batch) as held:
        assert held and [active_slots(doc) for doc in batch] == [1, 1]
    # three 503s, each followed by one short pause of this module's (none of Prefect's
    # client, which would have asked again itself after 2 s), then the slots on the fourth
    assert busy_api.calls == 4
    assert pauses == [0.05, 0.1, 0.2]
    assert [active_slots(doc) for doc in batch] == [0, 0]


def test_a_server_that_stays_busy_leaves_the_batch_to_the_database_lock(
    busy_api: BusyProxy, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Past BUSY_GIVE_UP_SECONDS of 503s, Prefect is asked no more: the batch is derived
    without its slots, under the database lock alone (a run no longer fails because its
    Prefect server stayed busy), and the log says so."""
    busy_api.busy = 1_000
    monkeypatch.setattr(slots, "BUSY_GIVE_UP_SECONDS", 0.5)
    with caplog.at_level("WARNING", logger=slots.__name__):
        with slots.all_at_once(["stays-busy"]) as held:
            assert held and active_slots("stays-busy") == 0
    assert 2 <= busy_api.calls < 1_000
    assert active_slots("stays-busy") == 0
    assert any("database lock alone" in r.getMessage() for r in caplog.records)


def test_a_server_down_before_the_slot_call_leaves_the_document_to_the_database_lock(
    prefect: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A Prefect server that cannot be reached when the limits are made: the document is
    derived without its slot, and the log says so."""
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_CLIENT_MAX_RETRIES,
        temporary_settings,
    )

    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    down = {PREFECT_API_URL: f"http://127.0.0.1:{port}/api", PREFECT_CLIENT_MAX_RETRIES: 0}
    with temporary_settings(updates=down), caplog.at_level("WARNING", logger=slots.__name__):
        assert slots.shared_server()
        with slots.one_at_a_time("server-down") as held:
            assert held
        with slots.all_at_once(["server-down-a", "server-down-b"]) as held:
            assert held
    said = [r.getMessage() for r in caplog.records if "database lock alone" in r.getMessage()]
    assert len(said) == 2


def test_a_slot_call_left_unanswered_is_asked_again_and_the_batch_takes_its_slots(
    busy_api: BusyProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that holds a slot call past REQUEST_SECONDS (its database locked) is asked
    again: the call is not left to use up the whole give-up time on one answer."""
    busy_api.busy, busy_api.silent = 1, 3.0
    monkeypatch.setattr(slots, "REQUEST_SECONDS", 0.5)
    monkeypatch.setattr(slots, "BUSY_GIVE_UP_SECONDS", 2.5)  # less than the silence
    batch = ["silent-a", "silent-b"]
    with slots.all_at_once(batch) as held:
        assert held and [active_slots(doc) for doc in batch] == [1, 1]
    assert busy_api.calls == 2
    assert [active_slots(doc) for doc in batch] == [0, 0]
