"""`policywatch export`: git (Open Terms Archive layout) round-trips through `replay`;
JSON Lines and CSV hold changes and versions; hostile text stays data."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from cli.app import app
from storage.blobs import get_text
from storage.db import open_db
from storage.models import Change, Document, Version
from tests import factories
from tests.conftest import fresh_db_url

DATA = Path(__file__).resolve().parent.parent / "demo" / "data"
HISTORIES = {  # archive -> (document id, service, title, url)
    "facebook-terms-of-service-en": (
        "facebook-terms", "Facebook", "Facebook Terms of Service",
        "https://www.facebook.com/legal/terms",
    ),
    "facebook-privacy-policy-and-genai-en": (
        "facebook-genai-privacy", "Facebook", "Facebook: Privacy and generative AI",
        "https://www.facebook.com/privacy/genai",
    ),
}  # fmt: skip


TERMS = "Facebook/Terms of Service.md"


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def replay_into(db: str, archive: Path, doc: str, title: str, url: str, service: str,
                file: str | None = None) -> None:  # fmt: skip
    args = ["replay", str(archive), "--doc", doc, "--title", title, "--url", url]
    args += ["--service", service, "--db", db, "--no-publish", "--sources", "/nonexistent"]
    if file:
        args += ["--file", file]
    invoke(*args, "--json")


def history(db: str) -> tuple[set[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Accepted versions and changes, by content (ids differ between databases)."""
    with open_db(db)() as session:
        hashes = {v.id: v.text_hash for v in session.scalars(select(Version))}
        versions = {
            (v.document_id, v.text_hash, v.words, v.first_seen.replace(microsecond=0),
             v.effective_date)
            for v in session.scalars(select(Version).where(Version.state == "accepted"))
        }  # fmt: skip
        changes = [
            (c.document_id, hashes.get(c.from_version_id), hashes[c.to_version_id],
             c.detected_at.replace(microsecond=0), c.title, c.categories, c.summary,
             c.technical, c.alert, c.words_added, c.words_removed)
            for c in session.scalars(select(Change).order_by(Change.detected_at, Change.id))
        ]  # fmt: skip
    return versions, changes


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def test_a_git_export_replays_into_the_same_versions_and_changes(
    tmp_path: Path, db_url: str
) -> None:
    first = db_url
    for archive, (doc, service, title, url) in HISTORIES.items():
        replay_into(first, DATA / f"{archive}.tar.xz", doc, title, url, service)
    repo = tmp_path / "versions"
    done = invoke("export", str(repo), "--format", "git", "--db", first, "--json")
    assert json.loads(done.stdout)["documents"] == 2

    listing = json.loads((repo / "documents.json").read_text("utf-8"))
    assert set(listing) == {
        TERMS,
        "Facebook/Privacy and generative AI.md",
    }
    log = git(repo, "log", "--reverse", "--format=%aI %s", "--", TERMS)
    subjects = [line.split(" ", 1)[1] for line in log.splitlines()]
    assert subjects[0] == "First record of Facebook Terms of Service"
    assert "Apply technical or declaration upgrade on Facebook Terms of Service" in subjects
    assert (repo / "ATTRIBUTION.md").is_file()  # archived data keeps its ODC-BY attribution

    (tmp_path / "second").mkdir()
    with fresh_db_url(tmp_path / "second") as second:
        for path, doc in listing.items():
            replay_into(second, repo, doc["id"], doc["title"], doc["url"], doc["service"], path)
        before, after = history(first), history(second)
    assert after[0] == before[0]
    assert after[1] == before[1]
    # a re-extraction made the trip: technical, or one that also carried news (0013 §15)
    assert any(change[7] or "additions_only" in change[6] for change in before[1])
    with open_db(first)() as session:
        dates = [c.detected_at.replace(microsecond=0) for c in session.scalars(
            select(Change).where(Change.document_id == "facebook-terms")
            .order_by(Change.detected_at))]  # fmt: skip
    commit_dates = [line.split(" ", 1)[0] for line in log.splitlines()[1:]]
    assert commit_dates == [d.isoformat() for d in dates]


