"""Re-derivation from stored bodies (`policywatch rederive`, pipeline/rederive.py) and the
extractor-version compare of a crawl (pipeline/reextract.py): real crawls of the local
stand-in server into a real database, the extractor upgraded in-process."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import changes.extract
import pipeline.derive
from config.run import RunConfig
from config.sources import load_sources
from demo.server import FakeMeta, Reply
from pipeline import derive, runs, spider_process
from pipeline.audit import audit
from pipeline.rederive import DocumentResult, UnknownDocuments, rederive
from pipeline.retention import drop_unchanged_bodies
from storage.db import open_db
from storage.models import Change, Document, Fetch, Version
from storage.repo import latest_changes
from tests.conftest import write_sources

FILLER = " ".join(f"word{i}" for i in range(150))


def page(*paragraphs: str) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in (*paragraphs, FILLER))
    return f"<html><body><div id='root'><h1>Privacy</h1>{body}</div></body></html>".encode()


V1 = page("Provide Meta Products: performance of a contract.")
V2 = page(
    "Provide Meta Products: performance of a contract.",
    "Develop and improve AI at Meta: legitimate interests.",
)
V3 = page(
    "Provide Meta Products: performance of a contract.",
    "Develop and improve AI at Meta: legitimate interests.",
    NEWS := "Share with partners: your consent.",
)
UPGRADE_NOTE = "Footnotes are kept by extractor three."


class History:
    """Documents a, b, c on the local server crawled into ``db``: a changed once."""

    def __init__(self, tmp: Path, site: FakeMeta, db: str) -> None:
        self.site, self.db = site, db
        docs = [{"id": d, "url": site.url(f"/{d}")} for d in "abc"]
        self.sources = write_sources(tmp / "sources.toml", docs, timeout=30.0)
        self.cfg = RunConfig(db_url=db, sources_path=str(self.sources))

    def crawl(self) -> dict[str, int]:
        with runs.run(self.db, "manual", load_sources(self.sources).documents) as current:
            spider_process.crawl(self.cfg, current.id)
            current.counts = derive.derive_versions(self.cfg, current.id)
            drop_unchanged_bodies(self.cfg, current.id)
        return current.counts

    def rederive(self, *docs: str) -> Any:
        return rederive(self.db, str(self.sources), docs)

    def state(self) -> dict[str, Any]:
        """Everything a rederive could touch, comparable."""
        with open_db(self.db)() as s:
            return {
                "versions": s.execute(
                    select(
                        Version.id,
                        Version.text_hash,
                        Version.state,
                        Version.extractor_version,
                        Version.first_seen,
                        Version.last_seen,
                    ).order_by(Version.id)  # fmt: skip
                ).all(),
                "changes": s.execute(
                    select(
                        Change.id,
                        Change.seq,
                        Change.from_version_id,
                        Change.to_version_id,
                        Change.alert,
                        Change.technical,
                    ).order_by(Change.id)  # fmt: skip
                ).all(),
                "current": s.execute(
                    select(Document.id, Document.current_version_id).order_by(Document.id)
                ).all(),
                "fetches": s.execute(
                    select(Fetch.id, Fetch.processed, Fetch.version_id).order_by(Fetch.id)
                ).all(),
            }

    def changes(self, **where: Any) -> list[Change]:
        with open_db(self.db)() as s:
            stmt = select(Change).where(Change.to_version_id.is_not(None)).order_by(Change.id)
            for key, value in where.items():
                stmt = stmt.where(getattr(Change, key) == value)
            return list(s.scalars(stmt))


@pytest.fixture
def history(tmp_path: Path, site: FakeMeta, db_url: str) -> History:
    h = History(tmp_path, site, db_url)
    for d in "abc":
        site.set(f"/{d}", Reply(200, V1))
    h.crawl()
    site.set("/a", Reply(200, V2))
    assert h.crawl()["changes"] == 1
    return h


@pytest.fixture
def upgraded(monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(monkeypatch)


def upgrade(monkeypatch: pytest.MonkeyPatch) -> None:
    """Extractor 3: the same bodies give another text (it keeps a footnote more)."""
    plain = pipeline.derive.extract

    def extract_v3(*args: Any, **kwargs: Any) -> changes.extract.Extraction:
        ext = plain(*args, **kwargs)
        return dataclasses.replace(ext, text=f"{ext.text}\n\n{UPGRADE_NOTE}\n")

    monkeypatch.setattr(changes.extract, "EXTRACTOR_VERSION", "3")
    monkeypatch.setattr(pipeline.derive, "extract", extract_v3)


def test_rederive_with_the_same_extractor_changes_nothing(history: History) -> None:
    before = history.state()
    for _ in range(2):
        report = history.rederive()
        assert report.count("same") == 3 and report.count("technical") == 0, report
        assert history.state() == before
    report = audit(history.db, str(history.sources))
    assert report.ok and report.expected == report.stored == 1, report
    assert history.crawl()["changes"] == 0  # and a crawl after it sees nothing either
    with pytest.raises(UnknownDocuments, match="nope"):
        history.rederive("a", "nope")


def test_an_upgraded_extractor_gives_technical_changes_never_alerts(
    history: History, upgraded: None
) -> None:
    alerts_before = [c.id for c in history.changes(alert=True)]
    progress: list[tuple[int, int, str]] = []

    def seen(n: int, total: int, result: DocumentResult) -> None:
        progress.append((n, total, result.outcome))

    report = rederive(history.db, str(history.sources), progress=seen)
    assert report.count("technical") == 3 and report.extractor == "3", report
    assert progress == [(1, 3, "technical"), (2, 3, "technical"), (3, 3, "technical")]
    assert all("extractor 2 -> 3" in r.detail for r in report.results)
    technical = history.changes(technical=True)
    assert len(technical) == 3 and not any(c.alert for c in technical)
    assert all("re-extracted" in c.title for c in technical)
    assert all(c.words_added == len(UPGRADE_NOTE.split()) and c.words_removed == 0
               for c in technical)  # fmt: skip
    assert [c.id for c in history.changes(alert=True)] == alerts_before
    with open_db(history.db)() as s:
        assert not [c for c in latest_changes(s) if c.technical]  # not in the feeds
        current = s.scalars(select(Version).join(Document, Document.current_version_id ==
                                                 Version.id)).all()  # fmt: skip
        assert {v.extractor_version for v in current} == {"3"}
    # Idempotent: a second rederive and a crawl of the unchanged pages store nothing.
    before = history.state()
    assert history.rederive().count("same") == 3
    assert history.state() == before
    assert history.crawl()["changes"] == 0
    # The page's next change alerts, diffed against the re-extracted text only.
    history.site.set("/a", Reply(200, V3))
    assert history.crawl()["changes"] == 1
    news = history.changes(technical=False)[-1]
    assert news.alert and news.document_id == "a"
    assert (news.words_added, news.words_removed) == (len(NEWS.split()), 0)


def test_a_crawl_after_an_upgrade_moves_the_baseline_first(
    history: History, upgraded: None
) -> None:
    """Without a rederive: the crawl re-extracts the current text's body first (technical),
    then applies what the page shows now; only the page's own change alerts."""
    history.site.set("/a", Reply(200, V3))
    counts = history.crawl()
    assert counts["technical"] == 3 and counts["changes"] == 4, counts
    a = history.changes(document_id="a")
    assert [(c.technical, c.alert) for c in a[-2:]] == [(True, False), (False, True)]
    assert a[-1].words_added == len(NEWS.split())
    assert [c.seq for c in a] == [1, 2, 3]
    assert history.rederive().count("same") == 3  # nothing left to re-extract
    assert history.crawl()["changes"] == 0


