"""The evaluation of issue #8 with its thresholds: every history with a gold file
(eval/gold) replayed through the real pipeline into real SQLite, its changes scored
against labels people wrote by reading the texts (bench/eval_meaning.py prints the table).
Histories: Platform Governance Archive, ODC-BY 1.0 (demo/data, eval/corpus)."""

from __future__ import annotations

import pytest

from eval.meaning import CATEGORIES, DocumentScore, evaluate, gold_documents, is_vague, total


@pytest.fixture(scope="module")
def scores() -> list[DocumentScore]:
    return evaluate(jobs=2)


def test_every_corpus_history_has_gold_labels() -> None:
    assert len(gold_documents()) == 12


def test_every_history_is_replayed_and_scored(scores: list[DocumentScore]) -> None:
    assert [s.document for s in scores] == gold_documents()
    t = total(scores)
    assert t.changes > 500 and t.alerts > 100 and t.labelled_days > 300


# The targets of issue #8 on the whole corpus (docs/decisions/0013; every failure:
# `python bench/eval_meaning.py --details`).


def test_no_false_legal_basis_claim(scores: list[DocumentScore]) -> None:
    assert total(scores).false_claims == []


def test_every_category_is_found(scores: list[DocumentScore]) -> None:
    t = total(scores)
    for name in CATEGORIES:
        recall = t.categories[name].recall
        assert recall is not None and recall >= 0.95, (name, recall, t.categories[name])


def test_titles_say_what_changed(scores: list[DocumentScore]) -> None:
    t = total(scores)
    assert t.vague_share <= 0.10, t.vague_titles


def test_optout_as_measured(scores: list[DocumentScore]) -> None:
    # what the opt-out detector reaches (docs/decisions/0013 §13: 96% / 100%; §11: 94% / 77%,
    # 50% / 29% before): raise these as it improves, never lower them
    counts = total(scores).categories["opt-out"]
    assert counts.precision is not None and counts.precision >= 0.96, counts.false_hits
    assert counts.recall is not None and counts.recall >= 1.0, counts.misses


# What the rules reach on the corpus (docs/decisions/0013, "Measured"): raise these as
# they improve, never lower them.
RECALL_FLOORS = {"legal-basis": 1.0, "opt-out": 1.0, "dates": 1.0, "ai": 1.0}
PRECISION_FLOORS = {"legal-basis": 1.0, "opt-out": 0.96, "dates": 1.0, "ai": 0.89}
NOISE_CEILING = 0.035  # 4 noise alerts of 130 (docs/decisions/0013 §16)
CLAIMS_FOUND_FLOOR = 31  # of 75 labelled, steps counted (docs/decisions/0013 §16; 18 before)


def test_recall_as_measured(scores: list[DocumentScore]) -> None:
    t = total(scores)
    for name, floor in RECALL_FLOORS.items():
        recall = t.categories[name].recall
        assert recall is not None and recall >= floor, (name, recall, t.categories[name].misses)


def test_precision_as_measured(scores: list[DocumentScore]) -> None:
    t = total(scores)
    for name, floor in PRECISION_FLOORS.items():
        precision = t.categories[name].precision
        assert precision is not None and precision >= floor, (
            name,
            precision,
            t.categories[name].false_hits,
        )


def test_noise_as_measured(scores: list[DocumentScore]) -> None:
    t = total(scores)
    assert t.noise_share <= NOISE_CEILING, t.noise_alerts


def test_claims_found_as_measured(scores: list[DocumentScore]) -> None:
    t = total(scores)
    assert t.found_claims >= CLAIMS_FOUND_FLOOR, (t.found_claims, t.gold_claims)


def test_noise_stays_quiet(scores: list[DocumentScore]) -> None:
    t = total(scores)
    assert t.noise_share <= 0.05, t.noise_alerts


def test_every_stored_change_is_labelled(scores: list[DocumentScore]) -> None:
    assert total(scores).unlabelled_days == []


def test_vague_means_word_counts_only() -> None:
    assert is_vague("Policy: text changed (+3/-1 words)")
    assert not is_vague("Policy: in 'Ads', added: \u201cWe show ads.\u201d")
