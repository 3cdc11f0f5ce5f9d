"""What a crawl's subprocess does before it fetches: in the ``--wait`` mode (a prewarmed
spider) it imports every class Scrapy loads for a crawl before its arguments come, so that
the crawl starts fetching at once (decision 0018)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
print(json.dumps({"code": code, "imported": sorted(set(sys.modules) - before)}))
"""


def test_a_prewarmed_crawl_imports_no_scrapy_component_after_its_arguments_come(
    tmp_path: Path, site: FakeMeta, db_url: str
) -> None:
    site.page("/p", PAGE)
    sources = write_sources(tmp_path / "sources.toml", [{"id": "p", "url": site.url("/p")}])
    run_id = start(db_url, "manual", tracked_documents(RunConfig(db_url, str(sources))))
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, "--db", db_url, "--sources", str(sources)]
        + ["--run-id", str(run_id)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    result = json.loads(probe.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, probe.stderr
    late = [m for m in result["imported"] if m.split(".")[0] in {"scrapy", "aiohttp", "spiders"}]
    assert late == []
    with open_db(db_url)() as session:
        assert session.query(Fetch).filter_by(run_id=run_id, http_status=200).count() == 1
