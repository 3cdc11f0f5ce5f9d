"""The check-links flow: check every opt-out link and form now, publish, notify, in one run."""

from __future__ import annotations

from prefect import flow

from config.run import RunConfig, sources_of, tracked_documents
from notify.deliver import notify_step
from pipeline import link_checks, publishing
from pipeline.runs import run


@flow(name="check-links", log_prints=True)
def check_links(cfg: RunConfig) -> dict[str, int]:
    """Sight, check and record the links (``pipeline.link_checks``), publish; the run's counts."""
    with run(cfg.db_url, cfg.trigger, tracked_documents(cfg)) as current:
        current.counts = link_checks.check_links(cfg, current.id)
        publishing.publish(cfg)
        # link-health changes reach the [[notify]] targets now; never raises
        current.counts.update(
            notify_step(cfg.db_url, sources_of(cfg).notify, cfg.base_url, current.id)
        )
    return {"run_id": current.id, **current.counts}
