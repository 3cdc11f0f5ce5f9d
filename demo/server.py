"""A local HTTP server that stands in for Meta's hosts in the demo and the tests.

Each path answers what was last set for it: a page, a status, a redirect, a delay or an
empty body. It listens on 127.0.0.1 only.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

#: Seconds a request held by a :class:`Reply`'s barrier waits for the others (tests only):
#: long, since the other side may be a Prefect task on a loaded machine.
BARRIER_SECONDS = 240.0


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html"})
    delay: float = 0.0
    barrier: threading.Barrier | None = None  # wait for this many requests, then all answer
    # (or, after BARRIER_SECONDS, answer anyway: the barrier is broken)


class FakeMeta:
    """``with FakeMeta() as site: site.page('/privacy/', html); site.url('/privacy/')``."""

    def __init__(self) -> None:
        self.replies: dict[str, Reply] = {}
        self.queued: dict[str, list[Reply]] = {}  # replies to give in turn, then the last again
        self.hits: dict[str, int] = {}
        self.headers: dict[str, dict[str, str]] = {}  # the last request's headers, by path
        self.log: list[tuple[float, str]] = []  # (time.time() on arrival, path) of each request
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                with owner._lock:
                    queued = owner.queued.get(self.path)
                    if queued:
                        reply = queued.pop(0) if len(queued) > 1 else queued[0]
                    else:
                        reply = owner.replies.get(self.path) or Reply(404, b"<h1>Not found</h1>")
                    owner.hits[self.path] = owner.hits.get(self.path, 0) + 1
                    owner.log.append((time.time(), self.path))
                    owner.headers[self.path] = dict(self.headers.items())
                if reply.barrier is not None:
                    try:
                        reply.barrier.wait(timeout=BARRIER_SECONDS)
                    except threading.BrokenBarrierError:
                        pass
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def set(self, path: str, reply: Reply) -> None:
        with self._lock:
            self.replies[path] = reply
            self.queued.pop(path, None)

    def sequence(self, path: str, replies: list[Reply]) -> None:
        """Answer ``path`` with these replies in turn; the last one stays."""
        with self._lock:
            self.queued[path] = list(replies)

    def page(self, path: str, html: str, status: int = 200, delay: float = 0.0) -> None:
        self.set(path, Reply(status, html.encode("utf-8"), delay=delay))

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.set(path, Reply(status, b"", {"Location": location}))

    def __enter__(self) -> FakeMeta:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
