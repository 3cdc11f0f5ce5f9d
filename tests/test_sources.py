"""sources.toml: the real file loads; bad files fail with a message naming entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from config.sources import SourcesError, load_sources, parse_sources

ROOT = Path(__file__).resolve().parent.parent

GOOD = """
[[document]]
id = "fb"
service = "Facebook"
title = "Facebook Privacy Policy"
kind = "policy"
url = "https://mbasic.facebook.com/privacy/policy/printable/"
select = ["#root"]
"""


def test_the_shipped_sources_name_the_real_meta_documents() -> None:
    sources = load_sources(ROOT / "sources.toml")
    urls = {d.url for d in sources.documents} | {d.page_url for d in sources.documents}
    for url in (
        "https://mbasic.facebook.com/privacy/policy/printable/",
        "https://www.facebook.com/privacy/policy/",
        "https://privacycenter.instagram.com/policy",
        "https://www.whatsapp.com/legal/privacy-policy-eea?lang=en",
        "https://help.instagram.com/515230437301944",
        "https://www.facebook.com/privacy/genai",
        "https://privacycenter.instagram.com/privacy/genai",
        "https://www.facebook.com/help/contact/6359191084165019",
        "https://www.facebook.com/help/contact/712876720715583",
        "https://help.instagram.com/contact/767264225370182",
        "https://about.fb.com/news/feed/",
    ):
        assert url in urls, url
    kinds = {d.kind for d in sources.documents}
    assert kinds == {"policy", "genai", "form", "newsroom"}
    assert "www.facebook.com" in sources.hosts() and "evil.example" not in sources.hosts()


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('kind = "policy"', 'kind = "blog"'), "document 'fb' (#1): field 'kind' must be one of"),
        (('url = "https://mbasic', 'url = "ftp://mbasic'), "document 'fb' (#1): field 'url'"),
        (('service = "Facebook"\n', ""), "document 'fb' (#1): missing field 'service'"),
        (('select = ["#root"]', "select = 3"), "field 'select' must be a list"),
        (('id = "fb"', 'id = "Has Spaces"'), "field 'id' may use only"),
        (('select = ["#root"]', 'selekt = ["#root"]'), "unknown field(s) selekt"),
        (('kind = "policy"', 'kind = "policy"\nrender = "js"'), "field 'render' must be one of"),
        (("[[document]]", "[[document"), "not valid TOML"),
    ],
)
def test_bad_entries_name_the_entry_and_field(edit: tuple[str, str], message: str) -> None:
    with pytest.raises(SourcesError) as info:
        parse_sources(GOOD.replace(*edit))
    assert message in str(info.value)


def test_duplicate_ids_and_unknown_selection() -> None:
    with pytest.raises(SourcesError, match="id used twice"):
        parse_sources(GOOD + GOOD)
    with pytest.raises(SourcesError, match="unknown document id"):
        parse_sources(GOOD).select(["nope"])


def test_cli_exits_2_with_a_clear_message_on_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "sources.toml"
    bad.write_text(GOOD.replace('kind = "policy"', 'kind = "blog"'))
    result = CliRunner().invoke(app, ["crawl", "--sources", str(bad), "--db", "sqlite://"])
    assert result.exit_code == 2
    assert "field 'kind' must be one of" in result.output
    missing = CliRunner().invoke(app, ["crawl", "--sources", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 2 and "cannot read" in missing.output


LOCALES = GOOD.replace(
    'select = ["#root"]',
    'select = ["#root"]\nlocales = ["fr_FR", "de_DE"]\n'
    'locale_url = "https://{lang}-{region}.facebook.com/privacy/policy/printable/"',
)


def test_locales_are_documents_of_their_own() -> None:
    sources = parse_sources(LOCALES)
    base, fr, de = sources.documents
    assert [d.id for d in sources.documents] == ["fb", "fb.fr_FR", "fb.de_DE"]
    assert fr.url == "https://fr-fr.facebook.com/privacy/policy/printable/"
    assert (fr.locale, fr.language, fr.group_id, fr.title) == (
        "fr_FR",
        "fr",
        "fb",
        "Facebook Privacy Policy [fr_FR]",
    )
    assert de.language == "de" and base.group_id == "fb" and base.language == "en"
    assert {"fr-fr.facebook.com", "de-de.facebook.com"} <= sources.hosts()
    assert sources.select(["fb.de_DE"]) == (de,)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('"fr_FR", "de_DE"', '"french"'), "document 'fb' (#1): field 'locales': 'french'"),
        (('"fr_FR", "de_DE"', '"fr_FR", "fr_FR"'), "field 'locales' repeats a locale"),
        (('locale_url = "https://{lang}-{region}', '# "'), "field 'locales' needs 'locale_url'"),
        (("{lang}-{region}", "{country}"), "field 'locale_url' must use {locale}"),
        (("https://{lang}", "ftp://{lang}"), "field 'locale_url' must be an http(s) URL"),
    ],
)
def test_bad_locales_name_the_entry_and_field(edit: tuple[str, str], message: str) -> None:
    with pytest.raises(SourcesError) as info:
        parse_sources(LOCALES.replace(*edit))
    assert message in str(info.value)


def test_newsroom_fields() -> None:
    feed = GOOD.replace('kind = "policy"', 'kind = "newsroom"')
    with pytest.raises(SourcesError, match="field 'keywords' must be a non-empty list"):
        parse_sources(feed)
    with pytest.raises(SourcesError, match="field 'keywords' is only for kind newsroom"):
        parse_sources(GOOD + 'keywords = ["AI"]\n')
    sources = parse_sources(feed + 'keywords = ["AI", "privacy"]\npost_select = ["article"]\n')
    assert sources.feeds["fb"].keywords == ("AI", "privacy")
    assert sources.feeds["fb"].post_select == ("article",)


def test_a_run_reads_the_sources_file_again_after_an_edit(tmp_path: Path) -> None:
    from config.run import RunConfig, sources_of

    path = tmp_path / "sources.toml"
    entry = '[[document]]\nid = "{id}"\nservice = "S"\ntitle = "T"\nkind = "policy"\n'
    entry += 'url = "https://example.org/{id}"\n'
    path.write_text(entry.format(id="one"), encoding="utf-8")
    cfg = RunConfig("sqlite://", str(path))
    assert [d.id for d in sources_of(cfg).documents] == ["one"]
    assert sources_of(cfg) is sources_of(cfg)  # parsed once for the same content
    path.write_text(entry.format(id="two"), encoding="utf-8")  # same size, same second
    assert [d.id for d in sources_of(cfg).documents] == ["two"]
    path.write_text(entry.format(id="two") + "bogus = [\n", encoding="utf-8")
    for _ in range(2):  # an invalid file is refused on every call, naming the file
        with pytest.raises(SourcesError, match="sources.toml"):
            sources_of(cfg)
