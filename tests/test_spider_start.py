"""What a crawl's subprocess does before it fetches: in the ``--wait`` mode (a prewarmed
spider) it imports every class Scrapy loads for a crawl before its arguments come, so that
the crawl starts fetching at once (decision 0018)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from config.run import RunConfig, tracked_documents
from demo.server import FakeMeta
from pipeline.runs import start
from storage.db import open_db
from storage.models import Fetch
from tests.conftest import write_sources

ROOT = Path(__file__).resolve().parent.parent
PAGE = "<html><body><div id='root'><p>We process information.</p></div></body></html>"

#: Run in a fresh interpreter: the --wait mode's imports, then a crawl; prints the modules
#: the crawl itself imported.
PROBE = """
import json, sys
import spiders.crawl as crawl
crawl.import_components()
before = set(sys.modules)
code = crawl.main(sys.argv[1:])
print(json.dumps({"code": code, "imported": sorted(set(sys.modules) - before),
                  "loaded": sorted(sys.modules)}))
"""


def prewarmed_crawl(
    tmp_path: Path, site: FakeMeta, db_url: str, probe_code: str = PROBE
) -> dict[str, Any]:
    """The probe's result for a crawl of one page; the page is fetched and stored."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    site.page("/p", PAGE)
    sources = write_sources(tmp_path / "sources.toml", [{"id": "p", "url": site.url("/p")}])
    run_id = start(db_url, "manual", tracked_documents(RunConfig(db_url, str(sources))))
    probe = subprocess.run(
        [sys.executable, "-c", probe_code, "--db", db_url, "--sources", str(sources)]
        + ["--run-id", str(run_id)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(probe.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, probe.stderr
    with open_db(db_url)() as session:
        assert session.query(Fetch).filter_by(run_id=run_id, http_status=200).count() == 1
    return result


def test_a_prewarmed_crawl_imports_no_scrapy_component_after_its_arguments_come(
    tmp_path: Path, site: FakeMeta, db_url: str
) -> None:
    result = prewarmed_crawl(tmp_path, site, db_url)
    late = [m for m in result["imported"] if m.split(".")[0] in {"scrapy", "aiohttp", "spiders"}]
    assert late == []


def test_a_crawl_imports_neither_the_extensions_it_turns_off_nor_scrapy_check(
    tmp_path: Path, site: FakeMeta, db_url: str
) -> None:
    """The remote control (aiohttp) and the telnet console are off, and left out of the
    crawl's EXTENSIONS_BASE (Scrapy imports every class named there); the contracts of
    `scrapy check` (unittest) are not prewarmed: about 10 MB of the spider's memory."""
    loaded = set(prewarmed_crawl(tmp_path, site, db_url)["loaded"])
    unwanted = {"aiohttp", "unittest", "scrapy.contracts", "scrapy.extensions.remote_control"}
    assert unwanted & loaded == set()
    assert {"scrapy.extensions.telnet", "twisted.conch"} & loaded == set()
    assert "scrapy.extensions.corestats" in loaded  # the others are still there


#: The same crawl without the --wait mode's imports.
COLD_PROBE = PROBE.replace("crawl.import_components()\n", "")


def test_a_prewarmed_crawl_loads_no_module_the_crawl_alone_does_not(
    tmp_path: Path, site: FakeMeta, db_url: str
) -> None:
    """The --wait mode imports only what the crawl itself would: not feed exports, the HTTP
    cache or robots.txt (pydantic, through itemadapter: about 7 MB), nor the cookies
    middleware of a crawl without cookies (tldextract, requests), nor PostgreSQL's
    dialect on SQLite (decision 0018)."""
    warm = set(prewarmed_crawl(tmp_path / "warm", site, db_url)["loaded"])
    cold = set(prewarmed_crawl(tmp_path / "cold", site, db_url, COLD_PROBE)["loaded"])
    assert warm - cold == set()
    unwanted = {"pydantic", "itemadapter", "tldextract", "requests", "scrapy.exporters"}
    assert unwanted & warm == set()
    if not db_url.startswith("postgresql"):
        assert "sqlalchemy.dialects.postgresql" not in warm
    assert "scrapy.core.downloader.handlers.http11" in warm  # what fetches is prewarmed
