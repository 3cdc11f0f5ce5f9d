"""Scheduled runs through Prefect: `serve` (this process runs them), `deploy` (workers do)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import BaseOpt, DbOpt, OutOpt, SourcesOpt, check_sources, console, err, fail
from config import defaults
from feeds.remote import is_remote


def _worker_settings(db: str | None, sources: Path, out: str, base_url: str) -> None:
    """Settings for the flow runs this process starts: its environment, with absolute paths
    (a deployment's parameters name no machine's paths; flows/serving.py)."""
    url = db or defaults.db_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = f"sqlite:///{Path(url.removeprefix('sqlite:///')).resolve()}"
    os.environ["POLICYWATCH_DB"] = url
    os.environ["POLICYWATCH_SOURCES"] = str(sources.resolve())
    # not resolve(): --out may be a symlink (feeds.atomic)
    os.environ["POLICYWATCH_OUT"] = out if is_remote(out) else os.path.abspath(out)
    os.environ["POLICYWATCH_BASE_URL"] = base_url


def _need_prefect_server(command: str) -> None:
    api_url = os.environ.get("PREFECT_API_URL")
    if not api_url:
        raise fail(
            "PREFECT_API_URL is not set. Scheduled runs need a Prefect server:\n"
            "  prefect server start &\n"
            "  export PREFECT_API_URL=http://127.0.0.1:4200/api\n"
            f"then run `policywatch {command}` again."
        )
    from flows.prefect_api import unreachable

    why = unreachable(api_url)
    if why:
        raise fail(f"{why}: start it (prefect server start) or fix PREFECT_API_URL")


def serve(
    cron: Annotated[str, typer.Option(help="When to run (cron, UTC).")] = defaults.CRON,
    name: Annotated[str, typer.Option(help="Deployment name.")] = "policywatch",
    db: DbOpt = None,
    sources: SourcesOpt = defaults.SOURCES_PATH,
    out: OutOpt = str(defaults.OUT_DIR),
    base_url: BaseOpt = defaults.BASE_URL,
) -> None:
    """Serve the monitor flow as a Prefect deployment on a cron schedule (default every 6 h).

    Needs a Prefect server (schedules never fire on Prefect's ephemeral server):

      prefect server start &
      export PREFECT_API_URL=http://127.0.0.1:4200/api
      policywatch serve --cron "0 */6 * * *"

    Start a run by hand from the Prefect UI or with
    [bold]prefect deployment run monitor/policywatch[/]. Several serve processes (on one
    machine or many) may serve the same deployment: the runs take --db, --sources, --out and
    --base-url from the process that runs them, one run at a time. Stopping one (Ctrl-C,
    SIGTERM) leaves the deployment scheduled; pause it with
    [bold]prefect deployment schedule pause monitor/policywatch <schedule id>[/].
    """
    _need_prefect_server("serve")
    check_sources(sources)
    from flows.serving import serve as serve_deployment

    _worker_settings(db, sources, out, base_url)
    err.print(f"serving monitor/{name} on cron {cron!r}; Ctrl-C or SIGTERM stops this process")
    # A SIGTERM that comes before Prefect's runner is up must still stop cleanly.
    signal.signal(signal.SIGTERM, _interrupt)
    serve_deployment(name, cron)


def deploy(
    pool: Annotated[str, typer.Option("--pool", help="The Prefect work pool (type process).")],
    cron: Annotated[str, typer.Option(help="When to run (cron, UTC).")] = defaults.CRON,
    name: Annotated[str, typer.Option(help="Deployment name.")] = "policywatch",
) -> None:
    """Register the monitor flow for a Prefect work pool: workers on any machine run it.

    The deployment loads the flow from the installed package (flows.monitor), with no
    working directory of this machine; each worker takes its settings from its own
    environment: POLICYWATCH_DB, POLICYWATCH_SOURCES, POLICYWATCH_OUT, POLICYWATCH_BASE_URL.
    One run at a time (later ones wait).

      prefect work-pool create policywatch --type process
      policywatch deploy --pool policywatch
      POLICYWATCH_DB=postgresql+psycopg://... prefect worker start --pool policywatch
    """
    _need_prefect_server("deploy")
    from flows.serving import deploy as deploy_to_pool

    try:
        deployment_id = deploy_to_pool(name, cron, pool)
    except Exception as exc:  # Prefect's errors: no such pool, server unreachable...
        raise fail(f"could not register monitor/{name} for pool {pool!r}: {exc}") from exc
    console.print(
        f"deployment monitor/{name} ({deployment_id}) for work pool {pool!r}, cron {cron!r}.\n"
        f"Start workers with: prefect worker start --pool {pool}"
    )


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