def hostile_db(url: str) -> str:
    with open_db(url)() as session:
        factories.add_document(session, "fb", "Facebook Privacy Policy")
        old, new = "We collect data. " * 5, "We collect data and train AI. " * 5
        v1 = factories.add_version(session, "fb", old, factories.T1)
        v2 = factories.add_version(session, "fb", new, factories.T2, effective="June 26, 2024")
        summary = {"bases": [{"action": "added", "basis": "legitimate-interests",
                              "purpose": "=HYPERLINK(\"https://evil.example\")"}]}  # fmt: skip
        factories.add_change(
            session,
            v1,
            v2,
            old,
            new,
            factories.T2,
            '=cmd|" /c calc"!A0',
            ["legal-basis", "ai"],
            summary,
        )
        session.commit()
    return url


def test_jsonl_and_csv_hold_changes_with_claims_and_versions(tmp_path: Path, db_url: str) -> None:
    url = hostile_db(db_url)
    out = tmp_path / "tables"
    invoke("export", str(out), "--format", "jsonl", "--db", url, "--with-text",
           "--base-url", "https://x.org/pw/")  # fmt: skip
    (change,) = [json.loads(line) for line in (out / "changes.jsonl").read_text().splitlines()]
    assert change["title"] == '=cmd|" /c calc"!A0'  # JSON keeps the text as it is
    assert change["categories"] == ["legal-basis", "ai"]
    assert change["claims"][0]["basis"] == "legitimate-interests"
    assert change["effective_date"] == "June 26, 2024"
    assert change["detected_at"] == factories.T2.isoformat()
    assert change["url"] == f"https://x.org/pw/changes/{change['id']}.html"
    versions = [json.loads(line) for line in (out / "versions.jsonl").read_text().splitlines()]
    assert [v["text"].split(".")[0] for v in versions] == [
        "We collect data",
        "We collect data and train AI",
    ]

    invoke("export", str(out), "--format", "csv", "--db", url)
    with (out / "changes.csv").open(newline="", encoding="utf-8") as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["title"] == '\'=cmd|" /c calc"!A0'  # a spreadsheet shows it, never runs it
    assert row["categories"] == "legal-basis;ai"
    assert json.loads(row["claims"])[0]["purpose"].startswith("=HYPERLINK")
    with (out / "versions.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and "text" not in rows[0] and rows[1]["effective_date"] == "June 26, 2024"


def test_export_refuses_bad_input_with_one_line(tmp_path: Path, db_url: str) -> None:
    runner = CliRunner()
    url = hostile_db(db_url)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    cases = [
        (["export", str(tmp_path / "o"), "--format", "xml", "--db", url], "--format must be"),
        (["export", str(tmp_path / "full"), "--db", url], "is not an empty folder"),
        (["export", str(tmp_path / "o"), "--db", f"sqlite:///{tmp_path / 'none.db'}"],
         "no database at"),
    ]  # fmt: skip
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "none.db").exists()


def test_every_new_command_shows_an_example_in_its_help() -> None:
    for command in ("export", "notify", "add", "sources"):
        result = CliRunner().invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Example" in result.output
        assert f"policywatch {command}" in result.output


def test_document_paths_follow_the_open_terms_archive_layout() -> None:
    from export.git import document_paths

    docs = [
        Document(id="a", service="Facebook", title="Facebook Privacy Policy"),
        Document(id="a.fr_FR", service="Facebook", title="Facebook Privacy Policy [fr_FR]"),
        Document(id="b", service="Meta", title="Meta: AI / terms?"),
        Document(id="c", service="Meta", title="AI   terms"),
    ]
    assert document_paths(docs) == {
        "a": "Facebook/Privacy Policy.md",
        "a.fr_FR": "Facebook/Privacy Policy [fr_FR].md",
        "b": "Meta/AI terms.md",
        "c": "Meta/AI terms (c).md",
    }


def test_the_site_offers_every_archived_text_as_markdown(tmp_path: Path, db_url: str) -> None:
    url = hostile_db(db_url)
    with open_db(url)() as session:
        texts = {v.id: get_text(session, v.text_blob) for v in session.scalars(select(Version))}
    for build in ("first", "second"):  # the second publish reuses the first one's files
        out = tmp_path / "public"
        invoke("publish", "--db", url, "--out", str(out))
        for version_id in texts:
            page = (out / "versions" / f"{version_id}.html").read_text("utf-8")
            assert f'href="{version_id}.md" download' in page, build
            markdown = (out / "versions" / f"{version_id}.md").read_text("utf-8")
            assert markdown == texts[version_id], build
