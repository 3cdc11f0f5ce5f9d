"""The side-by-side diff view keeps both texts."""

from __future__ import annotations

from changes.diff import word_diff
from tests import factories, site_helpers

session = factories.session  # a real SQLite file
changes = site_helpers.changes


def test_side_by_side_rows_keep_both_texts() -> None:
    from changes.diff import hunks
    from feeds.diffview import rows

    old = "Intro.\nWe use consent.\nKeep this.\nAnd this line.\nEnd.\n"
    new = "Intro.\nWe use legitimate interests.\nKeep this.\nNew line.\nAnd this line.\nEnd.\n"
    ops = word_diff(old, new)
    (hunk,) = hunks(ops, context_lines=5)
    found = rows(hunk)
    assert "".join(t for r in found for _, t in r.old) == old
    assert "".join(t for r in found for _, t in r.new) == new
    changed = [r for r in found if r.changed]
    assert changed[0].old == (("=", "We use "), ("-", "consent"), ("=", ".\n"))
    assert ("+", "legitimate interests") in changed[0].new
    assert [t for _, t in changed[1].old] == [] or all(op != "+" for op, _ in changed[1].old)
