"""Noise profiles per source: sources.toml names one (``profile = "<name>"``), its file in a
profiles folder holds the site's chrome, the document row keeps it, and every change derived
for the document is classified under it. Real spider, flow and database, local server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.app import app
from config.noise import PROFILES_ENV, profile_names
from config.sources import SourcesError, parse_sources
from demo.server import FakeMeta
from flows.monitor import monitor
from storage.db import open_db
from storage.models import Change, Document
from tests.conftest import write_sources

FILLER = " ".join(f"word{i}" for i in range(200))
CHROME = "Rate this page: helpful or not?"  # chrome of the test site only, not of `default`


def page(*paragraphs: str) -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<html><body><div id='root'><h1>Privacy Policy</h1>{body}</div></body></html>"


PLAIN = page("We process information to provide the service.", FILLER)
WITH_CHROME = page("We process information to provide the service.", CHROME, FILLER)
EDITED = page("We process information to provide and improve the service.", CHROME, FILLER)
EDITED_PLAIN = page("We process information to provide and improve the service.", FILLER)

PROFILE = """# the test site's chrome
text = ['rate this page: helpful or not\\??']

[[case]]
source = "test"
line = "Rate this page: helpful or not?"
chrome = true
"""


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of profile files (POLICYWATCH_PROFILES) holding ``testsite.toml``."""
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "testsite.toml").write_text(PROFILE, encoding="utf-8")
    monkeypatch.setenv(PROFILES_ENV, str(folder))
    return folder


def _alerts(db: str) -> dict[str, list[bool]]:
    with open_db(db)() as s:
        found: dict[str, list[bool]] = {}
        for change in s.scalars(select(Change).order_by(Change.id)):
            found.setdefault(change.document_id, []).append(change.alert)
        return found


@pytest.mark.usefixtures("prefect")
def test_chrome_named_by_a_sites_profile_file_never_alerts_where_default_does(
    tmp_path: Path, site: FakeMeta, db_url: str, profiles: Path
) -> None:
    sources = tmp_path / "sources.toml"
    write_sources(
        sources,
        [
            {"id": "own", "url": site.url("/own/"), "profile": "testsite"},
            {"id": "plain", "url": site.url("/plain/")},
        ],
    )

    def crawl(html: str) -> None:
        site.page("/own/", html)
        site.page("/plain/", html)
        monitor(db=db_url, sources=str(sources), out=str(tmp_path / "public"))

    crawl(PLAIN)
    with open_db(db_url)() as s:
        stored = {d.id: d.profile for d in s.scalars(select(Document))}
    assert stored == {"own": "testsite", "plain": "default"}

    crawl(WITH_CHROME)  # the chrome line appears
    crawl(EDITED)  # a real edit beside it
    crawl(EDITED_PLAIN)  # the chrome line vanishes (a text not seen before: no flip back)
    alerts = _alerts(db_url)
    assert alerts["own"] == [False, True, False]  # the chrome is stored, never alerted
    assert alerts["plain"] == [True, True, True]  # the same edits alert under `default`
    with open_db(db_url)() as s:
        mine = select(Change).where(Change.document_id == "own").order_by(Change.id)
        titles = [c.title for c in s.scalars(mine)]
        assert "Rate this page" not in titles[1] and "provide and improve" in titles[1], titles


def test_a_profile_file_is_found_in_the_profiles_folder(profiles: Path) -> None:
    assert {"default", "meta", "testsite"} <= set(profile_names())
    entry = '[[document]]\nid = "x"\nservice = "S"\ntitle = "T"\nkind = "policy"\n'
    entry += 'url = "https://x.example/"\nprofile = "testsite"\nlocales = ["fr_FR"]\n'
    entry += 'locale_url = "https://x.example/{lang}/"\n'
    docs = parse_sources(entry).documents
    assert [(d.id, d.profile) for d in docs] == [("x", "testsite"), ("x.fr_FR", "testsite")]


GOOD = """[[document]]
id = "fb"
service = "Facebook"
title = "Facebook Privacy Policy"
kind = "policy"
url = "https://mbasic.facebook.com/privacy/policy/printable/"
profile = "meat"
"""


def test_an_unknown_profile_is_one_line_naming_the_document_and_the_known_ones(
    tmp_path: Path,
) -> None:
    with pytest.raises(SourcesError) as info:
        parse_sources(GOOD)
    message = str(info.value)
    assert message == (
        "document 'fb' (#1): field 'profile': unknown noise profile 'meat'; "
        f"known: {', '.join(profile_names())}"
    )
    assert "default" in message and "meta" in message
    assert parse_sources(GOOD.replace("meat", "meta")).documents[0].profile == "meta"
    assert parse_sources(GOOD.replace('profile = "meat"\n', "")).documents[0].profile == "default"

    bad = tmp_path / "sources.toml"
    bad.write_text(GOOD, encoding="utf-8")
    result = CliRunner().invoke(app, ["crawl", "--sources", str(bad), "--db", "sqlite://"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {bad}: {message}"]


def test_a_broken_profile_file_is_a_sources_error(profiles: Path) -> None:
    (profiles / "broken.toml").write_text("text = ['(unclosed']\n", encoding="utf-8")
    with pytest.raises(SourcesError, match=r"field 'profile': .*broken.toml.*is not a regex"):
        parse_sources(GOOD.replace("meat", "broken"))


def test_a_replay_classifies_under_the_documents_profile(db_url: str) -> None:
    """The shipped `meta` profile: a line of help-centre links appearing in a replayed
    history is chrome for a Meta document, news for a document on `default`."""
    from datetime import UTC, datetime

    from config.documents import DocumentSpec
    from pipeline.archive import ArchivedVersion
    from pipeline.replay import replay

    body = "# Privacy Policy\n\nWe process information to provide the service.\n\n" + FILLER
    links = "* [How to manage your settings](https://www.facebook.com/help/1234567890)"
    history = [
        ArchivedVersion(datetime(2025, 1, 1, tzinfo=UTC), body + "\n"),
        ArchivedVersion(datetime(2025, 2, 1, tzinfo=UTC), f"{body}\n\n{links}\n"),
    ]
    for doc_id, profile in (("meta-doc", "meta"), ("plain-doc", "default")):
        spec = DocumentSpec(
            doc_id, "Facebook", "Policy", "policy", "https://www.facebook.com/privacy/policy/",
            None, "en_US", "http", (), (), profile=profile,
        )  # fmt: skip
        replay(db_url, spec, history)
    assert _alerts(db_url) == {"meta-doc": [False], "plain-doc": [True]}
