"""The story of a change on its page: one sentence, recorded and effective dates, what the
basis means and how to object (sourced), the document's objection links and their health,
previous/next links with titles, and passage lines linking the numbered archived text."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.orm import Session

from changes.summaries import read_bases
from feeds.publish import publish
from feeds.story import sentence
from feeds.views import ChangeView, DocumentView
from tests import factories
from tests.factories import (
    T1,
    T2,
    T3,
    add_change,
    add_check,
    add_document,
    add_link,
    add_sighting,
    add_version,
)

session = factories.session
FILL = "\n\n".join(f"Paragraph {i} stays." for i in range(20))
OLD = (
    f"# Policy\n\n{FILL}\n\nDevelop and improve AI at Meta: consent.\n\nEffective April 7, 2025.\n"
)
NEW = OLD.replace(": consent.", ": legitimate interests.")
NEWER = NEW.replace("April 7, 2025", "May 27, 2025")


def test_a_legal_basis_change_tells_its_story(session: Session, tmp_path: Path) -> None:
    add_document(session, "fb", "Facebook Privacy Policy")
    v1 = add_version(session, "fb", OLD, T1, "April 7, 2025")
    v2 = add_version(session, "fb", NEW, T2, "April 7, 2025")
    v3 = add_version(session, "fb", NEWER, T3, "May 27, 2025")
    summary = {
        "bases": [
            {
                "action": "added",
                "basis": "legitimate interests",
                "purpose": "Develop and improve AI at Meta",
            },
            {"action": "removed", "basis": "consent", "purpose": "Develop and improve AI at Meta"},
        ]
    }
    basis = add_change(
        session, v1, v2, OLD, NEW, T2, "Legal basis for AI changed", ["legal-basis", "ai"], summary
    )
    date = add_change(
        session,
        v2,
        v3,
        NEW,
        NEWER,
        T3,
        "Effective date moved to May 27",
        ["dates"],
        {"date": {"from": "April 7, 2025", "to": "May 27, 2025"}},
    )
    form = add_link(
        session,
        "https://www.facebook.com/help/contact/712876720715583",
        "objection",
        "login-required",
        T2,
    )
    add_sighting(session, form, "fb", "object", "")
    add_check(
        session,
        form,
        T3,
        "login-required",
        "login",
        final_url="https://www.facebook.com/login/",
    )
    session.commit()
    out = tmp_path / "public"
    publish(session, out, "https://pw.example/")
    page = (out / "changes" / f"{basis.id}.html").read_text()

    sentence = re.search(r'<p class="story">(.*?)</p>', page).group(1)
    assert sentence == (
        "Facebook Privacy Policy now names legitimate interests as the legal basis for "
        "“Develop and improve AI at Meta”, where it named consent."
    )
    assert "recorded <time" in page and "effective April 7, 2025" in page
    why = page[page.index('<h2 id="why">') : page.index("</section>", page.index('<h2 id="why">'))]
    assert "<h3>Legitimate interests</h3>" in why and "<h3>Consent</h3>" in why
    assert "Article 6(1)(f), Article 21(1)" in why and "Article 7(3)" in why
    assert "https://eur-lex.europa.eu/eli/reg/2016/679/oj" in why
    assert 'href="https://www.facebook.com/help/contact/712876720715583"' in why
    assert "login-required</span>, last checked <time" in why
    assert f'href="../links.html#link-{form.id}"' in why and 'href="../links.html"' in why
    assert (
        f'rel="next" href="../changes/{date.id}.html">Next: Effective date moved to May 27' in page
    )
    # the passage's line links the numbered archived text of the new version
    line = int(re.search(r'<a href="\.\./versions/\d+\.html#L(\d+)">Line', page).group(1))
    archived = (out / "versions" / f"{v2.id}.html").read_text()
    assert f'<li id="L{line}">Paragraph 19 stays.</li>' in archived  # the passage's first line
    assert f'<li id="L{line + 2}">Develop and improve AI at Meta: legitimate' in archived

    date_page = (out / "changes" / f"{date.id}.html").read_text()
    assert "now states the date May 27, 2025 instead of April 7, 2025." in date_page
    assert 'id="why"' not in date_page  # nothing to explain: no basis, no link
    assert "← Previous: Legal basis for AI changed" in date_page


def _view(summary: dict[str, object]) -> ChangeView:
    doc = DocumentView(
        "fb", "fb", "TikTok Privacy Policy", "TikTok", "policy", "en_US", "en", None, ""
    )
    return ChangeView(1, doc, "t", T2, None, None, False, ["legal-basis"], 3, 0, summary)


def test_an_announced_basis_is_told_as_announced_not_as_in_force() -> None:
    claim = {"action": "added", "basis": "consent", "purpose": "personalise ads"}
    announced = {**claim, "announced": {"date": "30 November 2025", "iso": "2025-11-30"}}
    assert sentence(_view({"bases": [announced]}), 1) == (
        "TikTok Privacy Policy announces consent as the legal basis for \u201cpersonalise ads\u201d"
        ", from 30 November 2025."
    )
    assert "now names consent" in sentence(_view({"bases": [claim]}), 1)
    # read through the types of changes/summaries.py; a shape they do not know says nothing
    assert read_bases({"bases": [announced]})[0].announced.iso == "2025-11-30"
    assert read_bases({"bases": "consent"}) is None
    assert sentence(_view({"bases": "consent"}), 1).startswith("The wording of")
