"""Four years of real Meta history, replayed through the crawl's own steps (in-process, no
Prefect): what policywatch says about it is what the recorded history says happened.
Data: demo/data (Platform Governance Archive, ODC-BY 1.0, see demo/data/ATTRIBUTION.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from demo.replays import CORPUS, CorpusDocument, DocumentReport, replay_document
from storage.db import open_db
from storage.models import Change
from tests.conftest import fresh_db_url

BY_ARCHIVE = {doc.archive: doc for doc in CORPUS}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with fresh_db_url(tmp_path_factory.mktemp("replay")) as url:
        yield url


@pytest.fixture(scope="module")
def reports(db: str) -> dict[str, DocumentReport]:
    return {doc.archive: replay_document(db, doc) for doc in CORPUS}


def changes_on(db: str, document_id: str, day: str) -> list[Change]:
    with open_db(db)() as session:
        rows = session.scalars(
            select(Change).where(Change.document_id == document_id).order_by(Change.id)
        )
        return [c for c in rows if c.detected_at.date().isoformat() == day]


@pytest.mark.parametrize("doc", CORPUS, ids=lambda d: d.archive)
def test_link_token_only_versions_never_alert(
    reports: dict[str, DocumentReport], doc: CorpusDocument
) -> None:
    report = reports[doc.archive]
    assert report.token_only_alerts == 0
    if doc.archive in ("facebook-privacy-policy-en", "facebook-terms-of-service-en"):
        assert report.token_only_versions > 80  # most recorded versions are token noise


def test_facebook_en_noise_is_quiet_and_news_is_flagged(
    reports: dict[str, DocumentReport],
) -> None:
    report = reports["facebook-privacy-policy-en"]
    assert report.result.versions == 492
    assert report.token_only_versions >= 450  # ~450 of 492 differ only in link tokens
    assert report.result.changes < 50 and report.result.alerts <= 35
    assert report.result.technical == 3  # the archive's own re-extractions, never news


@pytest.mark.parametrize("day", ["2024-06-26", "2025-05-28"])
def test_facebook_en_ai_legal_basis_changes_are_flagged(db: str, day: str) -> None:
    (change,) = [c for c in changes_on(db, "facebook-privacy-policy", day) if c.alert]
    assert {"legal-basis", "ai", "dates"} <= set(change.categories)


def test_june_2024_names_the_ai_processing_added(db: str) -> None:
    (change,) = changes_on(db, "facebook-privacy-policy", "2024-06-26")
    steps = [s for entry in change.summary["processing"] for s in entry["added"]]
    assert any(s.startswith("Provide and curate artificial intelligence technology") for s in steps)
    assert "Provide and curate artificial intelligence technology" in change.title
    assert change.summary["date"]["to"] == "June 26, 2024"


def test_may_2025_ai_at_meta_now_relies_on_legitimate_interests(db: str) -> None:
    (change,) = changes_on(db, "facebook-privacy-policy", "2025-05-28")
    assert change.title == (
        "Facebook Privacy Policy: \u2018Develop and improve AI at Meta\u2019 now relies on "
        "legitimate interests; effective May 27, 2025"
    )
    (item,) = change.summary["bases"]
    assert (item["action"], item["basis"]) == ("added", "legitimate interests")
    assert item["purpose"].startswith("Develop and improve artificial intelligence technology")


def test_june_2025_claims_only_the_rows_that_are_new(db: str) -> None:
    # The "Develop and improve AI at Meta" rows are the same in May and June 2025 (same
    # rows, same age groups): claiming them again would be false. New in June: the consent
    # row for adding a WhatsApp account to an Accounts Center.
    changes = [c for c in changes_on(db, "facebook-privacy-policy", "2025-06-16") if c.alert]
    titles = [c.title for c in changes]
    assert any("WhatsApp account\u2019 now relies on consent" in t for t in titles), titles
    assert not any("Develop and improve AI at Meta" in t for t in titles), titles


def test_every_effective_date_move_is_flagged_dates(reports: dict[str, DocumentReport]) -> None:
    for report in reports.values():
        assert report.date_moves_flagged == report.date_moves, report.document.archive
    assert reports["facebook-privacy-policy-en"].date_moves >= 12


@pytest.mark.parametrize("day", ["2025-12-17", "2026-07-24"])
def test_partial_renders_are_held_not_alerted_as_removals(db: str, day: str) -> None:
    (change,) = changes_on(db, "facebook-privacy-policy", day)
    held = change.summary["held"]
    assert held["words"] > 5000 and held["blocks"] >= 3  # ~a thousand lines vanished
    assert "vanished" not in change.title and "removed" not in change.title
    # what alerts is the new policy itself, never the lost blocks
    assert "dates" in change.categories
    assert all(item["action"] != "removed" for item in change.summary.get("bases", []))


def test_pages_flipping_back_alert_once(reports: dict[str, DocumentReport]) -> None:
    assert reports["facebook-privacy-policy-en"].quiet["flipping back"] == 2
    fr = reports["facebook-privacy-policy-fr"]
    assert fr.quiet["flipping back"] > 40  # two renders alternating for weeks
    assert fr.result.alerts < 10


def test_facebook_fr_states_its_legal_bases_in_french_on_every_version(
    reports: dict[str, DocumentReport],
) -> None:
    stated = reports["facebook-privacy-policy-fr"].stated_bases
    assert len(stated) == 127 and all(stated)
    assert set(stated) == {
        frozenset(
            {
                "consent",
                "contract",
                "legal-obligation",
                "vital-interests",
                "public-interest",
                "legitimate-interests",
            }
        )
    }


def test_replay_dates_everything_as_recorded(db: str) -> None:
    with open_db(db)() as session:
        changes = list(session.scalars(select(Change)))
    assert changes and all(c.detected_at.year <= 2026 for c in changes)
    firsts = {c.detected_at.date().isoformat() for c in changes}
    assert "2024-06-26" in firsts and "2025-05-28" in firsts


def test_known_events_in_the_catalogue_are_flagged(reports: dict[str, DocumentReport]) -> None:
    for report in reports.values():
        for event, ok, got in report.events:
            assert ok, (report.document.archive, event.day, got)


def test_bench_data_is_the_shipped_corpus() -> None:
    for doc in CORPUS:
        assert Path(doc.path).is_file(), doc.path
