"""`policywatch replay`: archived histories (dated Markdown, git, corpus archives) become
versions and changes dated as recorded, through the same steps as a crawl; feeds follow."""

from __future__ import annotations

import io
import json
import os
import subprocess
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.app import app
from config.documents import DocumentSpec
from pipeline.archive import ArchiveError, read_archive
from pipeline.versions import apply_text
from storage.db import open_db
from storage.models import Change, Document, Version
from storage.repo import sync_documents

FILLER = "\n\n".join(f"We describe practice number {i} in plain words." for i in range(30))
V1 = (
    "Privacy Policy\n\nEffective May 1, 2025\n\n"
    f"{FILLER}\n\nLegitimate interests\n--------------------\n\n"
    "We rely on our legitimate interests or the legitimate interests of a third party.\n\n"
    "| ### Why and how we process your information | ### Legitimate interests relied on |\n"
    "| --- | --- |\n| Providing measurement: we count people. | In our interest. |\n\n"
    "You can [object](https://www.facebook.com/help/contact/367438723733209?h=AT1) to it.\n"
)
V2 = V1.replace("Effective May 1, 2025", "Effective May 27, 2025").replace(
    "| Providing measurement: we count people. | In our interest. |",
    "| Providing measurement: we count people. | In our interest. |\n"
    "| Develop and improve AI at Meta on Meta Products. | In our interest. |",
)
V2_TOKENS = V2.replace("h=AT1", "h=AT9")  # the same text, a rotated link token

ARGS = ["--title", "Test Policy", "--url", "https://www.facebook.com/privacy/policy/"]


def run(tmp_path: Path, db: str, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(
        app,
        ["replay", *args, "--db", db, "--out", str(tmp_path / "public"), "--json"],
        env={"POLICYWATCH_SOURCES": str(tmp_path / "none.toml")},
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def changes(db: str) -> list[Change]:
    with open_db(db)() as session:
        return list(session.scalars(select(Change).order_by(Change.id)))


def test_a_folder_of_dated_markdown_is_replayed_dated_as_recorded(
    tmp_path: Path, db_url: str
) -> None:
    folder = tmp_path / "history"
    folder.mkdir()
    (folder / "2025-05-01.md").write_text(V1)
    (folder / "2025-05-28T00-30-56.md").write_text(V2)
    (folder / "2025-06-01T06-00.md").write_text(V2_TOKENS)
    (folder / "notes.json").write_text("{}")  # not a version: ignored
    report = run(tmp_path, db_url, str(folder), "--doc", "test-policy", *ARGS)
    assert report["versions"] == 3 and report["new"] == 2 and report["same"] == 1
    assert report["changes"] == 1 and report["alerts"] == 1
    (change,) = changes(db_url)
    assert change.detected_at == datetime(2025, 5, 28, 0, 30, 56, tzinfo=UTC)
    assert change.categories == ["text", "legal-basis", "dates", "ai"]
    assert "now relies on legitimate interests" in change.title

    # the category feeds carry it, and its entry shows the summary above the diff
    atom = feedparser.parse((tmp_path / "public" / "categories" / "legal-basis.atom").read_bytes())
    (entry,) = atom.entries
    assert entry.title == change.title
    assert {t.term for t in entry.tags} == {"text", "legal-basis", "ai", "dates"}
    content = entry.content[0].value
    assert "Added: legitimate interests for \u201cDevelop and improve AI at Meta" in content
    assert content.index("Legal bases") < content.index("<ins")
    assert entry.updated.startswith("2025-05-28")
    for category in ("ai", "dates"):
        feed = tmp_path / "public" / "categories" / f"{category}.atom"
        assert len(feedparser.parse(feed.read_bytes()).entries) == 1


def test_replaying_a_history_twice_adds_nothing(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "history"
    folder.mkdir()
    (folder / "2025-05-01.md").write_text(V1)
    (folder / "2025-05-28T00-30-56.md").write_text(V2)
    first = run(tmp_path, db_url, str(folder), "--doc", "test-policy", *ARGS)
    again = run(tmp_path, db_url, str(folder), "--doc", "test-policy", *ARGS)
    assert first["changes"] == 1 and again["changes"] == 0 and again["known"] == 2
    assert len(changes(db_url)) == 1
    with open_db(db_url)() as session:
        assert len(list(session.scalars(select(Version)))) == 2
    # a later record of the same archive is still applied
    (folder / "2025-06-02.md").write_text(V1)
    later = run(tmp_path, db_url, str(folder), "--doc", "test-policy", *ARGS)
    assert later["known"] == 2 and later["changes"] == 1


def _git(repo: Path, *args: str, date: str | None = None) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "OTA", "GIT_AUTHOR_EMAIL": "ota@example.org"}
    env |= {"GIT_COMMITTER_NAME": "OTA", "GIT_COMMITTER_EMAIL": "ota@example.org"}
    if date:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


def test_a_git_history_skips_the_archives_technical_commits(tmp_path: Path, db_url: str) -> None:
    repo = tmp_path / "versions"
    repo.mkdir()
    _git(repo, "init", "-q")
    doc = repo / "Facebook" / "Privacy Policy.md"
    doc.parent.mkdir()
    steps = [
        (V1, "First record of Facebook Privacy Policy", "2025-05-01T00:00:00+00:00"),
        (
            V1 + "\n[Play Video](https://x/v)\n",
            "Apply technical or declaration upgrade on Facebook Privacy Policy",
            "2025-05-10T00:00:00+00:00",
        ),
        (V2, "Record new changes of Facebook Privacy Policy", "2025-05-28T00:30:00+00:00"),
        (V2_TOKENS, "Refilter Facebook Privacy Policy", "2025-06-01T00:00:00+00:00"),
    ]
    for text, message, date in steps:
        doc.write_text(text)
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "--allow-empty", "-m", message, date=date)
    versions = read_archive(repo, "Facebook/Privacy Policy.md")
    assert [v.technical for v in versions] == [False, True, False, True]
    report = run(
        tmp_path, db_url, str(repo), "--file", "Facebook/Privacy Policy.md", "--doc", "fb", *ARGS
    )
    assert report["changes"] == 2 and report["technical"] == 1 and report["alerts"] == 1
    technical, news = changes(db_url)
    assert technical.technical and not technical.alert
    assert news.alert and news.detected_at.date().isoformat() == "2025-05-28"


def test_a_corpus_archive_marks_technical_versions(tmp_path: Path) -> None:
    archive = tmp_path / "doc.tar.xz"
    rows = [
        ("2025-05-28T00:30:56+00:00", "record", "b.md", V2),
        ("2025-05-01T00:00:00+00:00", "first", "a.md", V1),  # the index need not be sorted
        ("2025-06-01T00:00:00+00:00", "technical", "c.md", V2_TOKENS),
    ]
    with tarfile.open(archive, "w:xz") as tar:
        index = "recorded_at\tcommit\tkind\tfile\n"
        index += "".join(f"{at}\tabc\t{kind}\t{name}\n" for at, kind, name, _ in rows)
        for name, data in [("index.tsv", index), *((f"versions/{r[2]}", r[3]) for r in rows)]:
            info = tarfile.TarInfo(name)
            info.size = len(data.encode())
            tar.addfile(info, io.BytesIO(data.encode()))
    versions = read_archive(archive)
    assert [v.origin for v in versions] == ["a.md", "b.md", "c.md"]
    assert [v.technical for v in versions] == [False, False, True]


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (None, ["missing.tar.xz", "--doc", "d", *ARGS], "no such file"),
        ("undated", ["history", "--doc", "d", *ARGS], "does not start with a date"),
        ("git", ["repo", "--doc", "d", *ARGS], "name the document's file"),
        ("dated", ["history", "--doc", "unknown"], "give --title and --url"),
        ("dated", ["history", "--doc", "d", "--title", "T", "--url", "ftp://x"], "http(s) URL"),
    ],
)
def test_bad_input_is_a_clear_error_and_exit_2(
    tmp_path: Path,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    setup: str | None,
    args: list[str],
    message: str,
) -> None:
    if setup in ("undated", "dated"):
        (tmp_path / "history").mkdir()
        name = "policy.md" if setup == "undated" else "2025-01-01.md"
        (tmp_path / "history" / name).write_text(V1)
    if setup == "git":
        (tmp_path / "repo").mkdir()
        _git(tmp_path / "repo", "init", "-q")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app,
        ["replay", *args, "--db", db_url, "--no-publish"],
        env={"POLICYWATCH_SOURCES": str(tmp_path / "none.toml")},
    )
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_read_archive_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(ArchiveError, match="not a .tar.xz archive"):
        read_archive(tmp_path / "a.txt")


