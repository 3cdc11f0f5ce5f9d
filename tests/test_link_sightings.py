"""Re-sighting opt-out links: a document whose text did not change is only seen again (in
bulk, its text not read); a changed text is read, and links it no longer has are gone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from config.run import RunConfig, sources_of
from pipeline import link_checks
from storage.db import open_db
from storage.history import set_current
from storage.models import Link, LinkSighting
from tests.conftest import write_sources
from tests.factories import T1, add_version, start_run

TEXT = (
    "# Privacy Policy\n\n"
    "You can [object to this](https://www.facebook.com/help/contact/123) at any time.\n\n"
    "To opt out of ads, [use this form](https://www.facebook.com/help/contact/456) to object.\n"
)
EDITED = (
    "# Privacy Policy\n\n"
    "You can [object to that](https://www.facebook.com/help/contact/123) at any time.\n"
)


def sightings(db_url: str) -> dict[str, tuple[bool, str, object, object]]:
    with open_db(db_url)() as s:
        rows = s.execute(select(LinkSighting, Link).join(Link)).all()
        return {
            link.url.rsplit("/", 1)[1]: (row.present, row.anchor, row.last_seen, link.last_seen)
            for row, link in rows
        }


def test_unchanged_texts_are_seen_again_in_bulk_and_changed_ones_read(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = write_sources(
        tmp_path / "sources.toml",
        [
            {"id": "policy", "url": "https://www.facebook.com/privacy/policy/"},
            {"id": "other", "url": "https://www.facebook.com/terms/"},
        ],
    )
    cfg = RunConfig(db_url, str(sources))
    start_run(cfg)
    read: list[str] = []
    real = link_checks.optout_links

    def counted(text: str, lang: str) -> object:
        read.append(text)
        return real(text, lang)

    monkeypatch.setattr(link_checks, "optout_links", counted)

    def sight(at: object, text: str | None = None) -> int:
        with open_db(db_url).begin() as s:
            if text is not None:
                set_current(s, "policy", add_version(s, "policy", text, T1).id)
            return link_checks.sight_links(s, sources_of(cfg), at)  # type: ignore[arg-type]

    assert sight(T1, TEXT) == 2 and len(read) == 1
    first = sightings(db_url)
    assert {k: v[:2] for k, v in first.items()} == {
        "123": (True, "object to this"),
        "456": (True, "use this form"),
    }

    later = T1 + timedelta(hours=6)
    assert sight(later) == 2
    assert len(read) == 1  # not read again: the same version
    again = sightings(db_url)
    assert all(row[2] == later and row[3] == later for row in again.values())
    assert {k: v[:2] for k, v in again.items()} == {k: v[:2] for k, v in first.items()}

    latest = later + timedelta(hours=6)
    assert sight(latest, EDITED) == 1 and len(read) == 2
    edited = sightings(db_url)
    assert edited["123"][:3] == (True, "object to that", latest)
    assert edited["456"][0] is False and edited["456"][2] == later  # gone, last seen before
