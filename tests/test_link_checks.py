"""Opt-out link health end to end: forms served locally switch state; checks run through the
real spider (link mode), the outcome classifier, the debounce and the feeds."""

from __future__ import annotations

from pathlib import Path

import feedparser
from sqlalchemy import select
from typer.testing import CliRunner

from cli.app import app
from config.run import RunConfig, sources_of
from demo.server import FakeMeta
from pipeline import derive, link_checks, spider_process
from storage.db import open_db
from storage.models import Change, Link, LinkCheck, LinkSighting
from tests.conftest import write_sources
from tests.factories import start_run

FORM = (
    "<html><body><div id='root'><h1>Object to your information being used for AI at Meta</h1>"
    "<form action='/submit'><input type=email name=email><textarea name=why></textarea>"
    "<button type=submit>Send</button></form></div></body></html>"
)
GONE = "<html><body><h2>This form is not available</h2><p>Try again later.</p></body></html>"
GONE_FR = "<html><body><h2>Ce formulaire n’est pas disponible</h2></body></html>"
LOGIN = (
    "<html><body><form action='/login/'><input name=email><input type=password name=pass>"
    "</form><p>Log into Facebook</p></body></html>"
)


def config(tmp_path: Path, db_url: str, site: FakeMeta, docs: list[dict[str, object]]) -> RunConfig:
    sources = write_sources(tmp_path / "sources.toml", docs, timeout=1.0)
    return RunConfig(
        db_url=db_url,
        sources_path=str(sources),
        out_dir=str(tmp_path / "public"),
        base_url="https://pw.example/",
    )


def check(cfg: RunConfig) -> dict[str, int]:
    return link_checks.check_links(cfg, start_run(cfg))


def health(cfg: RunConfig) -> dict[tuple[str, str], str | None]:
    with open_db(cfg.db_url)() as s:
        return {(link.url, link.locale): link.outcome for link in s.scalars(select(Link))}


def test_forms_that_break_give_one_entry_each_after_confirmation(
    tmp_path: Path, db_url: str, site: FakeMeta
) -> None:
    for name in ("a", "b", "c", "d"):
        site.page(f"/help/contact/{name}", FORM)
    site.page("/help/contact/a?locale=fr_FR", FORM)
    forms = [
        {"id": f"form-{n}", "kind": "form", "title": f"Objection form {n}"}
        | {"url": site.url(f"/help/contact/{n}")}
        for n in "abcd"
    ]
    forms[0] |= {"locales": ["fr_FR"], "locale_url": site.url("/help/contact/a?locale={locale}")}
    cfg = config(tmp_path, db_url, site, forms)

    first = check(cfg)
    assert first == {"links": 5, "checked": 5, "skipped": 0, "link_changes": 0}
    assert set(health(cfg).values()) == {"form"}  # the baseline, not news
    assert site.headers["/help/contact/a?locale=fr_FR"]["Accept-Language"].startswith("fr-FR")

    site.page("/help/contact/a", GONE)  # answers "not available"
    site.page("/help/contact/a?locale=fr_FR", GONE_FR)
    site.redirect("/help/contact/b", "/login/?next=%2Fhelp%2Fcontact%2Fb")
    site.page("/login/?next=%2Fhelp%2Fcontact%2Fb", LOGIN)
    site.page("/help/contact/c", "<h1>Not found</h1>", status=404)
    site.page("/help/contact/d", FORM, delay=2.0)  # one timeout
    assert check(cfg)["link_changes"] == 0  # not confirmed yet
    assert set(health(cfg).values()) == {"form"}

    site.page("/help/contact/d", FORM)
    result = CliRunner().invoke(
        app,
        ["check-links", "--json", "--db", cfg.db_url, "--sources", cfg.sources_path]
        + ["--out", cfg.out_dir, "--base-url", cfg.base_url],
    )
    assert result.exit_code == 0, result.output
    assert '"link_changes": 4' in result.output
    assert health(cfg) == {
        (site.url("/help/contact/a"), "en_US"): "unavailable",
        (site.url("/help/contact/a?locale=fr_FR"), "fr_FR"): "unavailable",
        (site.url("/help/contact/b"), "en_US"): "login-required",
        (site.url("/help/contact/c"), "en_US"): "not-found",
        (site.url("/help/contact/d"), "en_US"): "form",
    }
    with open_db(cfg.db_url)() as s:
        changes = s.scalars(select(Change).order_by(Change.id)).all()
        assert [c.kind for c in changes] == ["link-health"] * 4
        assert all(c.categories == ["opt-out-health"] for c in changes)
        titles = sorted(c.title for c in changes)
        timeout = s.scalars(select(LinkCheck).where(LinkCheck.outcome == "error")).one()
        assert timeout.evidence.startswith("timeout")
    assert titles == [
        "Objection form a [fr_FR] now answers 'ce formulaire n'est pas disponible'",
        "Objection form a now answers 'this form is not available'",
        "Objection form b now requires logging in",
        "Objection form c is gone (HTTP 404)",
    ]
    feed = feedparser.parse((Path(cfg.out_dir) / "categories" / "opt-out-health.atom").read_bytes())
    assert not feed.bozo and sorted(e.title for e in feed.entries) == titles


def test_links_in_texts_are_sighted_and_offsite_ones_never_fetched(
    tmp_path: Path, db_url: str, site: FakeMeta
) -> None:
    filler = " ".join(f"word{i}" for i in range(60))
    policy = (
        "<html><body><div id='root'><h1>Privacy Policy</h1>"
        f"<p>You can <a href='{site.url('/help/contact/x')}'>object to this</a> at any time.</p>"
        f"<p>You can also use <a href='{site.url('/elsewhere', host='localhost')}'>this form</a>"
        " to object to the use of your information.</p>"
        f"<p>{filler}</p></div></body></html>"
    )
    site.page("/policy", policy)
    site.page("/help/contact/x", FORM)
    site.page("/elsewhere", FORM)
    cfg = config(tmp_path, db_url, site, [{"id": "policy", "url": site.url("/policy")}])
    run_id = start_run(cfg)
    spider_process.crawl(cfg, run_id)
    derive.derive_versions(cfg, run_id)

    assert link_checks.check_links(cfg, run_id) == {
        "links": 2,
        "checked": 1,
        "skipped": 1,
        "link_changes": 0,
    }
    assert site.hits.get("/elsewhere", 0) == 0
    with open_db(cfg.db_url)() as s:
        sighting = s.scalars(
            select(LinkSighting).join(Link).where(Link.url == site.url("/help/contact/x"))
        ).one()
        assert sighting.document_id == "policy" and sighting.anchor == "object to this"
        assert sighting.link.outcome == "form" and sighting.link.kind == "objection"
        sources = sources_of(cfg)
        assert [len(x) for x in link_checks.targets(s, sources, {"policy"})] == [1, 1]
        assert link_checks.targets(s, sources, {"another-document"}) == ([], [])
