"""Edits that are no news stay quiet, and a real change of the same shape still alerts
(changes/classify.py, changes/noise.py, changes/partial.py; docs/decisions/0013 §12, §14).
Each case is the shape of a recorded day of the corpus (eval/corpus, demo/data), on small
texts."""

from __future__ import annotations

from changes.classify import Earlier, classify
from changes.noise import without_chrome

FILLER = "\n\n".join(f"Paragraph {i} says something about the service." for i in range(30))


def page(body: str, head: str = "Effective July 26, 2022") -> str:
    return f"Privacy Policy\n\n{head}\n\n{FILLER}\n\n{body}\n"


def test_a_chrome_item_beside_the_date_and_footnote_numbers_are_no_news() -> None:
    # Facebook 2022-09-15: "| View printable version" dropped from the date's line, the
    # notes' links became in-page anchors numbered "[21]"
    old = page(
        "[Learn more](https://example.com/printable/?annotations=1)",
        head="Effective July 26, 2022 | [View printable version](https://example.com/printable/)",
    )
    new = page("[Learn more\\[21\\]](#annotation-21)")
    c = classify(old, new, document="P")
    assert not c.alert, c.title
    # an item of the same line that is not chrome is news; so is a note's link that says more
    moved = page(
        "[Learn more](https://example.com/printable/?annotations=1)",
        head=("Effective July 26, 2022 | We now share your messages with advertisers"),
    )
    assert classify(old, moved, document="P").alert
    said = page("[Learn more about how we sell your data\\[21\\]](#annotation-21)")
    assert classify(old, said, document="P").alert


def test_chrome_items_of_a_line_go_but_table_rows_stay() -> None:
    line = "Effective July 26, 2022 | [View printable version](https://example.com/printable/)"
    assert without_chrome(line) == "Effective July 26, 2022"
    row = "| Learn more | Legitimate interests |"
    assert without_chrome(row) == row


def test_a_sentence_ending_before_a_footnote_keeps_its_words() -> None:
    # "[Learn how.\[30\]](#annotation-30)", "Bluesky Social, PBC d.b.a. Bluesky": a stop
    # followed by more than a space does not end the sentence (its words were dropped)
    old = page("We share it with partners.\\[3\\] We keep it.")
    new = page("We share it with advertisers.\\[3\\] We keep it.")
    c = classify(old, new, document="P")
    assert c.alert and "advertisers" in c.title


def test_a_word_typed_twice_and_fixed_is_no_news() -> None:
    # WhatsApp 2026-02-28: "EU-U.S. and and Swiss-U.S. Data Privacy Framework"
    old = page("We rely on the EU-U.S. and and Swiss-U.S. Data Privacy Framework.")
    new = page("We rely on the EU-U.S. and Swiss-U.S. Data Privacy Framework.")
    c = classify(old, new, document="P")
    assert not c.alert and c.summary["no_alert"].startswith("only numbering, layout")
    dropped = page("We rely on the EU-U.S. Data Privacy Framework.")
    assert classify(new, dropped, document="P").alert


def _notes(heading: str | None, stem: str = "note") -> str:
    """Sections of a policy with a note after each (the pop-ups a partial render loses),
    each note headed; ``None``: the notes lost."""
    parts = []
    for i in range(5):
        parts.append(f"Section {i}: we keep records of item {i}.")
        if heading is not None:
            words = " ".join(f"{stem}{i}word{j}" for j in range(50))
            parts.append(heading.format(f"About item {i}") + f"\n\nNote {i} explains {words}.")
    return "\n\n".join(parts)


def test_notes_coming_back_re_rendered_are_no_news_new_notes_are() -> None:
    # Facebook 2025-07-16: after a partial render, the notes came back with underlined
    # headings where the last full render had "###" ones
    full, bare = page(_notes("### {}")), page(_notes(None))
    underlined = page(_notes("{}\n------------"))
    c = classify(bare, underlined, document="P", recent=[Earlier(full, "2025-06-16")])
    assert not c.alert and c.summary["restored"]["blocks"] == 5, c.title
    # notes whose words were never shown are news, under the same headings
    other = page(_notes("{}\n------------", stem="brokers"))
    assert classify(bare, other, document="P", recent=[Earlier(full, "2025-06-16")]).alert


def test_suggested_questions_between_help_centre_chrome_are_no_news() -> None:
    # Instagram's terms 2026-04-06: the help centre's suggested questions appeared between
    # "Copy link" and "I have a different question"
    questions = "What is the Instagram Service?\n\nHow is Instagram funded?"
    old = page("Copy link\n\nI have a different question\n\nWelcome to Instagram!")
    new = page(f"Copy link\n\n{questions}\n\nI have a different question\n\nWelcome to Instagram!")
    c = classify(old, new, document="P")
    assert not c.alert, c.title
    # a sentence, or an objection link, in the same place is news
    said = new.replace("How is Instagram funded?", "We now sell your photos to advertisers.")
    assert classify(old, said, document="P").alert
    form = new.replace(
        "How is Instagram funded?",
        "[Object to processing](https://help.instagram.com/contact/1234)",
    )
    assert classify(old, form, document="P").alert


def test_a_table_of_contents_in_plain_lines_is_no_news() -> None:
    # French Facebook policy 2022-02-25: the section titles listed at the top, as plain
    # lines, and links to other pages between the menu and "Revenir en haut"
    titles = ["Quels types d’informations recueillons-nous ?", "Comment les utilisons-nous ?"]
    titles.append("Comment nous contacter ?")
    body = "\n\n".join(f"### {t}\n\nNous expliquons {t.lower()} ici." for t in titles)
    contents = "\n\n".join(titles)
    old = page(f"Revenir en haut\n\n{body}")
    new = page(
        f"{contents}\n\n"
        "[A](https://example.com/a)[B](https://example.com/b)[C](https://example.com/c)\n\n"
        "* [Outils interactifs](https://example.com/tools)\n\nRevenir en haut\n\n" + body
    )
    c = classify(old, new, document="P")
    assert not c.alert, c.title
    # a new section listed in the contents is news (its words are new)
    grown = (
        new.replace(
            "Comment nous contacter ?\n\n[A]",
            "Comment nous contacter ?\n\nVendons-nous vos données ?\n\n[A]",
        )
        + "\n\n### Vendons-nous vos données ?\n\nNous vendons vos données aux courtiers.\n"
    )
    assert classify(old, grown, document="P").alert


def test_a_date_between_a_title_and_a_menu_is_not_chrome() -> None:
    # TikTok 2026-07-25: "Last updated: 30 November 2025" between the page's title and its
    # table of contents
    text = (
        "Privacy Policy\n\nLast updated: _30 November 2025_\n\n* [Introduction](#intro)\n\n"
        "Introduction\n\nWe process data."
    )
    assert "Last updated" in without_chrome(text)
