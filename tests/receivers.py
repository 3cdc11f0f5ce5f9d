"""Real local receivers for notification tests: an SMTP server (aiosmtpd) and a JSON
webhook (http.server), each recording what it was sent, on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

ID = re.compile(r"pw-change-\d+")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], Any], seconds: float = 30.0, what: str = "a condition") -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


class Mailbox:
    """An SMTP server on 127.0.0.1 that keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def url(self, to: str = "watchers@example.org") -> str:
        return f"mailto://127.0.0.1:{self.port}?from=policywatch@example.org&to={to}"

    def text(self, message: email.message.EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain", "html"))
        assert part is not None
        return str(part.get_content())

    def ids(self) -> list[str]:
        return [i for m in self.messages for i in ID.findall(self.text(m))]

    def __enter__(self) -> Mailbox:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


class Webhook:
    """An HTTP server on 127.0.0.1 that keeps every JSON body POSTed to it.

    ``hold`` makes the next request wait (after its body is recorded) until released:
    the sender has sent, and is waiting for the answer, when a test kills it. ``fail``
    answers 500 to everything while set.
    """

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.fail = False
        self.delay = 0.0  # seconds before answering (overlapping senders)
        self.hold_next = False
        self.held = threading.Event()
        self.release = threading.Event()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if hook.fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                hook.bodies.append(body)
                time.sleep(hook.delay)
                if hook.hold_next:
                    hook.hold_next = False
                    hook.held.set()
                    hook.release.wait(300)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        # rto: apprise waits this long for the answer (default 4 s), so that a held answer
        # keeps the sender between "sent" and "marked sent" until the test kills it
        return f"json://127.0.0.1:{self.port}/hook?rto=300"

    def ids(self) -> list[str]:
        return [i for b in self.bodies for i in ID.findall(str(b.get("message", "")))]

    def __enter__(self) -> Webhook:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
