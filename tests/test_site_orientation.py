"""Orientation on the site: a "sources failing" banner with the failure type and since when,
and what each category means (index and category pages)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from feeds.publish import publish
from storage.models import Document
from tests import factories
from tests.factories import T1, T2, T3, add_change, add_document, add_fetch, add_version

session = factories.session


def fetch(
    session: Session, doc: str, at: datetime, error: str | None, status: int | None = None
) -> None:
    detail = "<b>name or service not known</b>" if error else None
    add_fetch(session, doc, at, error, status, detail, url="https://www.facebook.com/x")


def test_failing_sources_banner_and_category_descriptions(session: Session, tmp_path: Path) -> None:
    add_document(session, "fb", "Facebook Privacy Policy")
    add_document(session, "ig", "Instagram Privacy Policy")
    v1 = add_version(session, "fb", "One text here.", T1)
    v2 = add_version(session, "fb", "Another text here.", T2)
    add_change(
        session, v1, v2, "One text here.", "Another text here.", T2, "FB changed", ["text", "ai"]
    )
    fetch(session, "fb", T1, None, 200)
    fetch(session, "fb", T2, "dns")  # failing since T2...
    fetch(session, "fb", T3, "http", 503)  # ...whatever the error type
    fetch(session, "ig", T1, "dns")
    fetch(session, "ig", T2, None, 200)  # recovered: not failing
    add_document(session, "form", "Objection form")
    session.get(Document, "form").kind = "form"  # type: ignore[union-attr]
    fetch(session, "form", T2, "login-wall")  # a form's health is a link's: not a source
    session.commit()
    out = tmp_path / "public"
    publish(session, out, "https://pw.example/")
    index = (out / "index.html").read_text()
    banner = index[index.index('class="banner failing"') : index.index("</section>")]
    assert "1 source failing" in banner and "Facebook Privacy Policy" in banner
    assert "Instagram" not in banner
    assert f'http (HTTP 503) since <time datetime="{T2.isoformat()}">' in banner
    assert "2 failed fetches" in banner and "&lt;b&gt;name or service" in banner
    assert "The change concerns artificial intelligence" in index
    category = (out / "categories" / "ai.html").read_text()
    assert '<p class="description">The change concerns artificial intelligence' in category

    fetch(session, "fb", T3.replace(hour=20), None, 200)  # works again: no banner
    session.commit()
    publish(session, out, "https://pw.example/")
    assert "banner failing" not in (out / "index.html").read_text()
