"""Bad input, clear words: one line naming what is wrong and how to fix it, exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from tests.conftest import write_sources

POLICYWATCH = Path(sys.executable).with_name("policywatch")


def _sources(tmp: Path, **doc: object) -> Path:
    return write_sources(tmp / "sources.toml", [{"id": "d", "url": "https://a.example/", **doc}])


def _one_line_error(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_a_sources_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = _sources(tmp_path)
    path.write_bytes(path.read_bytes().replace(b'title = "D"', b'title = "Donn\xe9es"'))
    line = _one_line_error(["crawl", "--sources", str(path), "--db", f"sqlite:///{tmp_path}/x.db"])
    assert "not UTF-8" in line and "byte 0xe9" in line


def test_an_invalid_css_selector_names_the_document_and_field(tmp_path: Path) -> None:
    path = _sources(tmp_path, select=["div[["])
    line = _one_line_error(["crawl", "--sources", str(path), "--db", f"sqlite:///{tmp_path}/x.db"])
    assert "document 'd'" in line and "'select'" in line and "div[[" in line


def test_max_bytes_must_be_positive(tmp_path: Path) -> None:
    path = _sources(tmp_path)
    path.write_text(path.read_text().replace("[crawl]\n", "[crawl]\nmax_bytes = 0\n"))
    line = _one_line_error(["crawl", "--sources", str(path), "--db", f"sqlite:///{tmp_path}/x.db"])
    assert "max_bytes" in line and "more than 0" in line


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("not a url", "is not a database URL"),
        ("nosuchdb://host/x", "unknown database kind"),
        ("postgresql+psycopg2://u:p@localhost/pw", "pip install -e '.[postgres]'"),
    ],
)
def test_a_bad_db_url(url: str, words: str) -> None:
    assert words in _one_line_error(["status", "--db", url])


def test_a_folder_as_database(tmp_path: Path) -> None:
    assert "is a folder" in _one_line_error(["publish", "--db", f"sqlite:///{tmp_path}"])


def test_status_never_creates_a_database_or_folders(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "pw.db"
    assert "no database at" in _one_line_error(["status", "--db", f"sqlite:///{missing}"])
    assert not (tmp_path / "typo").exists()


def test_the_installed_command_prints_one_line_not_a_traceback(tmp_path: Path) -> None:
    run = subprocess.run(
        [str(POLICYWATCH), "status", "--db", "postgresql+psycopg2://u:p@localhost/pw"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "postgres" in run.stderr


@pytest.mark.parametrize("command", ["serve", "deploy"])
def test_an_unreachable_prefect_api_is_one_line(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{port}/api")
    args = [command, "--pool", "pw"] if command == "deploy" else [command, "--db", "sqlite://"]
    line = _one_line_error(args)
    assert f"no Prefect API answers at PREFECT_API_URL=http://127.0.0.1:{port}/api" in line
    assert "prefect server start" in line and "\\[" not in line  # printed literally, once
