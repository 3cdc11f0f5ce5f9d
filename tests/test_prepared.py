"""The diff and verdict of a change are worked out before the document's lock is taken
(pipeline/prepared.py): on SQLite that lock is the database's write lock, so classifying
while holding it kept every other process waiting. What is stored must not depend on it:
a guess made on inputs that turn out different is never used."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from changes.classify import Earlier, classify
from config.run import RunConfig
from pipeline import derive, prepared
from storage.db import close_db
from tests.conftest import fresh_db_url, on_postgres, write_sources
from tests.test_parallel_derive import DOCUMENTS, history, store_fetches

OLD = "We collect the information you give us. " * 20
NEW = OLD + "We use it to train AI at Meta on the basis of legitimate interests."


def _fetches(folder: Path) -> tuple[Path, Any]:
    sources = write_sources(
        folder / "sources.toml",
        [{"id": d, "url": f"https://www.facebook.com/{d}"} for d in DOCUMENTS],
    )
    return sources, fresh_db_url(folder)


def _derived(folder: Path, monkeypatch: pytest.MonkeyPatch, prepare: Any) -> dict[str, Any]:
    """What a serial derive of the same fetches stores with ``prepare`` as the read side's."""
    folder.mkdir()
    sources, fresh = _fetches(folder)
    with monkeypatch.context() as m, fresh as url:
        m.setattr(derive, "prepare", prepare)
        cfg: RunConfig = store_fetches(url, sources)
        derive.derive_versions(cfg, None)
        stored = history(url)
        close_db(url)
    return stored


def test_a_verdict_is_given_again_only_for_the_very_same_inputs() -> None:
    ahead = prepared.Prepared()
    options: dict[str, Any] = {"document": "Privacy Policy", "words_added": 14, "recent": []}
    first = ahead.classify(OLD, NEW, **options)
    assert ahead.classify(OLD, NEW, **dict(options)) is first
    assert first == classify(OLD, NEW, **options)
    # another input of any kind: worked out again, as classify says
    flipped = dict(options, recent=[Earlier(NEW, "2026-11-01")])
    again = ahead.classify(OLD, NEW, **flipped)
    assert again is not first and again == classify(OLD, NEW, **flipped)
    assert ahead.classify(OLD, NEW, **dict(options, lang="fr")) is not first
    assert len(ahead.verdicts) == 3
    assert ahead.diff(OLD, NEW) is ahead.diff(OLD, NEW)
    assert ahead.diff(OLD, NEW)[1:] == (14, 0)


def test_stored_changes_do_not_depend_on_what_was_prepared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def nothing(*args: Any) -> prepared.Prepared:
        return prepared.Prepared()

    def stale(session: Any, doc: Any, current: Any, text: str, *rest: Any) -> prepared.Prepared:
        # as if another run had moved the document meanwhile: prepared for another text
        return prepared.prepare(session, doc, current, text + " Something else entirely.", *rest)

    used: list[int] = []

    def counted(*args: Any) -> prepared.Prepared:
        ahead = prepared.prepare(*args)
        used.append(len(ahead.verdicts))
        return ahead

    plain = _derived(tmp_path / "plain", monkeypatch, nothing)
    assert len(plain["changes"]) == 15  # 8 documents x 2 edits, less one failed fetch
    assert _derived(tmp_path / "prepared", monkeypatch, counted) == plain
    assert sum(used) == 15  # one verdict prepared for each change stored
    assert _derived(tmp_path / "stale", monkeypatch, stale) == plain


@pytest.mark.skipif(on_postgres(), reason="SQLite only: its document lock is the write lock")
def test_classifying_runs_while_the_database_is_free_for_other_writers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources, fresh = _fetches(tmp_path)
    locked: list[bool] = []

    def write_lock_taken() -> bool:
        other = sqlite3.connect(tmp_path / "pw.db", timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            other.close()

    def watched(*args: Any, **kwargs: Any) -> Any:
        locked.append(write_lock_taken())
        return classify(*args, **kwargs)

    monkeypatch.setattr(prepared, "classify", watched)
    with fresh as url:
        counts = derive.derive_versions(store_fetches(url, sources), None)
        close_db(url)
    assert counts["changes"] == 15
    assert len(locked) == 15 and not any(locked)
