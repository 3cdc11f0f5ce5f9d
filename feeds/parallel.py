"""Render many pages on every core: a pool of forked processes, each rendering chunks;
and one piece of work forked aside while the publishing process goes on (:func:`aside`).

A full build renders 20,000 pages of changes and versions at 10,000 changes, each on its
own (its inputs are views the parent read, and a diff or text loaded by its content hash).
The parent decides what to render and the keys; forked workers (which inherit the views,
the compiled templates and the build's folders) render chunks of pages into the build's
folders and report what they wrote; the parent records it. Nothing here decides what a
page holds: the bytes are those of rendering the same pages in one process
(tests/test_site_incremental.py). See docs/decisions/0004-incremental-publish.md.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Below this many pages one process renders them: forking costs more than it saves.
MIN_PAGES = 1500
CHUNK = 250  # pages per task: small enough to share the work out evenly

_WORK: tuple[Callable[[Sequence[Any]], Any], Sequence[Sequence[Any]]] | None = None
_ASIDE: Callable[[], Any] | None = None


def workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _start_worker(start: Callable[[], None] | None) -> None:
    """A worker's first step: no cyclic garbage collection, then ``start``. Rendering pages
    makes almost no cycles (250 objects over 6,000 pages of changes and versions, with
    the same peak memory), and the collector's runs over what each page allocates cost
    3-6% of rendering it."""
    gc.disable()
    if start is not None:
        start()


def _run_chunk(index: int) -> Any:
    assert _WORK is not None
    render, chunks = _WORK
    return render(chunks[index])


def chunked(items: Sequence[T]) -> list[Sequence[T]]:
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


def run(
    items: Sequence[T],
    render: Callable[[Sequence[T]], R],
    start: Callable[[], None] | None = None,
    *,
    allowed: bool = True,
) -> list[R]:
    """``render`` every chunk of ``items``; the results in chunk order (:func:`started`,
    waited for at once)."""
    with started(items, render, start, allowed=allowed) as results:
        return list(results())


@contextmanager
def started(
    items: Sequence[T],
    render: Callable[[Sequence[T]], R],
    start: Callable[[], None] | None = None,
    *,
    allowed: bool = True,
) -> Iterator[Callable[[], Iterator[R]]]:
    """``render`` every chunk of ``items``, in the background; yields a function that
    gives the results in chunk order, each as soon as its chunk is done (the caller can
    take in the first while the last are rendered), so the caller can do other work
    meanwhile.

    In forked workers when there are enough items, more than one core and ``allowed``
    (the caller knows its resources survive a fork); ``start`` runs first in each worker
    (to open its own database connection). Otherwise here, in one process, in order,
    before anything is yielded. Leaving the block before the results were taken (an
    error of the caller) cancels the chunks not started and waits for the others.
    """
    chunks = chunked(items)
    processes = min(workers(), len(chunks))
    if not allowed or len(items) < MIN_PAGES or processes < 2:
        done = [render(chunk) for chunk in chunks]
        yield lambda: iter(done)
        return
    global _WORK
    _WORK = (render, chunks)
    try:
        # A worker that dies (or whose ``start`` fails) breaks the pool: the publish
        # fails and its build is dropped, never a hang (multiprocessing.Pool would wait).
        with ProcessPoolExecutor(
            processes,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(start,),
        ) as pool:
            futures = [pool.submit(_run_chunk, i) for i in range(len(chunks))]  # forks now
            try:
                yield lambda: (f.result() for f in futures)
            finally:
                for f in futures:
                    f.cancel()
    finally:
        _WORK = None


def _run_aside() -> Any:
    assert _ASIDE is not None
    return _ASIDE()


@contextmanager
def aside(work: Callable[[], R]) -> Iterator[Callable[[], R]]:
    """Run ``work`` in one forked process while the caller goes on; yields the function
    that waits for its result (pickled back to this process). The caller decides that a
    fork is safe (its resources survive it) and pays (a second core, :func:`workers`).

    A process that fails or dies makes the waiting function raise; leaving the block
    before waiting (an error of the caller) still waits for the process to end.
    """
    global _ASIDE
    _ASIDE = work  # inherited by the fork, never pickled
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            future = pool.submit(_run_aside)  # forks now
            yield future.result
    finally:
        _ASIDE = None
