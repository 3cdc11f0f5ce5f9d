"""The monitor flow: crawl -> versions and changes -> source health -> link checks -> publish
-> notify, each step a Prefect task over the functions of ``pipeline/`` (and ``notify/``),
inside one run.

Versions and changes are derived one task per document, on the flow's task runner
(:data:`DERIVE_WORKERS` threads; any Prefect task runner through ``monitor.with_options``),
each task holding the document's Prefect slot (flows/slots.py) and, inside, the document's
database lock (pipeline/derive.py): the result is the same as deriving one after another.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from config import defaults
from config.run import RunConfig, sources_of, tracked_documents
from feeds.remote import is_remote
from flows import progress, slots
from pipeline import derive, link_checks, publishing, retention, source_health, spider_process
from pipeline.runs import run


@task(name="crawl", cache_policy=NO_CACHE)
def crawl_task(cfg: RunConfig, run_id: int) -> int:
    return spider_process.crawl(cfg, run_id, on_fetch=progress.emit)


#: Documents derived at once by one flow run (threads of its task runner).
DERIVE_WORKERS = 4


@task(name="documents to derive", cache_policy=NO_CACHE)
def pending_task(cfg: RunConfig) -> list[str]:
    return derive.documents_to_derive(cfg)


@task(name="derive versions and changes", cache_policy=NO_CACHE)
def derive_task(cfg: RunConfig, run_id: int, document_id: str) -> dict[str, int]:
    with slots.one_at_a_time(document_id) as held:
        if not held:  # another run held the document all along: its fetches wait
            return {"deferred": 1}
        return derive.derive_one_document(cfg, run_id, document_id)


def derive_all(cfg: RunConfig, run_id: int) -> dict[str, int]:
    """Every document with unprocessed fetches, one task each on the flow's task runner."""
    futures = [
        derive_task.with_options(task_run_name=f"derive {doc}").submit(cfg, run_id, doc)
        for doc in pending_task(cfg)
    ]
    return derive.add_counts(future.result() for future in futures)


@task(name="drop unchanged bodies", cache_policy=NO_CACHE)
def retention_task(cfg: RunConfig, run_id: int) -> int:
    return retention.drop_unchanged_bodies(cfg, run_id)


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


@flow(name="monitor", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=DERIVE_WORKERS))
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
        counts.update(derive_all(cfg, current.id))
        counts["bodies_dropped"] = retention_task(cfg, current.id)
        counts["source_alerts"] = health_task(cfg, current.id)
        counts.update(check_links_task(cfg, current.id))
        publish_task(cfg)
        counts.update(notify_task(cfg, current.id))  # never raises: a target may be down
    return {"run_id": current.id, **counts, "out_dir": cfg.out_dir}
