"""Shared fixtures: a local stand-in for Meta, a sources file for it, one Prefect harness."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from demo.server import FakeMeta  # noqa: E402


@pytest.fixture(scope="session")
def prefect() -> Iterator[None]:
    """One temporary Prefect API for the whole session (it costs ~17 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def site() -> Iterator[FakeMeta]:
    with FakeMeta() as fake:
        yield fake


def write_sources(
    path: Path, docs: list[dict[str, object]], timeout: float = 3.0, min_words: int = 30
) -> Path:
    """A sources.toml for documents served by the local stand-in."""
    lines = [
        "[crawl]",
        "download_delay = 0.0",
        f"timeout = {timeout}",
        f"min_words = {min_words}",
        "",
    ]
    for doc in docs:
        lines.append("[[document]]")
        entry = {"service": "Test", "kind": "policy", "select": ["#root"], **doc}
        entry.setdefault("title", str(entry["id"]).replace("-", " ").title())
        for key, value in entry.items():
            if isinstance(value, list):
                lines.append(f"{key} = [{', '.join(repr(v) for v in value)}]")
            else:
                lines.append(f"{key} = {value!r}")
        lines.append("")
    path.write_text("\n".join(lines).replace("'", '"'), encoding="utf-8")
    return path
