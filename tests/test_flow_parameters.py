"""The monitor flow sends its run's parameters to Prefect as they are, when they are plain
JSON values, instead of through fastapi's encoder, which gives the same values and would
import fastapi into the command (decision 0018)."""

from __future__ import annotations

import datetime
import enum
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prefect import Flow

from flows.monitor import PlainParametersFlow, _plain_parameters_flow, monitor

ROOT = Path(__file__).resolve().parent.parent


class Colour(enum.Enum):
    RED = "red"


class Mode(enum.StrEnum):
    FAST = "fast"


PLAIN: list[dict[str, Any]] = [
    {},
    {"documents": None, "db": None, "sources": None, "out": None, "base_url": None},
    {"documents": ["a", "b.fr_FR"], "db": "sqlite:///x.db", "trigger": "scheduled"},
    {"n": 3, "ratio": 0.5, "yes": True, "nested": {"k": [1, "two", None, {"x": False}]}},
]
NOT_PLAIN: list[dict[str, Any]] = [
    {"documents": ("a", "b")},
    {"when": datetime.datetime(2026, 11, 24, 23, 0, tzinfo=datetime.UTC)},
    {"colour": Colour.RED},
    {"mode": Mode.FAST},
    {"path": Path("/tmp/x")},
    {"nested": {"when": datetime.date(2026, 11, 24)}},
    {"keys": {1: "one"}},
]


@pytest.mark.parametrize("parameters", PLAIN + NOT_PLAIN)
def test_the_monitor_sends_what_prefects_own_serializer_sends(parameters: dict[str, Any]) -> None:
    assert isinstance(monitor, PlainParametersFlow)
    assert monitor.serialize_parameters(parameters) == Flow.serialize_parameters(
        monitor, parameters
    )


def test_plain_parameters_are_copies_and_others_go_through_prefect() -> None:
    parameters = {"documents": ["a"]}
    sent = monitor.serialize_parameters(parameters)
    assert sent == parameters and sent["documents"] is not parameters["documents"]
    probe = (
        "import sys\n"
        "from flows.monitor import monitor\n"
        "monitor.serialize_parameters({'documents': ['a'], 'db': None, 'trigger': 'manual'})\n"
        "print('fastapi' in sys.modules)\n"
        "monitor.serialize_parameters({'documents': ('a',)})\n"
        "print('fastapi' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["False", "True"]


def test_the_monitor_keeps_its_name_for_deployments() -> None:
    """Deployments load it by its module path (flows/serving.py): flows.monitor.monitor."""
    assert (monitor.name, monitor.__name__, monitor.__module__) == (
        "monitor",
        "monitor",
        "flows.monitor",
    )


@_plain_parameters_flow(name="plain-parameters-probe")
def probe(documents: list[str] | None = None, db: str | None = None, n: int = 1) -> int:
    return n


@pytest.mark.usefixtures("prefect")
def test_a_flow_run_records_its_parameters_in_prefect() -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    assert probe(documents=["a", "b"], db=None, n=2) == 2
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=["plain-parameters-probe"]))
        )
    assert [run.parameters for run in runs] == [{"documents": ["a", "b"], "db": None, "n": 2}]
