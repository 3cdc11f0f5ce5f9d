"""No orphans: the processes a command starts end when it ends, however it ends.

* ``die_with_parent`` (a ``preexec_fn``): on Linux the child asks the kernel to send it
  SIGKILL when the thread that started it dies (``prctl(PR_SET_PDEATHSIG)``), so even a
  ``kill -9`` of the command takes the spider with it.
* ``stop_on_signals``: SIGTERM and SIGHUP raise :class:`Terminated` in the main thread, so
  ``finally`` blocks, context managers and ``atexit`` handlers run as on Ctrl-C: the run is
  closed as failed, the spider is terminated, Prefect's temporary API server is stopped.
* Prefect's temporary API server, when a command needs one, is started by
  flows/temporary_api.py with :func:`die_with_parent` as well.

And the memory they hold: :func:`return_big_blocks` has glibc give big freed blocks back
while the spider's process is alive (decision 0018), :func:`keep_big_blocks` after.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
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


#: glibc's ``mallopt`` parameter: allocations from this size on are mapped apart.
_M_MMAP_THRESHOLD = -3
#: Blocks of at least this many bytes (glibc's own starting value) are mapped apart and
#: unmapped when freed: a fetched body, its decoded text, lxml's buffers.
BIG_BLOCK = 128 * 1024
#: The threshold once the crawl has ended: about where glibc's own would have risen to.
KEPT_BLOCK = 4 * 1024 * 1024


def _mmap_threshold(size: int) -> None:
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:  # the environment's own setting stays
        return
    if _LIBC is not None and hasattr(_LIBC, "mallopt"):
        _LIBC.mallopt(_M_MMAP_THRESHOLD, size)


def return_big_blocks() -> None:
    """Have glibc's malloc give blocks of :data:`BIG_BLOCK` bytes and more back to the
    system when they are freed, from now on (Linux with glibc; a no-op elsewhere, and
    when the environment sets glibc's own ``MALLOC_MMAP_THRESHOLD_``).

    By default glibc raises that threshold to the size of each big block freed, so that
    after the first page of a run every body, decoded text and parser buffer of about
    250 KB is carved from the heap, where what is freed stays resident around what is not
    (decision 0018: about 8 MB of a 100-page run's derive in the command, while the
    spider's process, the other half of the run's memory peak, is alive)."""
    _mmap_threshold(BIG_BLOCK)


def keep_big_blocks() -> None:
    """Once the crawl has ended: big blocks up to :data:`KEPT_BLOCK` come from the heap
    again, as glibc's own rising threshold would have them. Mapping each block apart and
    faulting its pages in anew cost the publishing after a 100-page run (hundreds of
    pages of ~250 KB texts) about 0.3 s of system time; the memory then matters less (the
    spider's process is gone)."""
    _mmap_threshold(KEPT_BLOCK)


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
