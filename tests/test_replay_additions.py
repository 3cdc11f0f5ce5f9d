"""Versions whose losses are not news tell what they add (changes/additions.py, decisions
0007 and 0013 §15): a held partial render carrying a new update notice, and a version the
archive marks technical that also carries new terms. Replayed through the real pipeline
into real SQLite. Sentences in the styles of the corpus (Facebook's privacy policy and
terms, Pinterest's policy; Platform Governance Archive, ODC-BY 1.0)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from changes.additions import additions_only, surviving_share, with_additions
from changes.dates import stated_date
from config.documents import DocumentSpec
from pipeline.archive import ArchivedVersion
from pipeline.detect import record_change
from pipeline.replay import replay
from pipeline.versions import apply_text
from storage.db import open_db
from storage.models import Change, Document, Version
from storage.repo import sync_documents

SPEC = DocumentSpec(
    "fb", "Facebook", "Privacy Policy", "policy", "https://x/", None, "en_US", "http", (), ()
)

BODY = "\n\n".join(
    f"## Section {i}\n\n"
    + " ".join(f"We explain how practice {i} works in case {k}." for k in range(12))
    for i in range(12)
)
GENAI = (
    "How Meta uses information for generative AI models and features\n"
    "===============================================================\n\n"
    "We're developing generative AI experiences and are excited to bring them to more "
    "people and businesses across Meta Products worldwide.\n"
)
FULL = f"Privacy Policy\n==============\n\nEffective from 16 December 2025\n\n{BODY}\n\n{GENAI}"
NOTICE = (
    "Updated on 23 July 2026\n\n"
    "We've updated our Privacy Policy with details about agentic AI capabilities and how we "
    "personalise your AI experiences.\n\n"
)
# most of the policy vanishes in this render; the notice and the AI page survive
PARTIAL = f"Privacy Policy\n==============\n\n{NOTICE}{GENAI}"
AT = datetime(2026, 7, 9, 10, 30, tzinfo=UTC)


def _changes(db_url: str) -> list[Change]:
    with open_db(db_url)() as session:
        found = list(session.scalars(select(Change).order_by(Change.id)))
        session.expunge_all()
    return found


def test_with_additions_keeps_the_old_text_and_puts_in_what_is_new() -> None:
    overlay = with_additions(FULL, PARTIAL)
    assert overlay is not None
    assert BODY in overlay and "agentic AI capabilities" in overlay
    assert overlay.index("Updated on 23 July 2026") < overlay.index("Effective from")
    assert with_additions(PARTIAL, PARTIAL) is None


def test_a_re_extraction_that_drops_link_texts_and_numbers_headings_adds_nothing() -> None:
    old = (
        "**1\\. The services we provide**\n\n"
        "For more information, please review our [Privacy Policy](https://x/privacy).\n"
    )
    new = (
        "1\\. The services we provide\n===========================\n\n"
        "For more information, please review our .\n\nReturn to top\n"
    )
    overlay = with_additions(old, new)
    assert overlay is not None and old.strip() in overlay
    added = [line for line in overlay.splitlines() if line.strip() and line not in old]
    assert added == ["Return to top"]  # the heading and the link's sentence stand in old
    assert additions_only(old, new, "technical", document="Terms") is None


def test_a_held_render_tells_its_notice_and_nothing_about_what_vanished() -> None:
    told = additions_only(FULL, PARTIAL, "held", document="Privacy Policy", seen="2026-07-23")
    assert told is not None and told.alert
    assert {"dates", "ai"} <= set(told.categories)
    assert "removed" not in told.title and "vanished" not in told.title
    assert told.summary["additions_only"]["kind"] == "held"


def test_updated_on_at_the_head_of_a_line_states_a_date() -> None:
    assert stated_date(NOTICE) == "23 July 2026"
    assert stated_date("The settings we updated on 3 May 2024 stay.") is None


def test_a_held_page_that_is_not_the_policy_tells_nothing() -> None:
    error = (
        "Something went wrong\n\nUpdated on 23 July 2026\n\n"
        "We've updated our systems to bring AI experiences to more people.\n"
    )
    assert surviving_share(FULL, error) < 0.5
    assert additions_only(FULL, error, "held", document="Privacy Policy") is None


def test_a_re_extraction_surfacing_headings_only_is_not_news() -> None:
    old = "* Recommend Pins you might like.\n\nYou can object through this [form](https://x/f).\n"
    new = (
        "Table of Contents\n\n* Recommend Pins you might like.\n\n"
        "We use info based on legitimate interests\n\nYou can object through this .\n"
    )
    assert additions_only(old, new, "technical", document="Pinterest") is None


def test_replay_tells_a_held_notice_once_and_keeps_the_policy_current(db_url: str) -> None:
    versions = [
        ArchivedVersion(AT, FULL),
        ArchivedVersion(AT + timedelta(days=14), PARTIAL),
    ]
    result = replay(db_url, SPEC, versions)
    assert result.counts["held"] == 1
    (change,) = _changes(db_url)
    assert change.alert and not change.technical
    assert {"dates", "ai"} <= set(change.categories)
    assert change.summary["additions_only"]["kind"] == "held"
    with open_db(db_url)() as session:
        doc = session.get(Document, "fb")
        assert doc is not None
        current = session.get(Version, doc.current_version_id)
        assert current is not None and current.id == change.from_version_id
        assert current.state == "accepted" and current.words > 1000  # the whole policy
        held = session.get(Version, change.to_version_id)
        assert held is not None and held.state == "held"
    again = replay(db_url, SPEC, versions)  # a second replay adds nothing
    assert again.changes == 0 and len(_changes(db_url)) == 1


def test_a_held_text_confirmed_on_a_second_fetch_does_not_tell_its_notice_again(
    db_url: str,
) -> None:
    """A crawl: the shrunken text is held, told for its notice, then seen again (confirmed):
    what is left is told, the policy's sections gone (confirmed twice, decision 0003), not
    the notice a second time."""
    sessions = open_db(db_url)
    with sessions() as session:
        sync_documents(session, [SPEC])
        doc = session.get(Document, "fb")
        assert doc is not None
        outcomes = []
        for i, text in enumerate([FULL, PARTIAL, PARTIAL]):
            outcome, _, transition = apply_text(session, doc, text, AT + timedelta(hours=i))
            change = record_change(session, transition, None) if transition else None
            outcomes.append((outcome, change))
        session.commit()
        assert [o for o, _ in outcomes] == ["new", "held", "confirmed"]
        told, confirmed = outcomes[1][1], outcomes[2][1]
        assert told is not None and told.alert and "ai" in told.categories
        assert confirmed is not None and "removed" in confirmed.title
        assert "ai" not in confirmed.categories and "dates" not in confirmed.categories
        assert "agentic" not in confirmed.title


def test_an_archive_technical_version_with_new_terms_is_told(db_url: str) -> None:
    old = (
        "**Terms of Service**\n\n"
        "We’re updating the Meta Terms of Service. These updates will go into effect on "
        "January 1, 2025. [Read the new Terms](https://x/preview).\n\n"
        "* [Live Policies](https://x/live): These policies apply to all content broadcast to "
        "Facebook Live.\n\nDate of Last Revision: 12 January 2024\n"
    )
    new = (
        "Overview\n========\n\nEffective January 1, 2025\n\n"
        "* : These policies apply to all content broadcast to Facebook Live.\n"
        "* : These terms govern use of our Generative AI products and features.\n\n"
        "Return to top\n"
    )
    only_links = old.replace("[Live Policies](https://x/live)", "")
    versions = [
        ArchivedVersion(AT, old),
        ArchivedVersion(AT + timedelta(days=1), only_links, technical=True),
        ArchivedVersion(AT + timedelta(days=2), new, technical=True),
    ]
    result = replay(db_url, SPEC, versions)
    first, second = _changes(db_url)
    assert first.technical and not first.alert  # a link text dropped: a re-extraction only
    assert not second.technical and second.alert
    assert {"dates", "ai"} <= set(second.categories)
    assert second.summary["additions_only"]["kind"] == "technical"
    assert result.technical == 1
