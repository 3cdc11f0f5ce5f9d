"""The monitor flow as one Prefect deployment that any number of machines can serve or work.

The deployment names no machine's paths: its flow is loaded by module path
(``flows.monitor.monitor``, from the installed package), its only parameter is the trigger,
and each process that runs it reads the database URL, the sources file and the output
location from its own environment (POLICYWATCH_DB, POLICYWATCH_SOURCES, POLICYWATCH_OUT,
POLICYWATCH_BASE_URL). So a second ``serve`` registers the same deployment again unchanged,
and stopping one never pauses the deployment others still serve.

Runs cannot pile up on each other: the deployment has a concurrency limit of one run at a
time (later runs wait in Prefect's queue, ENQUEUE).
"""

from __future__ import annotations

import asyncio
from typing import Any

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.runner import Runner

from flows.monitor import monitor

#: How many runs of the deployment may run at once, across every serve process and worker.
RUNS_AT_ONCE = 1


def monitor_deployment(name: str, cron: str, pool: str | None = None) -> RunnerDeployment:
    """The deployment ``monitor/<name>`` on ``cron``; for the work pool ``pool`` if given."""
    return monitor.to_deployment(
        name=name,
        cron=cron,
        parameters={"trigger": "scheduled"},
        concurrency_limit=ConcurrencyLimitConfig(
            limit=RUNS_AT_ONCE, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
        ),
        entrypoint_type=EntrypointType.MODULE_PATH,
        work_pool_name=pool,
        description="policywatch: crawl, derive versions, detect changes, publish. Settings "
        "come from each worker's environment (POLICYWATCH_DB, POLICYWATCH_SOURCES, "
        "POLICYWATCH_OUT, POLICYWATCH_BASE_URL).",
    )


def deploy(name: str, cron: str, pool: str) -> str:
    """Register ``monitor/<name>`` for the work pool ``pool``; return the deployment id."""
    return str(monitor_deployment(name, cron, pool).apply(work_pool_name=pool))


class StoppingRunner(Runner):
    """A Runner whose SIGTERM takes the same path as Ctrl-C.

    Prefect 3.8.8's own SIGTERM handler calls a coroutine without awaiting it.
    """

    def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt


def serve(name: str, cron: str) -> str:
    """Register ``monitor/<name>`` on ``cron`` and run its flow runs until stopped.

    Stopping leaves the deployment and its schedule as they are: other processes may serve
    it. Returns the deployment id once the runner has stopped.
    """
    runner = StoppingRunner(pause_on_shutdown=False)
    deployment_id = runner.add_deployment(monitor_deployment(name, cron))
    print(
        f"deployment monitor/{name} ({deployment_id}) is scheduled on {cron!r}.\n"
        f"Start a run now with: prefect deployment run 'monitor/{name}'",
        flush=True,
    )
    try:
        asyncio.run(runner.start())
    except KeyboardInterrupt:
        pass
    print(f"stopped serving monitor/{name} (the deployment stays scheduled)", flush=True)
    return str(deployment_id)
