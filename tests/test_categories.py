"""Categories register themselves (changes/categories/): a new one is one module with a
detector, and classification, the site and notification filters take it up."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from changes import categories
from changes.ai import new_ai_sentences
from changes.categories import Category, Edit, Finding, when_nothing_said
from changes.classify import classify
from cli.app import app
from feeds.publish import publish
from tests import factories
from tests.factories import T1, T2, add_change, add_document, add_version

session = factories.session  # a real SQLite file

_CHILDREN = re.compile(r"\b(?:children|teens?|minors?|under (?:the age of )?1[3-8])\b", re.I)


def about_children(edit: Edit) -> Finding | None:
    """A detector as a new module would write it (its words would live in a lexicon)."""
    found = [s for s in (*edit.added, *edit.removed) if _CHILDREN.search(s)]
    if not found:
        return None
    phrase = f"text about minors changed: \u201c{found[0]}\u201d"
    return Finding({"children": found[0]}, when_nothing_said(phrase))


CHILDREN = Category(
    "children",
    "The change concerns children and teenagers: age limits, parental consent, teen accounts.",
    order=45,
    detect=about_children,
)


@pytest.fixture
def children(monkeypatch: pytest.MonkeyPatch) -> Category:
    """CHILDREN registered for one test, as importing its module would register it."""
    categories.registered()  # the package's own modules first
    monkeypatch.setitem(categories._CATEGORIES, CHILDREN.name, CHILDREN)
    return CHILDREN


def test_every_category_is_registered_once_with_a_description() -> None:
    found = categories.registered()
    names = [c.name for c in found]
    assert names[:5] == ["text", "legal-basis", "opt-out", "dates", "ai"]
    assert {"newsroom", "opt-out-health", "source-health"} <= set(names)
    assert len(set(names)) == len(names) and all(c.description for c in found)
    assert [c.order for c in found] == sorted(c.order for c in found)
    with pytest.raises(ValueError, match="two categories are named 'ai'"):
        categories.register(Category("ai", "something else", order=99))


def test_the_ai_category_is_found_by_its_detector() -> None:
    old = "We use your information to provide the service.\n"
    new = old + "\nWe use public posts to train generative AI models.\n"
    result = classify(old, new, document="Policy")
    assert result.categories == ["text", "ai"]
    assert result.summary["ai"] == "We use public posts to train generative AI models."
    assert result.title == (
        "Policy: AI text changed: \u201cWe use public posts to train generative AI models.\u201d"
    )


def test_a_registered_category_is_classified_titled_and_published(
    children: Category, session: Session, tmp_path: Path
) -> None:
    old = "We use your information to provide the service.\n"
    new = old + "\nTeens under 16 need a parent's consent to use the service.\n"
    result = classify(old, new, document="Policy")
    assert result.categories == ["text", "children"] and result.alert
    assert result.summary["children"] == new.splitlines()[-1]
    assert result.title.startswith("Policy: text about minors changed:")
    weightier = classify(
        "Effective May 1, 2025\n\n" + old, "Effective June 2, 2025\n\n" + new, document="Policy"
    )
    assert weightier.categories == ["text", "dates", "children"]
    assert weightier.title == "Policy: effective date moved from May 1, 2025 to June 2, 2025"

    add_document(session, "fb", "Facebook Privacy Policy", "https://www.facebook.com/privacy")
    v1, v2 = add_version(session, "fb", old, T1), add_version(session, "fb", new, T2)
    add_change(session, v1, v2, old, new, T2, result.title, result.categories, result.summary)
    session.commit()
    publish(session, tmp_path / "public", "http://127.0.0.1:8000/")
    page = (tmp_path / "public" / "categories" / "children.html").read_text(encoding="utf-8")
    assert "age limits, parental consent, teen accounts" in page
    assert "Teens under 16 need a parent" in page  # in its title


def _sources(tmp_path: Path, category: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(
        '[[document]]\nid = "fb"\nservice = "Meta"\ntitle = "Policy"\nkind = "policy"\n'
        'url = "https://www.facebook.com/privacy/policy/"\n\n'
        f'[[notify]]\nid = "desk"\nurl_env = "PW_DESK"\ncategories = ["{category}"]\n',
        encoding="utf-8",
    )
    return path


def test_a_notify_target_may_filter_on_any_registered_category(
    children: Category, tmp_path: Path
) -> None:
    runner = CliRunner()
    env = {"COLUMNS": "300"}
    ok = runner.invoke(app, ["sources", "--sources", str(_sources(tmp_path, "children"))], env=env)
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["sources", "--sources", str(_sources(tmp_path, "kids"))], env=env)
    assert bad.exit_code == 2
    (line,) = [line for line in bad.output.splitlines() if line.strip()]
    assert "notify 'desk': field 'categories': unknown kids; known: text, legal-basis" in line
    assert "children" in line


def test_an_ai_sentence_moved_reworded_or_announced_before_is_no_ai_change() -> None:
    ai = "We use and develop advanced technologies such as artificial intelligence."
    glued = "Use and develop advanced technologies: We use and develop advanced technologies - "
    glued += "such as artificial intelligence."
    assert new_ai_sentences([ai], [glued], glued, ai) == []  # moved, its heading dropped
    notice = "We've added information about how you can message with Meta AI."
    assert new_ai_sentences([], [notice], notice, "") == []  # the notice taken down
    assert new_ai_sentences([notice], [], "", notice) == [notice]  # put up: news
    before = "Learn more about how we protect you through face analysis."
    after = "Learn more about face analysis and how we use it to protect you."
    assert new_ai_sentences([after], [before], before, after) == []
    fr = "Nous n'utiliserons pas vos publications pour entraîner nos modèles d'IA."
    was = "Nous utiliserons vos publications pour entraîner nos modèles d'IA."
    assert new_ai_sentences([fr], [was], was, fr, "fr") == [fr]  # a negation is news
