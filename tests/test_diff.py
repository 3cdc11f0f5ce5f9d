"""changes.diff: exact, word-precise and fast on real 290 KB policies."""

from __future__ import annotations

import random
import time

import pytest

from changes import diff
from changes.diff import (
    DiffStats,
    Hunk,
    Op,
    diff_stats,
    hunks,
    ops_from_json,
    ops_to_json,
    segments,
    tokenize,
    word_diff,
)
from tests.corpus import load_corpus, load_normalised, recorded_on

POLICY = "https://mbasic.facebook.com/privacy/policy/printable/"


def _normalised(name: str) -> tuple[str, ...]:
    return load_normalised(name, POLICY)


def _old(ops: list[Op]) -> str:
    return "".join(text for kind, text in ops if kind != "+")


def _new(ops: list[Op]) -> str:
    return "".join(text for kind, text in ops if kind != "-")


def _check(ops: list[Op], old: str, new: str) -> None:
    assert _old(ops) == old
    assert _new(ops) == new
    assert all(kind in ("=", "-", "+") and text for kind, text in ops) or ops == [("=", "")]
    for (a, _), (b, _) in zip(ops, ops[1:], strict=False):
        assert a != b  # adjacent ops of the same kind are merged
        assert (a, b) != ("+", "-")  # a change is written "-" then "+"


def test_identical_texts_short_circuit(monkeypatch: pytest.MonkeyPatch) -> None:
    import changes.diff as module

    def boom(*args: object) -> None:
        raise AssertionError("diffed identical texts")

    monkeypatch.setattr(module, "SequenceMatcher", boom)
    text = _normalised("facebook-privacy-policy-en")[-1]
    assert word_diff(text, text) == [("=", text)]
    assert word_diff("", "") == [("=", "")]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("", "new text\n"),
        ("old text\n", ""),
        ("a b c", "a x c"),
        ("no newline at end", "no newline at end\n"),
        ("line one\nline two\nline three\n", "line one\nline 2\nline three\nline four\n"),
        ("Effective June 26, 2024\n", "Effective July 23, 2026\n"),
        ("été — “quoted” l’objet\n", "hiver — “quoted” l’objet!\n"),
        ("\n\n\n", "\n"),
        ("x\r\ny", "x\ny"),
    ],
)
def test_ops_reconstruct_both_texts(old: str, new: str) -> None:
    _check(word_diff(old, new), old, new)


def test_changes_are_whole_words() -> None:
    ops = word_diff(
        "We rely on consent to process data.\n",
        "We rely on legitimate interests to process data.\n",
    )
    assert ops == [
        ("=", "We rely on "),
        ("-", "consent"),
        ("+", "legitimate interests"),
        ("=", " to process data.\n"),
    ]
    # "enable" -> "enabling" is a word replaced, never "enabl" + "e"/"ing"
    ops = word_diff("to enable the creation", "to enabling the creation")
    assert ("-", "enable") in ops and ("+", "enabling") in ops


