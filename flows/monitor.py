"""The monitor flow: the run of flows/steps.py (crawl -> versions and changes -> source
health -> link checks -> publish -> notify), each step a Prefect task on the flow's task
runner (:data:`DERIVE_WORKERS` threads; any Prefect task runner through
``monitor.with_options``), each derive batch holding its documents' Prefect slots
(flows/slots.py) and, inside, each document's database lock (pipeline/derive.py): the
result is the same as deriving one after another (docs/decisions/0016).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from prefect import Flow, Task, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import wait
from prefect.task_runners import ThreadPoolTaskRunner

from config.run import RunConfig
from flows import slots, steps
from flows.steps import (  # noqa: F401  (the flow's names, as before the steps moved)
    BATCHES_PER_WORKER,
    DERIVE_WORKERS,
    MAX_BATCH,
    MIN_BATCH,
    DeriveFailed,
    batch_size,
    batches,
)
from pipeline import derive

#: Seconds a batch waits for all its documents' slots at once (a busy Prefect server can be
#: slow to answer); a batch one of whose documents another run is deriving (or took
#: meanwhile) takes its documents' slots one at a time instead.
BATCH_WAIT_SECONDS = 60.0


def derive_each(
    cfg: RunConfig, run_id: int | None, document_ids: list[str], one_slot_each: bool = False
) -> dict[str, int]:
    """Derive the documents in order, each whatever happens to the others; with
    ``one_slot_each``, each holding its own Prefect slot meanwhile (``deferred`` if another
    run held it all along). Raises :class:`DeriveFailed` at the end if some raised."""
    one = _derive_holding_its_slot if one_slot_each else None
    return steps.derive_each(cfg, run_id, document_ids, one)


def _derive_holding_its_slot(cfg: RunConfig, run_id: int | None, doc: str) -> dict[str, int]:
    with slots.one_at_a_time(doc, slots.WAIT_SECONDS) as held:
        if not held:  # another run held the document all along: its fetches wait
            return {"deferred": 1}
        return derive.derive_one_document(cfg, run_id, doc)


@task(name="crawl", cache_policy=NO_CACHE)
def crawl_task(cfg: RunConfig, run_id: int) -> int:
    return steps.crawl(cfg, run_id)


@task(name="derive versions and changes", cache_policy=NO_CACHE)
def derive_task(cfg: RunConfig, run_id: int | None, document_ids: list[str]) -> dict[str, int]:
    """Derive a batch of documents holding all their slots, taken in one call; if some
    document stays busy in another run, holding one slot at a time instead."""
    with slots.all_at_once(document_ids, BATCH_WAIT_SECONDS) as held:
        if held:
            return derive_each(cfg, run_id, document_ids)
    return derive_each(cfg, run_id, document_ids, one_slot_each=True)


@task(name="drop unchanged bodies", cache_policy=NO_CACHE)
def retention_task(cfg: RunConfig, run_id: int) -> int:
    return steps.drop_unchanged_bodies(cfg, run_id)


@task(name="source health", cache_policy=NO_CACHE)
def health_task(cfg: RunConfig, run_id: int) -> int:
    return steps.check_health(cfg, run_id)


@task(name="check links", cache_policy=NO_CACHE)
def check_links_task(cfg: RunConfig, run_id: int) -> dict[str, int]:
    return steps.check_links(cfg, run_id)


@task(name="publish", cache_policy=NO_CACHE)
def publish_task(cfg: RunConfig) -> dict[str, Any]:
    return steps.publish(cfg)


@task(name="notify", cache_policy=NO_CACHE)
def notify_task(cfg: RunConfig, run_id: int) -> dict[str, int]:
    return steps.notify(cfg, run_id)


#: Each step of flows/steps.py as this flow's task.
TASKS: dict[Callable[..., Any], Task[..., Any]] = {
    steps.crawl: crawl_task,
    steps.derive_batch: derive_task,
    steps.drop_unchanged_bodies: retention_task,
    steps.check_health: health_task,
    steps.check_links: check_links_task,
    steps.publish: publish_task,
    steps.notify: notify_task,
}


class PrefectSteps:
    """The steps as Prefect tasks of the running flow: submitted to its task runner, or
    called (a task run in the flow's thread)."""

    def submit(self, step: Callable[..., Any], *args: Any, name: str | None = None) -> Any:
        chosen = TASKS[step]
        if name is not None:
            chosen = chosen.with_options(task_run_name=name)
        return chosen.submit(*args)

    def call(self, step: Callable[..., Any], *args: Any) -> Any:
        return TASKS[step](*args)

    def wait(self, futures: Iterable[Any]) -> None:
        wait(list(futures))


def derive_all(
    cfg: RunConfig, run_id: int | None, workers: int = DERIVE_WORKERS, min_batch: int = MIN_BATCH
) -> dict[str, int]:
    """``steps.derive_all`` on this flow's task runner (one task per batch)."""
    return steps.derive_all(PrefectSteps(), cfg, run_id, workers, min_batch)


def crawl_and_derive(
    cfg: RunConfig,
    run_id: int,
    expected: int,
    workers: int = DERIVE_WORKERS,
    min_batch: int = MIN_BATCH,
) -> tuple[int, dict[str, int]]:
    """``steps.crawl_and_derive`` on this flow's task runner (the crawl a task, one task
    per batch)."""
    return steps.crawl_and_derive(PrefectSteps(), cfg, run_id, expected, workers, min_batch)


#: What JSON holds as it is: such a parameter is what Prefect's serializer makes of it.
_JSON_SCALARS = (str, int, float, bool, type(None))


def _plain_json(value: Any) -> bool:
    """Whether ``value`` is made of JSON's own types only (exact types: not an enum, a
    subclass, a tuple...), which fastapi's ``jsonable_encoder`` returns as they are."""
    if type(value) in _JSON_SCALARS:
        return True
    if type(value) is list:
        return all(_plain_json(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _plain_json(v) for k, v in value.items())
    return False


class PlainParametersFlow(Flow[Any, Any]):
    """A flow whose run's parameters, when they are plain JSON values (the monitor's: text,
    lists of text, None), are sent to Prefect as they are, instead of through fastapi's
    ``jsonable_encoder``, which gives the same values: Prefect imports fastapi (with
    Starlette and its OpenAPI models) for that one call, at each flow run's creation, about
    5 MB and 0.1 s of CPU in the command, while the spider fetches (decision 0018). Other
    values go through Prefect's own serializer."""

    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        if self.ismethod or self.isclassmethod or not _plain_json(parameters):
            return super().serialize_parameters(parameters)
        return {key: copy.deepcopy(value) for key, value in parameters.items()}


def _plain_parameters_flow(**options: Any) -> Callable[[Callable[..., Any]], Flow[Any, Any]]:
    """``prefect.flow(**options)``, making a :class:`PlainParametersFlow`."""
    return lambda fn: PlainParametersFlow(fn=fn, **options)


@_plain_parameters_flow(
    name="monitor", log_prints=True, task_runner=ThreadPoolTaskRunner(max_workers=DERIVE_WORKERS)
)
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
    cfg = steps.run_config(documents, db, sources, out, base_url, trigger)
    return steps.monitor_steps(PrefectSteps(), cfg)
