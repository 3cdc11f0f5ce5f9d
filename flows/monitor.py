"""The one Prefect flow: crawl -> versions and changes -> link checks -> publish, each a task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import health, linkcheck, progress, steps
from flows.steps import RunConfig
from storage.db import default_url

DEFAULT_BASE_URL = "http://localhost:8000/"


@task(name="prepare", cache_policy=NO_CACHE)
def prepare_task(cfg: RunConfig) -> int:
    return steps.prepare(cfg)


@task(name="crawl", cache_policy=NO_CACHE)
def crawl_task(cfg: RunConfig, run_id: int) -> int:
    return steps.crawl(cfg, run_id, on_fetch=progress.emit)


@task(name="derive versions and changes", cache_policy=NO_CACHE)
def derive_task(cfg: RunConfig, run_id: int) -> dict[str, int]:
    counts, _ = steps.derive_versions(cfg, run_id)
    return counts


@task(name="source health", cache_policy=NO_CACHE)
def health_task(cfg: RunConfig, run_id: int) -> int:
    return health.source_health(cfg, run_id)


@task(name="check links", cache_policy=NO_CACHE)
def check_links_task(cfg: RunConfig, run_id: int) -> dict[str, int]:
    return linkcheck.check_links(cfg, run_id)


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(cfg: RunConfig) -> dict[str, Any]:
    return steps.publish(cfg)


@flow(name="monitor", log_prints=True)
def monitor(
    documents: list[str] | None = None,
    db: str | None = None,
    sources: str = "sources.toml",
    out: str = "public",
    base_url: str = DEFAULT_BASE_URL,
    trigger: str = "manual",
) -> dict[str, Any]:
    """Fetch the documents (all if none named), store versions and changes, publish feeds."""
    cfg = RunConfig(
        db_url=db or default_url(),
        sources_path=str(Path(sources).resolve()),
        out_dir=str(Path(out).resolve()),
        base_url=base_url,
        documents=list(documents or []),
        trigger=trigger,
    )
    run_id = prepare_task(cfg)
    counts: dict[str, int] = {}
    try:
        counts["fetched"] = crawl_task(cfg, run_id)
        counts.update(derive_task(cfg, run_id))
        counts["source_alerts"] = health_task(cfg, run_id)
        counts.update(check_links_task(cfg, run_id))
        publish_task(cfg)
    except BaseException:
        steps.finish(cfg, run_id, "failed", counts)
        raise
    steps.finish(cfg, run_id, "completed", counts)
    return {"run_id": run_id, **counts, "out_dir": cfg.out_dir}
