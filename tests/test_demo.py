"""The demo replays real history through the real spider and flow; its feeds hold the AI changes."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from rich.console import Console

from demo.run import run_demo


@pytest.mark.usefixtures("prefect")
def test_demo_feeds_hold_the_2024_and_2025_ai_changes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    console = Console(record=True, width=120)
    base = "https://demo.example.org/pw/"
    assert run_demo(tmp_path, console, limit=6, base_url=base) == 0
    out = tmp_path / "public"
    atom = feedparser.parse((out / "feed.atom").read_bytes())
    rss = feedparser.parse((out / "feed.rss").read_bytes())
    assert not atom.bozo and not rss.bozo
    # steps 2 and 5 only rotate link tokens: 6 steps, 3 changes
    assert len(atom.entries) == len(rss.entries) == 3
    pages = [
        (out / "changes" / e.link.rsplit("/", 1)[-1]).read_text(encoding="utf-8")
        for e in atom.entries
    ]
    assert any("Provide and curate" in p for p in pages)  # June 2024
    assert any("Develop and improve" in p for p in pages)  # May 2025
    # crawled from Meta-shaped HTML, both AI events read as legal-basis + ai, as in a replay
    legal_ai = [e.title for e in atom.entries if {"legal-basis", "ai"} <= {t.term for t in e.tags}]
    assert any("Provide and curate artificial intelligence technology" in t for t in legal_ai)
    assert any(
        "Develop and improve AI at Meta" in t and "legitimate interests" in t for t in legal_ai
    )
    text = console.export_text()
    assert "same text" in text and str(out / "index.html") in text
    assert (out / "index.html").is_file()
    # dated as recorded, not as replayed: June 2024 and May 2025, not today
    years = sorted(e.updated_parsed[:2] for e in atom.entries)
    assert years[0][0] == 2024 and years[-1][:2] == (2025, 5), years
    assert all(e.link.startswith(base + "changes/") for e in atom.entries)  # --base-url
    # link health shows working: the stand-in's form, unavailable page and login wall
    links = (out / "links.html").read_text(encoding="utf-8")
    for outcome in ("form", "unavailable", "login-required"):
        assert f'class="health health-{outcome}"' in links or f">{outcome}<" in links, outcome
    # links it leaves unchecked on purpose: one summary line, no warnings
    assert "left unchecked on purpose" in text
    assert not [r for r in caplog.records if "not checked" in r.getMessage() and r.levelno >= 30]