def test_crawled_and_replayed_texts_share_one_history_function(tmp_path: Path, db_url: str) -> None:
    """A -> B -> A through apply_text: the return is a transition that knows A was recent."""
    sessions = open_db(db_url)
    spec = DocumentSpec("d", "S", "T", "policy", "https://x/", None, "en_US", "http", (), ())
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with sessions() as session:
        sync_documents(session, [spec])
        doc = session.get(Document, "d")
        outcomes = []
        for day, text in enumerate([V1, V2, V2, V1]):
            outcome, version, transition = apply_text(
                session, doc, text, start + timedelta(days=day)
            )
            outcomes.append((outcome, transition))
        assert [o for o, _ in outcomes] == ["new", "new", "same", "new"]
        back = outcomes[-1][1]
        assert back is not None and back.recent  # V1 was seen within the window
        (recent_id, seen) = back.recent[0]
        assert session.get(Version, recent_id).text_hash == version.text_hash
        assert seen.startswith("2025-01-01")


def test_readme_example_replays_a_shipped_archive_into_a_document_of_sources(
    tmp_path: Path, db_url: str
) -> None:
    root = Path(__file__).resolve().parent.parent
    archive = root / "demo" / "data" / "whatsapp-privacy-policy-en.tar.xz"
    db = db_url
    result = CliRunner().invoke(
        app,
        ["replay", str(archive), "--doc", "whatsapp-privacy-policy-eea", "--db", db, "--json"]
        + ["--sources", str(root / "sources.toml"), "--out", str(tmp_path / "public")],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["versions"] == 10 and report["alerts"] >= 3
    with open_db(db)() as session:
        doc = session.get(Document, "whatsapp-privacy-policy-eea")
        assert doc.title == "WhatsApp Privacy Policy (EEA)"  # taken from sources.toml
    index = (tmp_path / "public" / "index.html").read_text()
    assert "AI at Meta" in index


@pytest.mark.parametrize(
    ("name", "base", "window"),
    [
        ("facebook-privacy-policy-fr", "https://www.facebook.com/about/privacy/update", None),
        ("facebook-privacy-policy-en", "https://mbasic.facebook.com/privacy/policy/printable/", 90),
    ],
)
def test_the_fast_normaliser_is_exactly_normalise_markdown(
    name: str, base: str, window: int | None
) -> None:
    from changes.extract import normalise_markdown
    from demo.corpus import load_history
    from pipeline.replay import Normaliser

    history = load_history(name)[150 : 150 + window] if window else load_history(name)
    fast = Normaliser(base)
    assert [fast(v.text) for v in history] == [normalise_markdown(v.text, base) for v in history]
    assert fast.full < len(history) / 2  # most recorded versions are link-token noise
