"""The rows a publish reads (storage/published.py) hold the values the ORM gives: the same
columns, JSON decoded to the same values, datetimes aware and in UTC."""

from __future__ import annotations

import json
import math
from datetime import UTC

from sqlalchemy import select
from sqlalchemy.orm import Session

from feeds.views import ChangeView, DocumentView, VersionView, change_views, version_views
from storage import published, repo
from storage.models import Change, Version
from tests import factories
from tests.factories import T1, T2, T3, add_change, add_document, add_version

session = factories.session  # a real database: SQLite, or PostgreSQL


def test_rows_hold_the_values_the_orm_gives(session: Session) -> None:
    add_document(session, "fb", "Facebook", "https://www.facebook.com/privacy")
    v1 = add_version(session, "fb", "One.", T1, "May 1, 2024")
    v2 = add_version(session, "fb", "Two.", T2.replace(microsecond=123456))
    v3 = add_version(session, "fb", "Three.", T3)
    v3.state = "held"  # not accepted: not read
    summary = {"bases": [{"purpose": "IA \u00e0 M\u00e9ta \U0001f600", "basis": "<b>&"}], "n": 7}
    add_change(session, v1, v2, "One.", "Two.", T2, "Dates \u2028 changed", ["dates", "ai"])
    add_change(session, None, v1, "", "One.", T1, "First", [], summary)
    add_change(session, v2, v3, "Two.", "Three.", T3, "Technical", ["text"], technical=True)
    session.commit()
    session.expire_all()

    changes = published.published_change_rows(session)
    orm = session.scalars(
        select(Change)
        .where(Change.technical.is_(False), Change.alert.is_(True))
        .order_by(Change.detected_at.desc(), Change.id.desc())
    ).all()
    assert [c.id for c in changes] == [c.id for c in orm] and len(changes) == 2
    for row, change in zip(changes, orm, strict=True):
        assert row._asdict() == {name: getattr(change, name) for name in row._fields}
        assert row.detected_at.tzinfo == UTC
    assert changes[1].summary == summary

    versions = published.accepted_version_rows(session)
    assert list(versions) == ["fb"]
    for row, version in zip(versions["fb"], [v1, v2], strict=True):
        assert row._asdict() == {name: getattr(version, name) for name in row._fields}
        assert row.first_seen.tzinfo == UTC and row.last_seen.tzinfo == UTC
    assert versions["fb"][1].first_seen.microsecond == 123456
    assert isinstance(session.get(Version, v3.id), Version)


def test_versions_and_changes_come_in_order_whatever_order_they_were_stored_in(
    session: Session,
) -> None:
    """Versions by document, first seen, id; changes newest first (both sorted after
    reading them)."""
    add_document(session, "fb", "Facebook", "https://www.facebook.com/privacy")
    add_document(session, "ig", "Instagram", "https://www.instagram.com/privacy")
    late = add_version(session, "fb", "Late.", T3)
    ig = add_version(session, "ig", "Instagram.", T1)
    early = add_version(session, "fb", "Early.", T1)  # stored after, seen before
    tie = add_version(session, "fb", "Same moment.", T1)
    session.commit()
    versions = published.accepted_version_rows(session)
    assert [v.id for v in versions["fb"]] == [early.id, tie.id, late.id]
    assert [v.id for v in versions["ig"]] == [ig.id]
    # changes: newest first, then the higher id first
    first = add_change(session, early, late, "Early.", "Late.", T3, "Seen last", [])
    second = add_change(session, None, early, "", "Early.", T1, "Seen first", [])
    third = add_change(session, None, ig, "", "Instagram.", T1, "Seen first too", [])
    session.commit()
    order = [c.id for c in published.published_change_rows(session)]
    assert order == [first.id, third.id, second.id]


def test_json_the_fast_decoder_refuses_is_read_as_the_standard_library_reads_it() -> None:
    stored = json.dumps({"nan": math.nan, "big": 2**70, "lone": "\ud800", "e": "\u00e9"})
    value = published.json_value(stored)
    assert value["big"] == 2**70 and value["lone"] == "\ud800" and math.isnan(value["nan"])
    assert published.json_value('["a", {"b": null}]') == ["a", {"b": None}]
    assert published.json_value(None) is None
    assert published.json_value({"decoded": "by the driver"}) == {"decoded": "by the driver"}


def test_datetimes_are_aware_and_in_utc() -> None:
    assert published.utc("2024-01-01 00:10:00.000000") == T1.replace(
        year=2024, month=1, day=1, hour=0, minute=10
    )
    assert published.utc("2024-06-10 11:00:00+02:00") == T1
    assert published.utc(T1.replace(tzinfo=None)) == T1
    assert published.utc(None) is None


def test_views_made_in_one_loop_equal_those_made_one_by_one(session: Session) -> None:
    """feeds/views.py: ``change_views`` and ``version_views`` (with fingerprints made at
    once) give the views, and fingerprints, of ``ChangeView.of`` and ``VersionView.of``."""
    add_document(session, "fb", "Facebook \x00Policy", "https://www.facebook.com/privacy")
    v1 = add_version(session, "fb", "One.", T1, "May\x0c 1, 2024")
    v2 = add_version(session, "fb", "Two.", T2, "June 26, 2024")
    add_change(session, v1, v2, "One.", "Two.", T2, " Dates\x01 changed ", ["dates", " ai\x00"])
    first = add_change(session, None, v1, "", "One.", T1, "", [], {"k": ["v", 1]})
    first.kind, first.categories, first.summary = "link-health", None, None
    session.commit()
    docs = {d.id: DocumentView.of(d) for d in repo.documents(session)}
    rows = published.accepted_version_rows(session)["fb"]
    made = version_views(rows)
    one_by_one = [VersionView.of(v) for v in (v1, v2)]
    assert made == one_by_one and [repr(v) for v in made] == [repr(v) for v in one_by_one]
    assert [v.fingerprint for v in made] == [v.fingerprint for v in one_by_one]
    archived = {v.id: v for v in made}
    changes = published.published_change_rows(session)
    made_changes = change_views(changes, docs, archived)
    orm = [session.get(Change, c.id) for c in changes]
    each = [ChangeView.of(c, docs[c.document_id], archived) for c in orm if c is not None]
    assert made_changes == each and [repr(c) for c in made_changes] == [repr(c) for c in each]
    assert [c.fingerprint for c in made_changes] == [c.fingerprint for c in each]
    assert made_changes[0].effective_date == "June 26, 2024"
    assert made_changes[0].categories == ["dates", "ai"] and made_changes[1].kind == "link-health"
