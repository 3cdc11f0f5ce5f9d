"""No orphans: the processes a command starts end when it ends, however it ends.

* ``die_with_parent`` (a ``preexec_fn``): on Linux the child asks the kernel to send it
  SIGKILL when the thread that started it dies (``prctl(PR_SET_PDEATHSIG)``), so even a
  ``kill -9`` of the command takes the spider with it.
* ``stop_on_signals``: SIGTERM and SIGHUP raise :class:`Terminated` in the main thread, so
  ``finally`` blocks, context managers and ``atexit`` handlers run as on Ctrl-C: the run is
  closed as failed, the spider is terminated, Prefect's temporary API server is stopped.
* Prefect's temporary API server, when a command needs one, is started by
  flows/temporary_api.py with :func:`die_with_parent` as well.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

_PR_SET_PDEATHSIG = 1


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM, SIGHUP); unwinds like KeyboardInterrupt."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by signal {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def _libc() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def die_with_parent() -> None:
    """``preexec_fn`` for a child that must not outlive the thread that starts it (Linux;
    a no-op elsewhere). Runs in the child between fork and exec: no Python locks here."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def stop(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """Terminate ``proc`` (SIGTERM, then SIGKILL after ``grace`` seconds) and reap it."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextmanager
def stop_on_signals(signals: tuple[int, ...] = (signal.SIGTERM, signal.SIGHUP)) -> Iterator[None]:
    """Within the block, ``signals`` raise :class:`Terminated` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise_terminated) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
