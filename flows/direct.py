"""The monitor's steps (flows/steps.py) without Prefect: ``policywatch crawl`` and the demo
when no Prefect server is configured (decision 0018).

Prefect's temporary API server would keep nothing of such a run beyond the command (it
ends with it) and its slots would guard nothing across processes (each process has its
own server); what keeps two runs at once correct is the database's per-document lock
(storage/locks.py). So the same steps run here on a plain thread pool: the crawl and the
derive batches submitted to it, :data:`steps.DERIVE_WORKERS` threads as the flow's task
runner has, the bookkeeping steps in the caller's thread. Nothing here imports Prefect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from config.run import RunConfig
from flows import steps


class ThreadSteps:
    """The steps on a thread pool (the crawl takes one of its threads, as on the flow's
    task runner), or now in the caller's thread."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.pool = pool

    def submit(self, step: Callable[..., Any], *args: Any, name: str | None = None) -> Future[Any]:
        return self.pool.submit(step, *args)

    def call(self, step: Callable[..., Any], *args: Any) -> Any:
        return step(*args)

    def wait(self, futures: Iterable[Any]) -> None:
        wait(list(futures))


def monitor_direct(cfg: RunConfig, workers: int = steps.DERIVE_WORKERS) -> dict[str, Any]:
    """One run of the monitor's steps, as the ``monitor`` flow runs them, without Prefect;
    the run's counts."""
    with ThreadPoolExecutor(workers, thread_name_prefix="policywatch-step") as pool:
        return steps.monitor_steps(ThreadSteps(pool), cfg)
