"""What a change means (changes/classify.py and the modules it calls), on small texts."""

from __future__ import annotations

import doctest
import importlib

import pytest

from changes.classify import Earlier, classify
from changes.dates import date_changes, deadlines, iso_date, stated_date
from changes.legalbasis import basis_changes, legal_bases, short_label
from changes.partial import line_ops, vanished

FILLER = "\n\n".join(f"Paragraph {i} says something about the service." for i in range(30))


def policy(*rows: str, effective: str = "May 27, 2025", extra: str = "") -> str:
    """A small policy in Meta's table layout: one legitimate-interests table."""
    table = "\n".join(f"| {purpose} | {interest} | Your activity |" for purpose, interest in rows)
    return (
        f"Privacy Policy\n\nEffective {effective}\n\n{FILLER}\n\n"
        "Legitimate interests\n--------------------\n\n"
        "We rely on our legitimate interests or the legitimate interests of a third party.\n\n"
        "| ### Why and how we process your information | ### Legitimate interests relied on |"
        " ### Information categories we use |\n| --- | --- | --- |\n"
        f"{table}\n\n"
        "You can [object](https://www.facebook.com/help/contact/367438723733209) to our "
        f"processing your information when we rely on legitimate interests.\n{extra}"
    )


BASE_ROWS = (("Providing measurement: we count people.", "In our interest to measure."),)
AI_ROW = (
    "Develop and improve [artificial intelligence technology](https://www.facebook.com/privacy/"
    "genai) (also called AI at Meta) on Meta Products and for third parties.",
    "In our interest to develop AI.",
)


GENAI = "See [AI at Meta](https://www.facebook.com/privacy/genai)."


def test_a_purpose_gaining_a_basis_is_the_title() -> None:
    old, new = policy(*BASE_ROWS, extra=GENAI), policy(*BASE_ROWS, AI_ROW, extra=GENAI)
    c = classify(old, new, document="Facebook Privacy Policy")
    assert c.alert
    assert c.title == (
        "Facebook Privacy Policy: \u2018Develop and improve AI at Meta\u2019 now relies on "
        "legitimate interests"
    )
    assert c.categories == ["text", "legal-basis", "ai"]
    (item,) = c.summary["bases"]
    assert item["action"] == "added" and item["basis"] == "legitimate interests"
    assert item["purpose"].startswith("Develop and improve artificial intelligence technology")


def test_words_identical_once_links_are_canonical_raise_no_alert() -> None:
    old = policy(*BASE_ROWS, extra="[Cookies](https://www.facebook.com/policies/cookies/?h=AT1)")
    new = policy(*BASE_ROWS, extra="[Cookies](https://www.facebook.com/policies/cookies/?h=AT2)")
    c = classify(old, new, document="P")
    assert not c.alert and c.categories == []
    assert c.summary["no_alert"] == "the words are the same once link targets are set aside"


def test_an_objection_link_moving_alerts_even_with_the_same_words() -> None:
    old = policy(*BASE_ROWS)
    new = old.replace(
        "https://www.facebook.com/help/contact/367438723733209",
        "https://help.meta.com/support/privacy/",
    )
    c = classify(old, new, document="P")
    assert c.alert and c.categories == ["opt-out"]
    (moved,) = c.summary["links"]["retargeted"]
    assert moved["to"] == "https://help.meta.com/support/privacy/" and moved["kind"] == "objection"
    assert "now points to https://help.meta.com/support/privacy/" in c.title


def test_a_page_flipping_back_raises_one_alert() -> None:
    a, b = policy(*BASE_ROWS), policy(*BASE_ROWS, AI_ROW)
    first = classify(a, b, document="P")
    back = classify(b, a, document="P", recent=[Earlier(a, "2024-05-21")])
    again = classify(a, b, document="P", recent=[Earlier(b, "2024-06-18")])
    assert first.alert and not back.alert and not again.alert
    assert back.summary["no_alert"] == "the text returns to the one last seen 2024-05-21"


