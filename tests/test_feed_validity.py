"""Feeds as readers get them: valid Atom (RFC 4287 RELAX NG schema, checked by jing, and
feedparser), an atom:author, titles of at most ~140 characters, entry text that marks
insertions and deletions in the text itself, and ids no other installation shares.

jing is Debian's (``make test`` installs it: scripts/install-feed-tools.sh); the schema,
tests/schemas/atom.rnc, is ours, written from the RFC.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from sqlalchemy.orm import Session

from feeds.publish import publish
from storage.db import open_db
from tests.conftest import fresh_db_url
from tests.factories import T1, T2, add_change, add_document, add_version

SCHEMA = Path(__file__).parent / "schemas" / "atom.rnc"
ATOM = "{http://www.w3.org/2005/Atom}"
BASE = "https://news.example.org/policywatch/"
OLD = "Effective April 7, 2025. We rely on consent to show you ads."
NEW = "Effective May 27, 2025. We rely on legitimate interests to show you ads <b>now</b>."
LONG_TITLE = "Facebook Privacy Policy: " + "legal basis changed for one more purpose, " * 10


def jing() -> str:
    found = shutil.which("jing")
    if found is None:
        pytest.fail("no jing: run `bash scripts/install-feed-tools.sh` (make test does)")
    return found


def build(session: Session, out: Path, base: str = BASE) -> None:
    add_document(session, "fb-privacy", "Facebook Privacy Policy")
    v1 = add_version(session, "fb-privacy", OLD, T1, "April 7, 2025")
    v2 = add_version(session, "fb-privacy", NEW, T2, "May 27, 2025")
    add_change(session, v1, v2, OLD, NEW, T2, LONG_TITLE, ["legal-basis", "dates"])
    session.commit()
    publish(session, out, base, site_title="Privacy watch")


def test_every_atom_feed_is_valid_rfc4287(tmp_path: Path, db_url: str) -> None:
    out = tmp_path / "public"
    with open_db(db_url)() as session:
        build(session, out)
    atoms = sorted(out.rglob("*.atom"))
    assert len(atoms) == 4  # all changes, one document, two categories
    result = subprocess.run(
        [jing(), "-c", str(SCHEMA), *map(str, atoms)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for path in atoms:
        root = etree.parse(str(path)).getroot()
        # RFC 4287 4.1.1, which no schema can say: an author on the feed or on every entry
        assert root.find(f"{ATOM}author/{ATOM}name") is not None
        for entry in root.iter(f"{ATOM}entry"):
            assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Privacy watch"
        parsed = feedparser.parse(path.read_bytes())
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        assert parsed.feed.author == "Privacy watch"


def test_the_schema_rejects_what_rfc4287_forbids(tmp_path: Path, db_url: str) -> None:
    out = tmp_path / "public"
    with open_db(db_url)() as session:
        build(session, out)
    good = (out / "feed.atom").read_text()
    broken = {
        "no-id.atom": re.sub(r"<id>[^<]*</id>", "", good, count=2),
        "bad-date.atom": good.replace("<updated>2024", "<updated>June 2024", 1),
        "no-title.atom": re.sub(r"<title>[^<]*</title>", "", good, count=1),
    }
    for name, body in broken.items():
        (tmp_path / name).write_text(body)
        result = subprocess.run(
            [jing(), "-c", str(SCHEMA), str(tmp_path / name)], capture_output=True, text=True
        )
        assert result.returncode != 0, name


def test_entries_read_right_in_text_only_readers(tmp_path: Path, db_url: str) -> None:
    out = tmp_path / "public"
    with open_db(db_url)() as session:
        build(session, out)
    for name in ("feed.atom", "feed.rss"):
        (entry,) = feedparser.parse((out / name).read_bytes()).entries
        assert len(entry.title) <= 140 and entry.title.endswith("\u2026")
        assert entry.title.startswith("Facebook Privacy Policy: legal basis changed")
        html = entry.content[0].value if name.endswith("atom") else entry.description
        plain = re.sub(r"<[^>]+>", "", html)  # what a reader that drops every tag shows
        assert "Effective [-April 7-]{+May 27+}, 2025." in plain, plain  # not "April 7May 27"
        assert "[-consent-]{+legitimate interests+}" in plain
        assert "&lt;b&gt;now&lt;/b&gt;" in plain  # crawled markup stays text
        assert "<del>[-consent-]</del>" in html and "<ins>{+legitimate interests+}</ins>" in html
        assert "[-like this-]" in plain  # the legend says what the marks mean


def test_two_installations_never_share_an_id(tmp_path: Path, db_url: str) -> None:
    ids = []
    (tmp_path / "db-b").mkdir()
    with fresh_db_url(tmp_path / "db-b") as other:
        for name, url in (("a", db_url), ("b", other)):
            with open_db(url)() as session:
                build(session, tmp_path / name, "http://localhost:8000/")
            parsed = feedparser.parse((tmp_path / name / "feed.atom").read_bytes())
            ids.append({parsed.feed.id, *(e.id for e in parsed.entries)})
            assert all(i.startswith("tag:localhost,20") for i in ids[-1])
    assert not ids[0] & ids[1]
    with open_db(db_url)() as session:  # moved: same ids for ever
        publish(session, tmp_path / "moved", "https://elsewhere.example/", site_title="x")
    moved = feedparser.parse((tmp_path / "moved" / "feed.atom").read_bytes())
    assert {moved.feed.id, *(e.id for e in moved.entries)} == ids[0]
