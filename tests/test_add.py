"""`policywatch add` and `policywatch sources` against a local HTTP server."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli.app import app
from config.sources import load_sources
from demo.pages import meta_page
from demo.server import FakeMeta

POLICY = "# Privacy and generative AI\n\n" + "We use your public posts to train AI. " * 40
HEADER = """# The documents policywatch tracks (a comment that must survive `add`).

[crawl]
download_delay = 0.0 # seconds
timeout = 5.0

[[document]]
id = "existing"
service = "Facebook"
title = "Existing policy"
kind = "policy"
url = "https://www.facebook.com/privacy/policy/"  # the fetched URL
"""


def sources_file(tmp_path: Path) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(HEADER, encoding="utf-8")
    return path


def run(*args: str) -> object:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_add_shows_the_text_and_appends_an_entry_keeping_the_comments(
    site: FakeMeta, tmp_path: Path
) -> None:
    path = sources_file(tmp_path)
    site.page("/privacy/genai", meta_page(POLICY, title="Privacy and generative AI"))
    url = site.url("/privacy/genai")
    result = run("add", url, "--id", "genai", "--select", "#root", "--sources", str(path))
    assert result.exit_code == 0, result.output
    assert "Privacy and generative AI" in result.output  # the first lines of the kept text
    assert "words" in result.output and "added genai" in result.output
    assert site.hits == {"/privacy/genai": 1}  # fetched once

    text = path.read_text("utf-8")
    assert text.startswith(HEADER)  # comments and layout as they were
    added = {d.id: d for d in load_sources(path).documents}["genai"]
    assert (added.url, added.select, added.render) == (url, ("#root",), "http")
    assert added.title == "Privacy and generative AI | Facebook"  # the page's title
    listed = json.loads(run("sources", "--sources", str(path), "--json").stdout)
    assert [d["id"] for d in listed["documents"]] == ["existing", "genai"]
    assert [d["profile"] for d in listed["documents"]] == ["default", "default"]

    meta = run(
        "add",
        url,
        "--id",
        "genai-meta",
        "--select",
        "#root",
        "--profile",
        "meta",
        "--sources",
        str(path),
    )
    assert meta.exit_code == 0, meta.output
    assert {d.id: d for d in load_sources(path).documents}["genai-meta"].profile == "meta"


def test_add_reports_the_failure_and_adds_nothing(site: FakeMeta, tmp_path: Path) -> None:
    path = sources_file(tmp_path)
    site.page("/genai", meta_page(POLICY))
    site.page("/login", "<form><input type=password> Log in to Facebook</form>")
    site.redirect("/moved", site.url("/genai", host="localhost"))  # another host
    cases = {
        "/genai": (["--select", "#nothing-here"], "selector-not-found"),
        "/login": ([], "login-wall"),
        "/missing": ([], "http-4xx"),
        "/moved": ([], "offsite-redirect"),
    }
    for page, (extra, failure) in cases.items():
        result = run("add", site.url(page), "--id", "x", *extra, "--sources", str(path), "--json")
        assert result.exit_code == 1, (page, result.output)
        report = json.loads(result.stdout)
        assert report["failure"] == failure and report["added"] is False, page
    assert path.read_text("utf-8") == HEADER
    assert site.hits.get("/genai") == 1  # the other host was never asked for it
    forced = run("add", site.url("/missing"), "--id", "x", "--force", "--sources", str(path))
    assert forced.exit_code == 0 and "x" in {d.id for d in load_sources(path).documents}


def test_add_refuses_bad_input_before_fetching(site: FakeMeta, tmp_path: Path) -> None:
    path = sources_file(tmp_path)
    site.page("/p", meta_page(POLICY))
    cases = [
        (["add", site.url("/p"), "--id", "existing"], "id used twice"),
        (["add", site.url("/p"), "--id", "Bad Id"], "field 'id' may use only"),
        (["add", "ftp://example.org/x", "--id", "y"], "must be an http(s) URL"),
        (["add", site.url("/p"), "--id", "y", "--select", "##"], "not a valid CSS selector"),
        (["add", site.url("/p"), "--id", "y", "--render", "magic"], "field 'render'"),
        (["add", site.url("/p"), "--id", "y", "--profile", "nope"], "unknown noise profile"),
    ]
    for args, message in cases:
        result = run(*args, "--sources", str(path))
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output, args
    assert site.hits == {} and path.read_text("utf-8") == HEADER
