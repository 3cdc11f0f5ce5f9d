"""A source failing for longer than [crawl] alert_after_hours: one change; recovery: one more."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from changes import source_health
from changes.source_health import Failure, describe_source, source_alert
from config.run import RunConfig
from demo.server import FakeMeta
from pipeline import spider_process, versions
from pipeline.source_health import source_health as source_health_step
from storage.db import open_db
from storage.models import Change, Fetch, Version
from tests.conftest import write_sources
from tests.factories import start_run

POLICY = "<html><body><div id='root'>" + " ".join(f"w{i}" for i in range(80)) + "</div></body>"
CONSENT = (
    "<html><body><div id='root'><h2>Allow the use of cookies from Facebook on this browser?</h2>"
    "<button>Allow all cookies</button></div></body></html>"
)
T = datetime(2026, 1, 1, tzinfo=UTC)


def test_alert_rules() -> None:
    day = timedelta(hours=24)
    fails = [Failure(T, "timeout"), Failure(T + timedelta(hours=25), "login-wall")]
    assert source_alert(fails, False, day) == "down"
    assert source_alert(fails, True, day) is None  # said once
    assert source_alert(fails[:1], False, timedelta(0)) is None  # once is not repeated
    assert source_alert([fails[0], Failure(T + timedelta(hours=2), "x")], False, day) is None
    assert source_alert([], True, day) == "up" and source_alert([], False, day) is None
    title = describe_source("FB policy", "down", fails[:1] + fails, T).title
    assert title == "FB policy: cannot be fetched for 25 h (timeout \u00d72, login-wall)"
    assert doctest.testmod(source_health).failed == 0


def test_a_consent_wall_is_a_failure_and_a_long_one_is_one_change(
    tmp_path: Path, db_url: str, site: FakeMeta
) -> None:
    site.page("/p", POLICY)
    sources = write_sources(tmp_path / "sources.toml", [{"id": "p", "url": site.url("/p")}])
    sources.write_text(sources.read_text().replace("[crawl]", "[crawl]\nalert_after_hours = 0"))
    cfg = RunConfig(db_url=db_url, sources_path=str(sources))

    def run() -> int:
        run_id = start_run(cfg)
        spider_process.crawl(cfg, run_id)
        versions.derive_versions(cfg, run_id)
        return source_health_step(cfg, run_id)

    assert run() == 0
    site.page("/p", CONSENT)
    assert run() == 0  # one failure is not repeated failure
    assert run() == 1  # down (said once: see test_alert_rules)
    site.page("/p", POLICY)
    assert run() == 1  # back
    with open_db(cfg.db_url)() as s:
        errors = [f.error for f in s.scalars(select(Fetch).order_by(Fetch.id))]
        assert errors == [None, "consent-wall", "consent-wall", None]
        assert len(s.scalars(select(Version)).all()) == 1  # the wall never became content
        changes = s.scalars(select(Change).order_by(Change.id)).all()
        assert [(c.kind, c.summary["state"]) for c in changes] == [
            ("source-health", "down"),
            ("source-health", "up"),
        ]
        assert changes[0].title.startswith("P: cannot be fetched for 0 min (consent-wall \u00d72)")
