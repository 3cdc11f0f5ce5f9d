"""The monitor flow: crawl -> versions -> changes -> source health -> link checks -> publish
-> notify, each step a Prefect task over the functions of ``pipeline/`` (and ``notify/``),
inside one run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from config import defaults
from config.run import RunConfig, sources_of, tracked_documents
from feeds.remote import is_remote
from flows import progress
from pipeline import (
    detect,
    link_checks,
    publishing,
    retention,
    source_health,
    spider_process,
    versions,
)
from pipeline.runs import run
from pipeline.versions import Transition


@task(name="crawl", cache_policy=NO_CACHE)
def crawl_task(cfg: RunConfig, run_id: int) -> int:
    return spider_process.crawl(cfg, run_id, on_fetch=progress.emit)


@task(name="derive versions", cache_policy=NO_CACHE)
def derive_task(cfg: RunConfig, run_id: int) -> tuple[dict[str, int], list[Transition]]:
    return versions.derive_versions(cfg, run_id)


@task(name="drop unchanged bodies", cache_policy=NO_CACHE)
def retention_task(cfg: RunConfig, run_id: int) -> int:
    return retention.drop_unchanged_bodies(cfg, run_id)


@task(name="detect changes", cache_policy=NO_CACHE)
def changes_task(cfg: RunConfig, run_id: int, transitions: list[Transition]) -> int:
    return detect.detect_changes(cfg, run_id, transitions)


@task(name="source health", cache_policy=NO_CACHE)
def health_task(cfg: RunConfig, run_id: int) -> int:
    return source_health.source_health(cfg, run_id)


@task(name="check links", cache_policy=NO_CACHE)
def check_links_task(cfg: RunConfig, run_id: int) -> dict[str, int]:
    return link_checks.check_links(cfg, run_id)


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(cfg: RunConfig) -> dict[str, Any]:
    return publishing.publish(cfg)


@task(name="notify", cache_policy=NO_CACHE)
def notify_task(cfg: RunConfig, run_id: int) -> dict[str, int]:
    from notify.deliver import notify_step

    return notify_step(cfg.db_url, sources_of(cfg).notify, cfg.base_url, run_id)


def _location(out: str) -> str:
    """An absolute folder, or object storage as given (feeds.remote)."""
    return out if is_remote(out) else os.path.abspath(out)  # not resolve(): out is a symlink


@flow(name="monitor", log_prints=True)
def monitor(
    documents: list[str] | None = None,
    db: str | None = None,
    sources: str | None = None,
    out: str | None = None,
    base_url: str | None = None,
    trigger: str = "manual",
) -> dict[str, Any]:
    """Fetch the documents (all if none named), store versions and changes, publish feeds.

    Settings not given come from the environment of the process that runs the flow
    (POLICYWATCH_DB, POLICYWATCH_SOURCES, POLICYWATCH_OUT, POLICYWATCH_BASE_URL), so a
    deployment names no machine's paths (flows/serving.py).
    """
    env = os.environ.get
    cfg = RunConfig(
        db_url=db or defaults.db_url(),
        sources_path=str(
            Path(sources or env("POLICYWATCH_SOURCES") or defaults.SOURCES_PATH).resolve()
        ),
        out_dir=_location(out or env("POLICYWATCH_OUT") or str(defaults.OUT_DIR)),
        base_url=base_url or env("POLICYWATCH_BASE_URL") or defaults.BASE_URL,
        documents=list(documents or []),
        trigger=trigger,
    )
    with run(cfg.db_url, cfg.trigger, tracked_documents(cfg)) as current:
        counts = current.counts
        counts["fetched"] = crawl_task(cfg, current.id)
        derived, transitions = derive_task(cfg, current.id)
        counts.update(derived)
        counts["changes"] = changes_task(cfg, current.id, transitions)
        counts["bodies_dropped"] = retention_task(cfg, current.id)
        counts["source_alerts"] = health_task(cfg, current.id)
        counts.update(check_links_task(cfg, current.id))
        publish_task(cfg)
        counts.update(notify_task(cfg, current.id))  # never raises: a target may be down
    return {"run_id": current.id, **counts, "out_dir": cfg.out_dir}
