"""The lexicons' own test sentences (changes/lexicons/*.tests.toml), run as data."""

from __future__ import annotations

from typing import Any

import pytest

from changes.ai import about_ai
from changes.legalbasis import bases_named, heading_basis
from changes.lexicon import load
from changes.optout import LinkMention, link_changes, optout_links, way_out_sentences


def _cases(name: str) -> list[Any]:
    cases = load(f"{name}.tests")["case"]
    return [pytest.param(c, id=f"{c['lang']}-{i}") for i, c in enumerate(cases)]


@pytest.mark.parametrize("case", _cases("optout"))
def test_optout_lexicon(case: dict[str, str]) -> None:
    found = optout_links(case["markdown"], case["lang"])
    if case["kind"] == "none":
        assert found == [], case["source"]
        return
    assert (case["url"], case["kind"]) in {(m.url, m.kind) for m in found}, (
        case["source"],
        found,
    )


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=f"{c['lang']}-{i}")
        for i, c in enumerate(load("optout.tests")["sentence"])
    ],
)
def test_way_out_in_words(case: dict[str, str]) -> None:
    new = f"{case.get('before', '')} {case['text']}".strip()
    found = way_out_sentences("", new, [case["text"]], [], case["lang"])["added"]
    assert [f["kind"] for f in found] == ([] if case["kind"] == "none" else [case["kind"]]), case[
        "source"
    ]


def test_way_out_only_when_its_words_change() -> None:
    old = "Intro.\n\n(for how to opt out of these communications, see Your Choices below);"
    quoted = "(For how to OPT OUT of these communications, see \u201cYour Choices\u201d below)."
    assert way_out_sentences(old, quoted, [quoted], [old.split("\n")[-1]], "en") == {
        "added": [],
        "removed": [],
    }
    split = "(for how to opt out of these, see Your Choices. It is below);"
    assert way_out_sentences(old, split, [split], [], "en")["added"] == []
    wider = "(for how to opt out of these emails and calls, see Your Choices below);"
    found = way_out_sentences(old, wider, [wider], [], "en")
    assert found["added"] == [{"kind": "opt-out", "sentence": wider}]
    assert way_out_sentences(old, "Unsubscribe", ["Unsubscribe"], [], "en")["added"] == []


def test_optout_mention_carries_anchor_and_sentence() -> None:
    md = (
        "Where we rely on legitimate interests, you have the right to object.\n\n"
        "| Purpose | You can [object](https://www.facebook.com/help/contact/1) to it. "
        "Read more.<br>Other text |"
    )
    (mention,) = optout_links(md)
    assert mention == LinkMention(
        url="https://www.facebook.com/help/contact/1",
        text="object",
        context="You can object to it.",
        kind="objection",
    )


def test_link_changes_added_removed_retargeted() -> None:
    def m(url: str, text: str) -> LinkMention:
        return LinkMention(url, text, "", "objection")

    old = [m("https://a/form1", "object"), m("https://a/gone", "Help Center")]
    new = [m("https://a/form2", "object"), m("https://a/new", "submit requests")]
    changes = link_changes(old, new)
    assert changes["retargeted"] == [
        {"text": "object", "kind": "objection", "from": "https://a/form1", "to": "https://a/form2"}
    ]
    assert [c["url"] for c in changes["added"]] == ["https://a/new"]
    assert [c["url"] for c in changes["removed"]] == ["https://a/gone"]


def _entries(name: str, table: str) -> list[Any]:
    entries = load(f"{name}.tests")[table]
    return [pytest.param(e, id=f"{e['lang']}-{i}") for i, e in enumerate(entries)]


@pytest.mark.parametrize("case", _entries("legal_bases", "heading"))
def test_legal_basis_headings(case: dict[str, str]) -> None:
    expected = None if case["basis"] == "none" else case["basis"]
    assert heading_basis(case["text"], case["lang"]) == expected, case["source"]


@pytest.mark.parametrize("case", _entries("legal_bases", "mention"))
def test_legal_basis_mentions(case: dict[str, Any]) -> None:
    assert bases_named(case["text"], case["lang"]) == set(case["bases"]), case["source"]


@pytest.mark.parametrize("case", _cases("ai"))
def test_ai_lexicon(case: dict[str, Any]) -> None:
    assert about_ai(case["text"], case["lang"]) is case["ai"], case["source"]
