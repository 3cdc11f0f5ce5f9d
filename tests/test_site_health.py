"""Source-health and link-health changes, and the links page."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from feeds.publish import publish
from tests import factories, site_helpers
from tests.factories import (
    T1,
    T2,
    T3,
    add_check,
    add_document,
    add_health_change,
    add_link,
    add_sighting,
)
from tests.site_helpers import BASE, links, only_our_script

session = factories.session  # a real SQLite file
changes = site_helpers.changes


def test_health_changes_render_without_a_diff_and_silent_ones_are_not_listed(
    session: Session, tmp_path: Path
) -> None:
    add_document(session, "fb", "Facebook Privacy Policy", "https://www.facebook.com/privacy")
    form = "https://www.facebook.com/help/contact/1"
    link = add_link(session, form, "objection", "not-found", T3)
    for kind, title, alert in (
        ("link-health", "Objection form is gone", True),
        ("source-health", "The policy kept failing", True),
        ("source-health", "Flapped back, kept quietly", False),
    ):
        add_health_change(
            session,
            kind,
            "fb",
            T3,
            title,
            ["opt-out-links"],
            {"outcome": {"from": "form", "to": "not-found"}},
            link=link if kind == "link-health" else None,
            alert=alert,
        )
    session.commit()
    out = tmp_path / "public"
    result = publish(session, out, BASE)
    assert result.changes == 2
    index = (out / "index.html").read_text()
    assert "Objection form is gone" in index and "Flapped back" not in index
    assert "Link health; Outcome: From: form; To: not-found" in index
    pages = {p.read_text() for p in (out / "changes").glob("*.html")}
    (link_page,) = [p for p in pages if "<h1>Objection form is gone" in p]
    assert f'href="../links.html#link-{link.id}"' in link_page
    assert "What changed" not in link_page and "<ins>" not in link_page
    (source_page,) = [p for p in pages if "<h1>The policy kept failing" in p]
    assert 'href="../documents/fb.html#timeline"' in source_page
    assert "+0 / −0 words" not in (out / "feed.atom").read_text()


def test_links_page_shows_every_link_where_it_appears_and_its_checks(
    session: Session, tmp_path: Path
) -> None:
    add_document(session, "fb", "Facebook Privacy Policy", "https://www.facebook.com/privacy")
    good = add_link(session, "https://www.facebook.com/help/contact/1", "objection", "form", T1)
    bad = add_link(session, "javascript:alert(1)", "opt-out", "<b>weird</b>", T2)
    add_sighting(session, good, "fb", "Object here", "You can object <script>x</script>")
    add_sighting(session, bad, "fb", "gone", "", last_seen=T2, present=False)
    for i in range(25):
        at = T1 + (T2 - T1) * i / 25
        add_check(session, good, at, "form", "a form", final_url="https://www.facebook.com/help/")
    add_check(
        session,
        bad,
        T2,
        "error",
        "<img src=x onerror=alert(1)>",
        http_status=None,
        final_url="javascript:alert(2)",
    )
    session.commit()
    out = tmp_path / "public"
    publish(session, out, BASE)
    page = (out / "links.html").read_text()
    assert page.index(f'id="link-{bad.id}"') < page.index(f'id="link-{good.id}"')  # failing first
    assert (
        '<a href="https://www.facebook.com/help/contact/1" rel="noopener noreferrer nofollow">'
        in page
    )
    assert 'class="health health-ok">form</span>' in page
    assert 'class="health health-unknown">&lt;b&gt;weird&lt;/b&gt;</span>' in page
    assert "You can object &lt;script&gt;x&lt;/script&gt;" in page
    assert "(no longer there since" in page
    assert "The 20 newest of 25 checks." in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert not any(u.startswith("javascript") for u in links(out / "links.html").urls)
    assert only_our_script(page) and "<img" not in page
