"""Serve the monitor flow as a scheduled Prefect deployment, pausing it on SIGTERM."""

from __future__ import annotations

import asyncio
from typing import Any

from prefect.client.orchestration import get_client
from prefect.runner import Runner

from flows.monitor import monitor


class PausingRunner(Runner):
    """A Runner whose SIGTERM takes the same path as Ctrl-C.

    Prefect 3.8.8's own SIGTERM handler calls a coroutine without awaiting it and exits
    with the deployment still scheduled.
    """

    def handle_sigterm(self, *args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt


def serve(name: str, cron: str, parameters: dict[str, Any]) -> str:
    """Register ``monitor/<name>`` on ``cron`` and run its flow runs until stopped.

    Returns the deployment id once the runner has stopped.
    """
    runner = PausingRunner(name=name, pause_on_shutdown=True)
    deployment_id = runner.add_flow(monitor, name=name, cron=cron, parameters=parameters)
    print(
        f"deployment monitor/{name} ({deployment_id}) is scheduled on {cron!r}.\n"
        f"Start a run now with: prefect deployment run 'monitor/{name}'",
        flush=True,
    )
    try:
        asyncio.run(runner.start())
    except KeyboardInterrupt:
        pass
    finally:
        # Pause here too: the runner pauses only if it had fully started.
        with get_client(sync_client=True) as client:
            client.pause_deployment(deployment_id)
        print(f"stopped; monitor/{name} is paused", flush=True)
    return str(deployment_id)