def test_one_word_in_a_290_kb_policy() -> None:
    text = _normalised("facebook-privacy-policy-en")[-1]
    assert len(text) > 200_000
    position = text.index("legitimate interests", len(text) // 2)
    changed = (
        text[:position] + "legitimate concerns" + text[position + len("legitimate interests") :]
    )
    ops = word_diff(text, changed)
    assert ops == [
        ("=", text[: position + len("legitimate ")]),
        ("-", "interests"),
        ("+", "concerns"),
        ("=", text[position + len("legitimate interests") :]),
    ]
    assert diff_stats(ops) == DiffStats(words_added=1, words_removed=1, blocks=1)


def test_real_consecutive_versions_reconstruct() -> None:
    versions = load_corpus("facebook-privacy-policy-en")
    normalised = _normalised("facebook-privacy-policy-en")
    checked = 0
    for i in range(1, len(versions)):
        if normalised[i] != normalised[i - 1]:
            ops = word_diff(normalised[i - 1], normalised[i])
            _check(ops, normalised[i - 1], normalised[i])
            assert ops_from_json(ops_to_json(ops)) == ops
            checked += 1
    assert checked >= 30
    # raw texts too (token noise everywhere): a sample across the history
    for i in range(1, len(versions), 40):
        _check(
            word_diff(versions[i - 1].text, versions[i].text),
            versions[i - 1].text,
            versions[i].text,
        )


def test_largest_real_change_is_fast() -> None:
    # 2025-12-17: the new policy turned the legal-basis tables into sections; ~1000 lines
    # vanish (partial render) - the worst case in the history: about 1 s, not 10.
    versions = load_corpus("facebook-privacy-policy-en")
    normalised = _normalised("facebook-privacy-policy-en")
    i = recorded_on(versions, "2025-12-17")
    start = time.perf_counter()
    ops = word_diff(normalised[i - 1], normalised[i])
    elapsed = time.perf_counter() - start
    _check(ops, normalised[i - 1], normalised[i])
    assert elapsed < 10
    stats = diff_stats(ops)
    assert stats.words_removed > 1000 and stats.words_added > 1000


def test_stats_on_the_2025_ai_change() -> None:
    versions = load_corpus("facebook-privacy-policy-en")
    normalised = _normalised("facebook-privacy-policy-en")
    i = recorded_on(versions, "2025-05-28")
    stats = diff_stats(word_diff(normalised[i - 1], normalised[i]))
    # measured: 426 words added, 2 removed, 8 places
    assert 300 < stats.words_added < 600
    assert stats.words_removed < 20
    assert 3 <= stats.blocks <= 15


def test_diff_stats_counts() -> None:
    ops: list[Op] = [
        ("=", "a "),
        ("-", "b c"),
        ("+", "d"),
        ("=", " e "),
        ("+", "f g h"),
        ("=", "."),
    ]
    assert diff_stats(ops) == DiffStats(words_added=4, words_removed=2, blocks=2)
    assert diff_stats([("=", "same")]) == DiffStats(0, 0, 0)


def test_json_round_trip_is_compact_and_lossless() -> None:
    ops: list[Op] = [("=", 'a\n"q" \\ é\u00a0\x00'), ("-", "b"), ("+", "c 🎉")]
    data = ops_to_json(ops)
    assert data == '[["=","a\\n\\"q\\" \\\\ é\u00a0\\u0000"],["-","b"],["+","c 🎉"]]'
    assert ops_from_json(data) == ops
    assert ops_from_json("[]") == []
    assert ops_from_json('[["=","\\ud800"]]') == [("=", "\ud800")]  # as json.loads reads it
    for bad in ('{"=": "x"}', '[["?", "x"]]', '[["=", 1]]', '[["="]]', "[", "not json"):
        with pytest.raises(ValueError):
            ops_from_json(bad)


def _numbered(n: int) -> str:
    return "".join(f"line {i}\n" for i in range(1, n + 1))


def test_hunks_fold_unchanged_lines() -> None:
    old = _numbered(100)
    new = old.replace("line 10\n", "line ten\n").replace("line 80\n", "line eighty\n")
    result = hunks(word_diff(old, new), context_lines=2)
    assert len(result) == 2
    first, second = result
    assert (first.old_line, first.new_line) == (8, 8)
    assert (
        "".join(t for k, t in first.ops if k != "+")
        == "line 8\nline 9\nline 10\nline 11\nline 12\n"
    )
    assert ("-", "10") in first.ops and ("+", "ten") in first.ops
    assert (second.old_line, second.new_line) == (78, 78)
    assert "".join(t for k, t in second.ops if k != "-").startswith("line 78\nline 79\nline eighty")
    assert hunks([("=", old)]) == []


def test_hunks_merge_when_close_and_count_lines_per_side() -> None:
    old = _numbered(30)
    # changes 4 unchanged lines apart (= 2 * context): one hunk
    new = old.replace("line 10\n", "line ten\n").replace("line 15\n", "line fifteen\n")
    assert len(hunks(word_diff(old, new), context_lines=2)) == 1
    # 5 lines apart: two hunks
    new = old.replace("line 10\n", "line ten\n").replace("line 16\n", "line sixteen\n")
    assert len(hunks(word_diff(old, new), context_lines=2)) == 2
    # inserted lines shift the new side's numbers
    new = old.replace("line 5\n", "line 5\nextra a\nextra b\n").replace("line 25\n", "line XXV\n")
    result = hunks(word_diff(old, new), context_lines=1)
    assert [(h.old_line, h.new_line) for h in result] == [(5, 5), (24, 26)]
    assert result[1].ops[0] == ("=", "line 24\nline ")


def test_hunks_at_the_edges_and_without_context() -> None:
    old = _numbered(10)
    new = "first\n" + old.replace("line 10\n", "")
    result = hunks(word_diff(old, new), context_lines=0)
    assert [(h.old_line, h.new_line) for h in result] == [(1, 1), (10, 11)]
    assert result[0].ops == (("+", "first\n"),)
    assert result[1].ops == (("-", "line 10\n"),)
    assert all(isinstance(h, Hunk) for h in result)


def _ends_of_all_lines(text: str, lead: int, tail: int, always: bool) -> tuple[str, str] | None:
    """What changes.diff._ends returns, from every line of the text."""
    lines = text.splitlines(keepends=True)
    if not always and len(lines) <= lead + tail:
        return None
    return "".join(lines[:lead]), "".join(lines[-tail:]) if tail else ""


@pytest.mark.parametrize("window", [1, 3, 16, 1024])
def test_the_ends_of_a_long_text_are_those_of_all_its_lines(
    window: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines split from a window at each end are those of the whole text, whatever line
    boundary (CR LF cut by a window included) and however many lines a window holds."""
    monkeypatch.setattr(diff, "_WINDOW", window)
    pieces = ["a", "bc ", "\n", "\r", "\r\n", "\x0b", "\x1c", "\x85", "\u2028", "é", "\n\n"]
    rng = random.Random(window)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 60)))
        lead, tail, always = rng.randrange(0, 4), rng.randrange(0, 4), rng.random() < 0.5
        assert diff._ends(text, lead, tail, always) == _ends_of_all_lines(
            text, lead, tail, always
        ), (text, lead, tail, always)


def test_hunks_on_a_real_change_cover_every_change() -> None:
    versions = load_corpus("facebook-privacy-policy-en")
    normalised = _normalised("facebook-privacy-policy-en")
    i = recorded_on(versions, "2024-06-26")
    ops = word_diff(normalised[i - 1], normalised[i])
    folded = hunks(ops)
    changes = [op for op in ops if op[0] != "="]
    assert [op for h in folded for op in h.ops if op[0] != "="] == changes
    shown = sum(len(t) for h in folded for _, t in h.ops)
    assert shown < len(normalised[i]) / 2  # a reader sees the changes, not the policy
    old_lines = normalised[i - 1].split("\n")
    for hunk in folded:  # line numbers point at the hunk's first line
        first_old = "".join(t for k, t in hunk.ops if k != "+").split("\n")[0]
        assert old_lines[hunk.old_line - 1].startswith(first_old)


def test_tokens_and_segments_are_lossless() -> None:
    text = load_corpus("facebook-privacy-policy-fr")[0].text
    assert "".join(tokenize(text)) == text
    assert "".join(segments(text)) == text
    assert tokenize("Don't opt-out, now.") == ["Don't", " ", "opt-out", ",", " ", "now", "."]
