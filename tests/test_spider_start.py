"""What a crawl's subprocess does before it fetches: in the ``--wait`` mode (a prewarmed
spider) it imports every class Scrapy loads for a crawl before its arguments come, so that
the crawl starts fetching at once (decision 0018)."""

from __future__ import annotations

import json
import os
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
from tests.test_faults_kill import alive, wait_for

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


#: `policywatch` in-process, with the spider's start noted: whether the command line
#: (typer) was imported by then.
COMMAND = """
import json, subprocess, sys
starts = []
real = subprocess.Popen
class Popen(real):
    def __init__(self, args, *a, **k):
        if "spiders.crawl" in args:
            starts.append("typer" in sys.modules)
        super().__init__(args, *a, **k)
subprocess.Popen = Popen
from cli.main import main
sys.argv = ["policywatch", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "typer_before_spider": starts}))
"""


def test_a_crawls_spider_starts_before_the_command_line_is_imported(
    tmp_path: Path, site: FakeMeta, db_url: str
) -> None:
    site.page("/a", PAGE)
    sources = write_sources(tmp_path / "sources.toml", [{"id": "a", "url": site.url("/a")}])
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(HOME=str(tmp_path), PREFECT_HOME=str(tmp_path / "ph"), PYTHONPATH=str(ROOT))
    args = ["--db", db_url, "--sources", str(sources), "--out", str(tmp_path / "public")]
    done = subprocess.run(
        [sys.executable, "-c", COMMAND, "crawl", "--json", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["typer_before_spider"] == [False]  # one spider, started first
    with open_db(db_url)() as session:  # which fetched the page (too short a text: exit 3)
        assert session.query(Fetch).filter_by(http_status=200).count() == 1


def test_an_unused_early_spider_ends_with_the_command(tmp_path: Path) -> None:
    """A crawl refused before it starts (a bad sources.toml: exit 2) leaves no spider."""
    bad = tmp_path / "sources.toml"
    bad.write_text("[[document]]\nid = 'a'\n", encoding="utf-8")
    marker = f"policywatch-test-{os.getpid()}-{tmp_path.name}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT), POLICYWATCH_TEST_MARK=marker)
    exe = Path(sys.executable).with_name("policywatch")
    done = subprocess.run(
        [str(exe), "crawl", "--sources", str(bad), "--db", f"sqlite:///{tmp_path / 'pw.db'}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-3000:]

    def marked() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
        return [pid for pid in found if alive(pid)]

    wait_for(lambda: not marked(), timeout=10, what="the early spider to end")
