"""The policywatch CLI against a local Meta stand-in: crawl, rerun, status, publish."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest
from typer.testing import CliRunner

from cli.app import app
from demo.pages import meta_page
from demo.server import FakeMeta
from tests.conftest import write_sources

POLICY = "# Privacy Policy\n\nEffective May 27, 2025\n\n" + "We collect information. " * 80
EDITED = POLICY.replace("May 27, 2025", "June 16, 2025") + "\n\nWe train AI at Meta.\n"


@pytest.mark.usefixtures("prefect")
def test_crawl_detects_an_edit_and_a_rerun_adds_nothing(
    site: FakeMeta, tmp_path: Path, db_url: str
) -> None:
    sources = write_sources(
        tmp_path / "sources.toml", [{"id": "fb", "url": site.url("/privacy/policy/printable/")}]
    )
    common = ["--sources", str(sources), "--db", db_url]
    common += ["--out", str(tmp_path / "public")]
    runner = CliRunner()

    def crawl() -> dict[str, int]:
        result = runner.invoke(app, ["crawl", *common, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout.strip().splitlines()[-1])

    site.page("/privacy/policy/printable/", meta_page(POLICY))  # new tokens on every render
    assert crawl()["new"] == 1
    site.page("/privacy/policy/printable/", meta_page(POLICY))
    assert crawl()["same"] == 1
    site.page("/privacy/policy/printable/", meta_page(EDITED))
    edited = crawl()
    assert edited["new"] == 1 and edited["changes"] == 1
    site.page("/privacy/policy/printable/", meta_page(EDITED))
    rerun = crawl()
    assert rerun["same"] == 1 and rerun["changes"] == 0

    status = runner.invoke(app, ["status", "--db", common[3], "--json"])
    (row,) = json.loads(status.stdout)
    assert row == {
        "document": "fb",
        "kind": "policy",
        "last_fetch": row["last_fetch"],
        "outcome": "HTTP 200",
        "last_error": None,
        "error_detail": None,
        "failing_since": None,
        "failed_fetches": 0,
        "versions": 2,
        "held": 0,
        "changes": 1,
        "host": "127.0.0.1",
        "host_last_request": None,  # no crawl delay: no lease, nothing to keep apart
    }
    feed = feedparser.parse((tmp_path / "public" / "feed.atom").read_bytes())
    (entry,) = feed.entries
    assert "May 27, 2025 to June 16, 2025" in entry.title

    out2 = tmp_path / "public2"
    published = runner.invoke(
        app, ["publish", "--db", common[3], "--out", str(out2), "--base-url", "https://x.org/pw/"]
    )
    assert published.exit_code == 0, published.output
    assert (
        feedparser.parse((out2 / "feed.rss").read_bytes())
        .entries[0]
        .link.startswith("https://x.org/pw/changes/")
    )


@pytest.mark.usefixtures("prefect")
def test_crawl_where_every_fetch_fails_exits_3_and_status_says_since_when(
    site: FakeMeta, tmp_path: Path, db_url: str
) -> None:
    sources = write_sources(
        tmp_path / "sources.toml",
        [{"id": "gone", "url": site.url("/gone/")}, {"id": "down", "url": site.url("/down/")}],
    )
    db = db_url
    common = ["--sources", str(sources), "--db", db, "--out", str(tmp_path / "public")]
    site.page("/down/", "<h1>Internal error</h1>", status=500)  # /gone/ answers 404
    runner = CliRunner()
    first = runner.invoke(app, ["crawl", *common])
    assert first.exit_code == 3, first.output
    assert "every fetch failed (2 of 2)" in first.output
    assert "gone: " in first.output and "down: " in first.output and "500" in first.output
    second = runner.invoke(app, ["crawl", *common, "--json"])
    assert second.exit_code == 3
    rows = {
        r["document"]: r
        for r in json.loads(runner.invoke(app, ["status", "--db", db, "--json"]).stdout)
    }
    assert rows["down"]["failed_fetches"] == 2 and rows["down"]["last_error"]
    assert rows["down"]["failing_since"] < rows["down"]["last_fetch"]
    table = runner.invoke(app, ["status", "--db", db], env={"COLUMNS": "250"}).output
    assert "since" in table and "2 failed" in table

    site.page("/down/", meta_page(POLICY))  # one works: not every fetch failed
    assert runner.invoke(app, ["crawl", *common]).exit_code == 0


def test_version_option() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("policywatch ")


def test_every_command_shows_an_example_in_its_help() -> None:
    runner = CliRunner()
    for command in ("crawl", "serve", "publish", "status", "demo"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "policywatch" in result.output and (
            "Example" in result.output or "prefect" in result.output
        ), command


def test_an_error_line_shows_brackets_as_written(tmp_path: Path) -> None:
    """A file name or a TOML table in an error is text, not Rich markup to be eaten."""
    missing = tmp_path / "sources[old].toml"
    result = CliRunner().invoke(app, ["crawl", "--sources", str(missing)], env={"COLUMNS": "300"})
    assert result.exit_code == 2
    assert "sources[old].toml" in result.output
    plain = tmp_path / "plain.toml"
    plain.write_text(
        '[[document]]\nid = "a"\nservice = "s"\ntitle = "t"\nkind = "policy"\n'
        'url = "https://www.facebook.com/privacy/policy/"\n'
    )
    result = CliRunner().invoke(app, ["notify", "--sources", str(plain)], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "has no [[notify]] entries" in result.output