def test_a_notice_coming_back_after_another_edit_is_a_flip() -> None:
    # TikTok 2026-07: a UK notice shown on some fetches and not others; once the table of
    # contents dropped out, the text with the notice was new, its only line was not
    notice = (
        "_We are changing how we show ads to UK users. Our new Privacy Policy for UK users "
        "comes into effect on 11 November 2026._"
    )
    with_notice = policy(*BASE_ROWS, extra=notice)
    c = classify(
        policy(*BASE_ROWS, extra="Moved."),
        policy(*BASE_ROWS, extra=f"Moved.\n\n{notice}"),
        document="P",
        recent=[Earlier(with_notice, "2026-07-15")],
    )
    assert (
        not c.alert and c.summary["no_alert"] == "only lines the document showed recently came back"
    )
    first = classify(policy(*BASE_ROWS), with_notice, document="P")
    assert first.alert and "dates" in first.categories  # the first time it is news
    removed = classify(
        with_notice,
        policy(*BASE_ROWS),
        document="P",
        recent=[Earlier(policy(*BASE_ROWS), "2026-07-15")],
    )
    assert removed.alert or removed.summary["no_alert"].startswith("the text returns")


def test_a_legal_basis_coming_back_after_another_edit_is_news_again() -> None:
    # The lines came back within the flapping window, as a notice's do, but they restore
    # a purpose's basis: a feed that said "no longer relies" must say it again.
    with_ai = policy(*BASE_ROWS, AI_ROW)
    c = classify(
        policy(*BASE_ROWS, extra="Moved."),
        policy(*BASE_ROWS, AI_ROW, extra="Moved."),
        document="P",
        recent=[Earlier(with_ai, "2026-07-15")],
    )
    assert c.alert and "legal-basis" in c.categories, c.summary.get("no_alert")


def test_punctuation_only_edits_stay_quiet_whatever_the_detectors_say() -> None:
    # TikTok 2023-10: "comes into effect on \\[19 November 2023\\]" lost its brackets
    old = policy(
        *BASE_ROWS, extra="Our new Privacy Policy comes into effect on \\[19 November 2023\\]."
    )
    new = policy(*BASE_ROWS, extra="Our new Privacy Policy comes into effect on 19 November 2023.")
    c = classify(old, new, document="P")
    assert not c.alert, c.title
    # the same letters with another date's digits are news
    moved = classify(policy(*BASE_ROWS), policy(*BASE_ROWS, effective="May 28, 2025"), document="P")
    assert moved.alert and "dates" in moved.categories


def test_a_line_rendered_twice_and_a_chrome_sentence_are_no_news() -> None:
    # Facebook's terms 2023-09 (a line doubled) and TikTok 2023-08 (a final stop dropped,
    # "Click here to learn more." appended to a sentence)
    once = policy(
        *BASE_ROWS,
        extra="Date of Last Revision: July 5, 2023\n\nWe share it with researchers.\n\n"
        "As described in [Legal Bases](#legal-base).",
    )
    twice = policy(
        *BASE_ROWS,
        extra="Date of Last Revision: July 5, 2023 Date of Last Revision: July 5, 2023\n\n"
        "We share it with researchers. Click [here](https://example.com/r) to learn more.\n\n"
        "As described in [Legal Bases](#legal-base)",
    )
    c = classify(once, twice, document="P")
    assert not c.alert and c.summary["no_alert"].startswith("the same sentences once final stops")


def test_a_sentence_removed_from_one_of_two_lists_alerts() -> None:
    # Facebook 2026-02: an information category listed under two purposes left one of them
    item = "* Public content you or others create or share, like posts or comments"
    old = policy(*BASE_ROWS, extra=f"Consent:\n\n{item}\n\nLegitimate interests:\n\n{item}.")
    new = policy(*BASE_ROWS, extra=f"Consent:\n\n{item}\n\nLegitimate interests:\n\n* Nothing else")
    assert classify(old, new, document="P").alert


def _blocks(n: int) -> list[str]:
    return [f"Glossary {i}\n" + " ".join(f"definition{i}w{j}" for j in range(60)) for i in range(n)]


