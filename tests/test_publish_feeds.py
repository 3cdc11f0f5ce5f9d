"""Which changes each feed lists: chosen in one pass, as each feed's own filter would."""

from __future__ import annotations

from datetime import timedelta

from feeds import feed
from feeds.views import ChangeView, DocumentView
from tests.factories import T1


def _doc(i: int) -> DocumentView:
    return DocumentView(f"d{i}", f"d{i}", f"Doc {i}", "S", "policy", "en_US", "en", None, "")


def test_each_feed_lists_the_changes_its_filter_wants_up_to_the_limit() -> None:
    docs = [_doc(i) for i in range(3)]
    cats = [["text"], ["text", "ai"], ["ai", "ai"], [], ["dates", "text"], ["legal-basis"]]
    changes = [
        ChangeView(
            n, docs[n % 3], f"c{n}", T1 - timedelta(hours=n), None, None, False, cats[n % 6], 1, 0
        )
        for n in range(60)
    ]
    specs = feed.feed_specs("t", docs, ["ai", "dates", "legal-basis", "text", "none"], "tag:x")
    specs.append(
        feed.FeedSpec("both", "i", "t", "s", "index.html", document_id="d1", category="ai")
    )
    for limit in (1, 7, 200):
        listed = feed.listed(specs, changes, limit)
        for spec, chosen in zip(specs, listed, strict=True):
            wanted = [c for c in changes if spec.wants(c)][:limit]
            assert [c.id for c in chosen] == [c.id for c in wanted], (spec.path, limit)
    assert any(len(chosen) == 7 for chosen in feed.listed(specs, changes, 7))