def test_pruned_bodies_are_skipped_and_said(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    history.crawl()  # b unchanged 3 times: retention keeps the first and last body of the run
    upgrade(monkeypatch)
    with open_db(history.db)() as s:
        pruned = s.scalar(select(func.count()).where(Fetch.document_id == "b",
                                                     Fetch.body_pruned))  # fmt: skip
    assert pruned and pruned >= 1  # the middle body (and the last too when only tokens differ)
    report = history.rederive("b")
    (result,) = report.results
    assert result.outcome == "technical" and f"{pruned} pruned" in result.detail, result
    # A text none of whose bodies is left is skipped, and said.
    with open_db(history.db).begin() as s:
        doc = s.get(Document, "c")
        for fetch in s.scalars(select(Fetch).where(Fetch.version_id == doc.current_version_id)):
            fetch.blob_hash, fetch.body_pruned = None, True
    (result,) = history.rederive("c").results
    assert result.outcome == "no-body" and "retention" in result.detail, result
    assert len(history.changes(document_id="c")) == 0


def test_the_command(history: History, upgraded: None, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli.app import app

    args = ["rederive", "--db", history.db, "--sources", str(history.sources)]
    args += ["--out", str(tmp_path / "public")]
    shown = CliRunner().invoke(app, [*args, "--json", "--no-publish"])
    assert shown.exit_code == 0, shown.output
    result = json.loads(shown.output)
    assert (result["technical"], result["same"], result["extractor"]) == (3, 0, "3")
    outcomes = {r["document"]: r["outcome"] for r in result["results"]}
    assert outcomes == dict.fromkeys("abc", "technical")
    shown = CliRunner().invoke(app, args)  # again, with the site published
    assert shown.exit_code == 0 and "rederive with extractor 3" in shown.output, shown.output
    assert (tmp_path / "public" / "index.html").exists()
    wrong = CliRunner().invoke(app, [*args, "a", "nope"])
    assert wrong.exit_code == 2 and "no document nope" in wrong.output
    assert len(wrong.output.strip().splitlines()) == 1 and "Traceback" not in wrong.output