def _page(blocks: list[str], effective: str = "May 1, 2025") -> str:
    """Sections with pop-up blocks between them (the shape of Meta's printable policy)."""
    parts = [f"Effective {effective}"]
    for i in range(40):
        parts.append(f"Section {i}: we keep records of item {i}.")
        if i % 8 == 0 and blocks:
            parts.append(blocks[i // 8])
    return "\n\n".join(parts) + "\n"


def test_a_partial_render_is_held_and_only_the_rest_alerts() -> None:
    full = _page(_blocks(5))
    partial = _page(["" for _ in range(5)], effective="June 2, 2025")
    c = classify(full, partial, document="P")
    assert c.summary["held"]["blocks"] == 5 and c.summary["held"]["words"] > 250
    assert c.alert and c.categories == ["text", "dates"]
    assert c.title == "P: effective date moved from May 1, 2025 to June 2, 2025"
    two = _page([*_blocks(3), "", ""])
    assert "held" not in classify(full, two, document="P").summary  # an edit, not a render
    back = classify(
        partial, _page(_blocks(5), "June 2, 2025"), document="P", recent=[Earlier(full, "x")]
    )
    assert not back.alert and back.summary["restored"]["blocks"] == 5
    assert back.summary["no_alert"].startswith("only blocks seen recently came back")


def test_small_pieces_come_back_with_a_partial_render_but_not_new_sentences() -> None:
    # Facebook 2026-01: ten glossary blocks came back with the note headings between them
    def page(blocks: list[str], headings: bool, extra: str = "") -> str:
        parts = []
        for i, block in enumerate(blocks):
            parts.append(f"Section {i}: we keep records of item {i}.")
            if headings:
                parts.append(f"Note {i}\n-------")
            parts.append(block)
        return extra + "\n\n".join(parts) + "\n"

    full, bare = page(_blocks(5), True), page([""] * 5, False)
    back = classify(bare, full, document="P", recent=[Earlier(full, "2025-12-16")])
    assert not back.alert and back.summary["restored"]["blocks"] == 5
    new_line = "We now sell your data to brokers.\n\n"
    news = classify(
        bare, page(_blocks(5), True, new_line), document="P", recent=[Earlier(full, "x")]
    )
    assert news.alert and "sell your data" in news.title


def test_headings_numbered_instead_of_titled_are_no_news() -> None:
    # Facebook 2023-07 and 2024-05: the notes' headings are "1", "2", ... on some renders
    body = "\n\n".join(f"Body of note {i}: we explain item {i} here." for i in range(4))
    titles = ["What Products does this policy cover?", "Partner", "Device", "Take control"]
    titled = "\n\n".join(f"{t}\n\n{b}" for t, b in zip(titles, body.split("\n\n"), strict=True))
    numbered = "\n\n".join(f"{i + 1}\n\n{b}" for i, b in enumerate(body.split("\n\n")))
    for old, new in ((titled, numbered), (numbered, titled)):
        c = classify(policy(*BASE_ROWS, extra=old), policy(*BASE_ROWS, extra=new), document="P")
        assert not c.alert and c.summary["no_alert"].startswith("only the headings of notes")
    renamed = numbered.replace("1\n\n", "Our new promise: we never sell data\n\n")
    assert classify(
        policy(*BASE_ROWS, extra=numbered), policy(*BASE_ROWS, extra=renamed), document="P"
    ).alert


def test_link_cards_relabelled_are_no_news() -> None:
    # Facebook 2025-02: "[How to ... Facebook Help Center](...)" lost its source label
    old = policy(
        *BASE_ROWS,
        extra="[How to manage location settings Facebook Help Center](https://example.com/h/1)\n\n"
        "[Learn more about ads Privacy Center](https://example.com/guide/ads)",
    )
    new = old.replace(" Facebook Help Center]", "]").replace(" Privacy Center]", "]")
    c = classify(old, new, document="P")
    assert not c.alert and c.summary["no_alert"].startswith("only the labels of links")
    moved = new.replace("https://example.com/guide/ads", "https://example.com/guide/other")
    assert classify(old, moved, document="P").alert  # a card leading elsewhere is news


def test_vanished_needs_several_whole_blocks() -> None:
    old, new = _page(_blocks(5)).splitlines(), _page([""] * 5).splitlines()
    held = vanished(old, new, line_ops(old, new))
    assert held is not None and held.count == 5


def test_processing_steps_added_to_a_purpose() -> None:
    row = "Providing and improving our Meta Products: we use it to:<br><br>* Provide features"
    old = policy((row, "In our interest."))
    new = policy(
        (row + "<br>* Provide and curate artificial intelligence technology", "In our interest.")
    )
    c = classify(old, new, document="P")
    (entry,) = c.summary["processing"]
    assert entry["added"] == ["Provide and curate artificial intelligence technology"]
    assert entry["bases"] == ["legitimate interests"]
    assert "ai" in c.categories and "legal-basis" in c.categories


def test_legal_bases_in_french_and_german_prose() -> None:
    fr = (
        "### Sur quelle base légale nous appuyons-nous ?\n\n"
        "* dans la mesure nécessaire à l’exécution d’un contrat ;\n"
        "* en respectant votre consentement ;\n"
        "* pour nos intérêts légitimes.\n"
    )
    de = (
        "## Rechtsgrundlagen\n\nWir verarbeiten Informationen auf Grundlage deiner Einwilligung, "
        "zur Vertragserfüllung, aufgrund rechtlicher Verpflichtungen, zum Schutz "
        "lebenswichtiger Interessen, im öffentlichen Interesse und aufgrund berechtigter "
        "Interessen.\n"
    )
    assert legal_bases(fr, "fr").stated == {"contract", "consent", "legitimate-interests"}
    assert len(legal_bases(de, "de").stated) == 6


@pytest.mark.parametrize(
    ("lang", "table"),
    [
        (
            "en",
            "| Purpose | Legal basis |\n| --- | --- |\n"
            "| Develop and improve AI at Meta | Legitimate interests |\n"
            "| Personalised ads | Consent |\n",
        ),
        (
            "fr",
            "| Finalité | Base juridique |\n| --- | --- |\n"
            "| Développer et améliorer l’IA chez Meta | Intérêts légitimes |\n"
            "| Publicités personnalisées | Consentement |\n",
        ),
        (
            "de",
            "| Zweck | Rechtsgrundlage |\n| --- | --- |\n"
            "| KI bei Meta entwickeln und verbessern | Berechtigte Interessen |\n"
            "| Personalisierte Werbung | Einwilligung |\n",
        ),
    ],
)
def test_purpose_and_basis_tables(lang: str, table: str) -> None:
    found = legal_bases("We process information for the following legal bases:\n\n" + table, lang)
    assert found.stated == {"legitimate-interests", "consent"}
    (ai,) = found.purposes["legitimate-interests"]
    assert "AI" in ai.label or "KI" in ai.label or "IA" in ai.label


def test_a_basis_dropped_from_the_stated_list() -> None:
    old = "## Legal basis\n\nWe rely on consent, legitimate interests and legal obligations.\n"
    new = "## Legal basis\n\nWe rely on consent and legal obligations.\n"
    changes = basis_changes(legal_bases(old), legal_bases(new))
    assert changes["bases_removed"] == ["legitimate interests"]


def test_dates_and_deadlines() -> None:
    assert iso_date("26. Juni 2024") == "2024-06-26" and iso_date("4 janvier 2022") == "2022-01-04"
    old = "Effective from 16 December 2025\n\nYou can object before June 26, 2024."
    new = "Effective December 16, 2025\n\nYou can object before July 26, 2024."
    moved = date_changes(old, new)
    assert "date" not in moved  # the same day, written another way
    assert moved["deadlines"]["added"][0]["date"] == "July 26, 2024"
    (fr,) = deadlines("Vous pouvez vous opposer jusqu’au 26 juin 2024.", "fr")
    assert fr.date == "26 juin 2024"
    (de,) = deadlines("Du kannst bis zum 26. Juni 2024 widersprechen.", "de")
    assert de.date == "26. Juni 2024"


def test_a_second_stated_date_moving_is_a_date_change() -> None:
    # TikTok 2024-10: the US children's policy below the EEA policy, "_Last updated: ..._"
    old = (
        "_Effective Date: 19 November 2023_\n\nEEA policy.\n\nKids\n\nLast updated: January 1, 2023"
    )
    new = old.replace("Last updated: January 1, 2023", "_Last updated: October 1, 2024_")
    found = date_changes(old, new)
    assert "date" not in found
    assert found["other_date"] == {"from": "January 1, 2023", "to": "October 1, 2024"}
    c = classify(old, new, document="P")
    assert c.alert and "dates" in c.categories
    assert c.title == "P: a date stated further down moved from January 1, 2023 to October 1, 2024"
    # a second policy appearing with its date is not a move (TikTok 2024-04)
    assert date_changes(old.rsplit("\n\nKids", 1)[0], old) == {}
    assert stated_date("Revised: 26 July 2022") == "26 July 2022"  # Instagram's terms


def test_short_labels() -> None:
    assert short_label(
        "To provide, develop and improve artificial intelligence technology "
        "(also called AI at Meta) on our Products"
    ) == ("To provide, develop and improve AI at Meta")


@pytest.mark.parametrize(
    "module",
    [
        "changes.ai",
        "changes.categories.ai",
        "changes.classify",
        "changes.dates",
        "changes.legalbasis",
        "changes.noise",
        "changes.optout",
        "changes.plain",
        "changes.titles",
    ],
)
def test_docstring_examples_run(module: str) -> None:
    failures, tried = doctest.testmod(importlib.import_module(module))
    assert tried and not failures
