"""Claims a journalist can quote (issue #8): prose legal bases in EN/FR/DE, every claim
checked against both texts, reorganised legal-basis sections, titles that tell, page
chrome kept quiet, announced dates. The lexicons' test sentences run as data."""

from __future__ import annotations

from typing import Any

import pytest

from changes.classify import classify
from changes.dates import announcements
from changes.languages import text_language
from changes.legalbasis import legal_bases
from changes.lexicon import load
from changes.noise import is_chrome
from changes.prose_bases import prose_bases, prose_mentions
from changes.titles import TITLE_LIMIT
from config.noise import load_profile, profile_names


def _cases(name: str, table: str = "case") -> list[Any]:
    cases = load(f"{name}.tests")[table]
    return [pytest.param(c, id=f"{c.get('lang')}-{i}") for i, c in enumerate(cases)]


@pytest.mark.parametrize("case", _cases("prose_bases"))
def test_prose_basis_sentences(case: dict[str, Any]) -> None:
    found = prose_bases(case["text"], case["lang"])
    if case["basis"] == "none":
        assert found == (), case["source"]
        return
    assert [p.basis for p in found] == [case["basis"]], (case["source"], found)
    assert case["purpose"].casefold() in found[0].purpose.casefold(), found[0].purpose
    assert found[0].announced is case["announced"], found[0]


@pytest.mark.parametrize("case", _cases("prose_bases", "outside"))
def test_statements_outside_a_basis_are_legal_basis_mentions(case: dict[str, Any]) -> None:
    """ "outside of our contract with you": the legal-basis category, and no claim."""
    assert prose_mentions([case["text"]], [], case["lang"]) is case["mention"], case["source"]
    assert prose_bases(case["text"], case["lang"]) == ()


@pytest.mark.parametrize("case", _cases("dates", "notice"))
def test_announced_dates(case: dict[str, Any]) -> None:
    assert [a.iso for a in announcements(case["text"], case["lang"])] == [case["date"]]


@pytest.mark.parametrize("case", _cases("dates", "no_notice"))
def test_not_announcements(case: dict[str, Any]) -> None:
    assert announcements(case["text"] + " 1 May 2025", case["lang"]) == []


def _profile_cases() -> list[Any]:
    """The [[case]] test lines of every profile file (config/profiles/), by profile."""
    return [
        pytest.param(name, c, id=f"{name}-{i}")
        for name in profile_names()
        for i, c in enumerate(load_profile(name).cases)
    ]


@pytest.mark.parametrize(("profile", "case"), _profile_cases())
def test_noise_profiles(profile: str, case: dict[str, Any]) -> None:
    assert is_chrome(case["line"], profile) is case["chrome"], case["source"]


def test_every_shipped_profile_has_test_lines() -> None:
    assert set(profile_names()) >= {"default", "meta"}
    assert all(load_profile(name).cases for name in profile_names())


_POLICY = """Privacy Policy
==============

Effective May 1, 2025

How we use information for AI
-----------------------------

We use information to provide our services.
"""


@pytest.mark.parametrize(
    ("lang", "sentence", "basis", "words"),
    [
        (
            "en",
            "From May 27, 2025, we'll use public posts on the basis of legitimate interests "
            "to develop and improve generative AI models for AI at Meta.",
            "legitimate interests",
            "develop and improve generative AI models",
        ),
        (
            "fr",
            "À partir du 27 mai 2025, nous nous fonderons sur nos intérêts légitimes pour "
            "développer et améliorer l'IA chez Meta.",
            "legitimate interests",
            "développer et améliorer",
        ),
        (
            "de",
            "Ab dem 27. Mai 2025 werden wir uns auf unsere berechtigten Interessen stützen, "
            "um KI bei Meta zu entwickeln.",
            "legitimate interests",
            "KI bei Meta",
        ),
    ],
)
def test_prose_announcement_is_a_checked_legal_basis_claim(
    lang: str, sentence: str, basis: str, words: str
) -> None:
    new = _POLICY.replace("to provide our services.", f"to provide our services. {sentence}")
    c = classify(_POLICY, new, document="Policy", lang=lang)
    assert "legal-basis" in c.categories and c.alert
    (item,) = c.summary["bases"]
    assert item["basis"] == basis and item["action"] == "added"
    assert words.casefold() in item["purpose"].casefold()
    assert item["announced"]["iso"] == "2025-05-27"
    assert len(c.title) <= TITLE_LIMIT
    # the same sentence moved elsewhere is no new claim
    moved = new.replace(sentence, "") + f"\n{sentence}\n"
    assert "bases" not in classify(new, moved, document="Policy", lang=lang).summary


_TABLE = """Legal bases
===========

Legitimate interests
--------------------

| Purpose | Why and how we process your information |
| --- | --- |
| Develop and improve AI at Meta | We train models on public posts. |
| Promote safety and security | We detect abuse. |
| Provide measurement and analytics | We count views. |
| Communicate with you | We send notices. |
"""

_LIST = """Legal bases
===========

Legitimate interests
--------------------

* * *

Develop and improve AI at Meta

Why and how we process your information: We train models on public posts.

* * *

Promote safety and security

Why and how we process your information: We detect abuse.

* * *

Provide measurement and analytics

Why and how we process your information: We count views.

* * *

Communicate with you

Why and how we process your information: We send notices.
"""


def test_relaid_legal_basis_section_claims_nothing() -> None:
    c = classify(_TABLE, _LIST, document="Policy")
    assert "bases" not in c.summary or not any(
        i["action"] == "removed" for i in c.summary["bases"]
    ), c.summary.get("bases")
    assert "no longer relies" not in c.title


def test_titles_tell_what_changed() -> None:
    new = _POLICY.replace(
        "to provide our services.",
        "to provide our services. We keep your messages for ninety days after you delete them.",
    )
    c = classify(_POLICY, new, document="Policy")
    assert c.title.startswith("Policy: in \u2018How we use information for AI\u2019, added:")
    assert "ninety days" in c.title and "words" not in c.title
    long = _POLICY.replace("to provide our services.", "to provide " + "our services " * 60 + ".")
    assert len(classify(_POLICY, long, document="Policy").title) <= TITLE_LIMIT


def test_update_notice_is_an_announced_date() -> None:
    new = _POLICY.replace(
        "Effective May 1, 2025\n",
        "Effective May 1, 2025\n\nWe're updating our Privacy Policy. "
        "The updates go into effect on April 7, 2026.\n",
    )
    c = classify(_POLICY, new, document="Policy")
    assert "dates" in c.categories and c.alert
    assert c.summary["announced"]["added"][0]["iso"] == "2026-04-07"
    assert "update notice" in c.title


def test_chrome_reorders_and_numbering_stay_quiet() -> None:
    chrome = _POLICY + "\nEnglish (US)\nDeutsch\nFrançais (France)\n"
    assert not classify(_POLICY, chrome, document="Policy").alert
    numbered = _POLICY.replace("How we use information for AI", "1. How we use information for AI")
    assert not classify(_POLICY, numbered, document="Policy").alert
    twice = _POLICY + "\nWe use information to provide our services.\n"
    assert not classify(_POLICY, twice, document="Policy").alert
    real = _POLICY.replace("provide our services", "sell your data")
    assert classify(_POLICY, real, document="Policy").alert


@pytest.mark.parametrize("case", load("languages.tests")["case"])
def test_text_language(case: dict[str, Any]) -> None:
    expected = None if case["lang"] == "none" else case["lang"]
    assert text_language(case["text"]) == expected


_STEPS = """Legal bases
===========

Performance of a contract
-------------------------

| Purpose | Why and how we process your information |
| --- | --- |
| Providing our Products: we process information to:<br><br>* See if a product is \
working correctly,<br>* Troubleshoot and fix it when it's not,<br>* Keep your account secure \
| Information we collect |
| Communicate with you: we process information to:<br><br>* Send you notices | Information |
"""


def test_merged_or_moved_processing_steps_are_not_claimed() -> None:
    merged = _STEPS.replace(
        "* See if a product is working correctly,<br>* Troubleshoot and fix it when it's not,",
        "* See if our Products are working correctly, such as troubleshooting, and fixing it"
        " when it's not working,",
    )
    c = classify(_STEPS, merged, document="Policy")
    assert "processing" not in c.summary and "legal-basis" not in c.categories, c.summary
    # a step that is really new is still claimed, with the purpose it joined
    new = _STEPS.replace("* Keep your account secure", "* Keep your account secure,<br>* Sell ads")
    c = classify(_STEPS, new, document="Policy")
    (step,) = c.summary["processing"]
    assert step["added"] == ["Sell ads"] and not step["removed"]
    assert c.title.startswith(
        "Policy: \u2018Sell ads\u2019 added to \u2018Providing our Products\u2019"
    )


def test_purpose_folded_into_another_basis_is_not_no_longer() -> None:
    old = _TABLE.replace(
        "| Communicate with you | We send notices. |",
        "| Communicate with you | We send notices. |\n"
        "| Receiving information from a specific business to tailor the ads you see | "
        "We use it. |",
    )
    old += (
        "\nConsent\n-------\n\n| Purpose | How |\n| --- | --- |\n"
        "| Sharing with partners | We share. |\n"
    )
    new = _TABLE + (
        "\nConsent\n-------\n\n| Purpose | How |\n| --- | --- |\n| Sharing with partners | We "
        "share. |\n| Using information from partners or a business to tailor the ads you see "
        "| We use it. |\n"
    )
    c = classify(old, new, document="Policy")
    claims = c.summary.get("bases", [])
    assert not [i for i in claims if i["action"] == "removed"], claims
    assert "no longer relies" not in c.title


def test_a_list_item_is_not_tied_to_consent_named_in_another_item() -> None:
    sentence = (
        "We may use your personal information: (1) to provide the App Services; (2) for "
        "marketing purposes; (3) with your consent; and (4) as allowed under applicable law."
    )
    new = _POLICY.replace("to provide our services.", f"to provide our services. {sentence}")
    assert "bases" not in classify(_POLICY, new, document="Policy").summary


def test_claims_of_a_text_dated_ahead_are_announced() -> None:
    sentence = "With your consent, we use your contacts to suggest friends."
    old = _POLICY
    new = _POLICY.replace("Effective May 1, 2025", "Effective June 30, 2025").replace(
        "to provide our services.", f"to provide our services. {sentence}"
    )
    (item,) = classify(old, new, document="Policy", seen="2025-06-02").summary["bases"]
    assert item["announced"] == {"date": "June 30, 2025", "iso": "2025-06-30"}
    assert item["purpose"] == "use your contacts to suggest friends"
    (item,) = classify(old, new, document="Policy", seen="2025-07-01").summary["bases"]
    assert "announced" not in item  # recorded once in force


def test_a_page_shown_in_another_language_is_not_compared() -> None:
    german = (
        "Datenrichtlinie\n\nWir verwenden die Informationen, die wir haben, um unsere Produkte "
        "bereitzustellen. Mit deiner Einwilligung nutzen wir sie für Werbung.\n"
    )
    english = (
        "Privacy Policy\n\nWe use the information we have to provide our Products. With your "
        "consent, we use it to show you ads.\n"
    )
    c = classify(german, english, document="Policy")
    assert not c.alert and c.categories == ["text"] and "bases" not in c.summary
    assert c.title == "Policy: now shown in English instead of German"


# Pinterest's layout: a purpose heading, its steps, then the basis they rely on as a label.
_RELIED = {
    "en": (
        "Legal bases we rely on\n\n"
        "To make and keep Pinterest safe, we:\n-----------------------------------\n\n"
        "* Review your activity to detect spam.\n"
        "* Analyze log data to investigate suspicious behavior.\n\n"
        "#### Legitimate interests relied on\n\nIt is in our interest to fight spam.\n\n"
        "#### Information categories used\n\n* Log data\n",
        "* Conduct age verification, as appropriate.\n",
    ),
    "fr": (
        "Bases juridiques\n\n"
        "Pour assurer la sécurité de Pinterest, nous :\n----------------------------------\n\n"
        "* Examinons votre activité pour détecter le spam.\n"
        "* Analysons les journaux pour enquêter sur les comportements suspects.\n\n"
        "**Intérêts légitimes invoqués**\n\nIl est dans notre intérêt de lutter contre le spam.\n",
        "* Vérifions votre âge, le cas échéant.\n",
    ),
    "de": (
        "Rechtsgrundlagen\n\n"
        "Um Pinterest sicher zu machen, werden wir:\n---------------------------------\n\n"
        "* Deine Aktivität prüfen, um Spam zu erkennen.\n"
        "* Protokolldaten analysieren, um verdächtiges Verhalten zu untersuchen.\n\n"
        "#### Berechtigte Interessen, auf die wir uns stützen\n\nSpam zu bekämpfen.\n",
        "* Dein Alter überprüfen, falls angemessen.\n",
    ),
}


@pytest.mark.parametrize("lang", sorted(_RELIED))
def test_steps_under_a_relied_on_label_are_processing_changes(lang: str) -> None:
    old, step = _RELIED[lang]
    (purpose,) = legal_bases(old, lang).purposes["legitimate-interests"]
    assert len(purpose.items) == 2 and not purpose.label.endswith(":")
    at = old.index("\n\n", old.index("* ")) + 1  # after the last step
    new = old[:at] + step + old[at:]
    c = classify(old, new, document="Policy", lang=lang)
    (entry,) = c.summary["processing"]
    assert entry["bases"] == ["legitimate interests"] and len(entry["added"]) == 1
    assert "legal-basis" in c.categories and c.alert


def test_a_basis_stated_in_prose_before_is_not_newly_relied_on() -> None:
    """The old text said in prose which purposes rely on legitimate interests; the new one
    says it purpose by purpose: no purpose "now relies" on them (Pinterest, 2023-08-02)."""
    old = (
        "We have a legitimate interest in making Pinterest safe. We use your information to:\n\n"
        "* Review your activity to detect spam.\n* Suggest people you may know.\n"
        "* Send you updates.\n"
    )
    purposes = "".join(
        f"{title}, we:\n{'-' * 20}\n\n* {step}\n\n#### Legitimate interests relied on\n\n"
        "It is in our interest.\n\n"
        for title, step in (
            ("To make and keep Pinterest safe", "Review your activity to detect spam."),
            ("To build your community", "Suggest people you may know."),
            ("To communicate with you", "Send you updates."),
        )
    )
    c = classify(old, "Legal bases we rely on\n\n" + purposes, document="Policy")
    assert "bases" not in c.summary
    assert c.summary["bases_reorganised"] == {"purposes": 3}
    assert "legal-basis section reorganised" in c.title


def test_a_choice_over_ads_is_an_opt_out_link_and_an_unlinked_one_is_quiet() -> None:
    before = "Privacy Policy\n\nWe show ads.\n\nYou can control what information we use to show "
    old = before + "you ads by visiting your ad settings.\n"
    new = before + "you ads in [My Ad Center](https://myadcenter.google.com/).\n"
    c = classify(old, new, document="Policy")
    (link,) = c.summary["links"]["added"]
    assert link["kind"] == "choice" and "opt-out" in c.categories
    assert "new choice link \u2018My Ad Center\u2019" in c.title
    # a render dropping the link target while the sentence stays says nothing new
    unlinked = before + "you ads in My Ad Center.\n"
    c = classify(new, unlinked, document="Policy")
    assert c.summary["links"]["removed"][0]["kind"] == "choice"
    assert "opt-out" not in c.categories


# --- Say less when the words did not change (issue #8, precision pass) ----------------


@pytest.mark.parametrize(
    ("lang", "before", "after"),
    [
        # a comma or a stop dropped, quotes straightened, "such as" made "like"
        (
            "en",
            "With your consent, we share your email address with sellers.",
            "With your consent we share your email address with sellers",
        ),
        (
            "en",
            "We rely on legitimate interests such as fraud prevention to secure the service.",
            "We rely on legitimate interests like fraud prevention to secure the service.",
        ),
        (
            "fr",
            "Nous nous fondons sur nos intérêts légitimes pour protéger le « service ».",
            'Nous nous fondons sur nos intérêts légitimes pour protéger le "service".',
        ),
        (
            "de",
            "Wir stützen uns dabei auf unsere berechtigten Interessen, um den Dienst zu schützen.",
            "Wir stützen uns auf unsere berechtigten Interessen, um den Dienst zu schützen.",
        ),
    ],
)
def test_a_reworded_basis_sentence_is_no_legal_basis_mention(
    lang: str, before: str, after: str
) -> None:
    assert not prose_mentions([after], [before], lang)
    assert prose_mentions([after], [], lang)  # the same sentence, new: a mention


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        # a list of purposes with one item "with your consent": nothing tied to it
        ("en", "We may use your data: (1) to run the app; (2) for ads; (3) with your consent."),
        ("en", "With Your Consent"),
        # a right or a condition, not a statement of a basis
        (
            "en",
            "When consent is used as a legal basis for processing, you have the right to be told "
            "what happens if you refuse.",
        ),
        ("fr", "Lorsque nous nous fondons sur votre consentement, vous pouvez le retirer."),
        ("de", "Soweit wir uns auf Ihre Einwilligung stützen, können Sie diese widerrufen."),
        # an implied tie whose purpose is only words any processing has
        ("en", "Applicable laws also require us to process certain personal data about you."),
    ],
)
def test_sentences_that_tie_nothing_are_no_legal_basis_mention(lang: str, sentence: str) -> None:
    assert not prose_mentions([sentence], [], lang)


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        ("en", "Certain laws require us to share account details with tax authorities."),
        ("fr", "Nous nous fondons sur votre consentement pour afficher des publicités ciblées."),
        ("de", "Mit Ihrer Einwilligung zeigen wir Ihnen personalisierte Werbung an."),
    ],
)
def test_sentences_that_tie_a_purpose_are_legal_basis_mentions(lang: str, sentence: str) -> None:
    assert prose_mentions([sentence], [], lang)


@pytest.mark.parametrize(
    ("lang", "bulleted", "numbered"),
    [
        (
            "en",
            "* **Performance of a contract**: to run the service.\n* **Legitimate interest**: "
            "to keep it safe.\n* **Consent**: where you agreed.\n",
            "1. **Performance of a contract:** to run the service.\n2. **Legitimate interest:** "
            "to keep it safe.\n3. **Consent:** where you agreed.\n",
        ),
        (
            "fr",
            "* l'exécution d'un contrat ;\n* nos intérêts légitimes ;\n* votre consentement ;\n",
            "1. l'exécution d'un contrat ;\n2. nos intérêts légitimes ;\n3. votre consentement ;\n",
        ),
        (
            "de",
            "* Vertragserfüllung;\n* berechtigte Interessen;\n* Ihre Einwilligung;\n",
            "1) Vertragserfüllung;\n2) berechtigte Interessen;\n3) Ihre Einwilligung;\n",
        ),
    ],
)
def test_bases_listed_bulleted_or_numbered_are_the_same_bases(
    lang: str, bulleted: str, numbered: str
) -> None:
    before, after = legal_bases(bulleted, lang).stated, legal_bases(numbered, lang).stated
    assert len(before) >= 3 and before == after
    assert "legal-basis" not in classify(bulleted, numbered, document="P", lang=lang).categories


_STEPS_LAYOUT = """### **Legitimate Interests**

We use your information where this is necessary for our legitimate interests:

**Suggest your account to other people{stop}

* We may suggest your account to other people{extra}.
* **Legitimate interest relied upon**: To help people find each other.
* **Information used**: Information you provide.

**Keep the service secure{stop}

* We use your information to detect spam and abuse.
* **Legitimate interest relied upon**: To keep the service available.
"""


def test_bold_purpose_titles_with_their_steps_under_a_basis_heading() -> None:
    """TikTok's layout: a bold title, what is done, then labelled bullets."""
    text = _STEPS_LAYOUT.format(stop=".**", extra="")
    purposes = legal_bases(text).purposes["legitimate-interests"]
    assert [p.label for p in purposes] == [
        "Suggest your account to other people",
        "Keep the service secure",
    ]
    assert purposes[0].items == ("We may suggest your account to other people",)
    # the stop moved outside the bold and a step changed: that step, nothing else
    new = _STEPS_LAYOUT.format(stop="**.", extra=" who sync their contacts with the service")
    c = classify(text, new, document="P")
    assert "legal-basis" in c.categories
    assert [p["purpose"] for p in c.summary["processing"]] == [
        "Suggest your account to other people"
    ]
    assert "bases" not in c.summary


def test_a_legal_basis_section_heading_titles_no_purpose() -> None:
    """Facebook's list layout: "Legitimate interests relied on:" inside a purpose's "why
    and how" text is not Pinterest's label closing a purpose titled by the last heading."""
    text = (
        "Legal basis information\n=======================\n\n"
        "We process information when you have given us your consent.\n\n"
        "Processing information with special protections\n\n"
        "**Why and how we process your information:**\n\n"
        "To share it with those you choose.\n\n"
        "Promoting safety and integrity\n\n"
        "**Why and how we process your information:**\n\n"
        "To find and remove harmful content.\n\n"
        "**Legitimate interests relied on:**\n\n"
        "To keep people safe.\n"
    )
    labels = [p.label for ps in legal_bases(text).purposes.values() for p in ps]
    assert "Legal basis information" not in labels


def test_a_reworded_step_that_says_something_new_is_a_change() -> None:
    from changes.claims import check_steps

    entry = {
        "purpose": "Providing the service",
        "bases": ["performance of a contract"],
        "added": [
            "Provide our assistant features that create and understand content and perform "
            "actions for you"
        ],
        "removed": ["Provide our assistant features that create content for you"],
    }
    steps, _ = check_steps([entry], "", "")
    assert steps and steps[0]["added"] == entry["added"]
    small = {**entry, "added": ["Provide our assistant features which create content for you"]}
    assert check_steps([small], "", "") == ([], 0)


def test_steps_repeated_further_down_are_no_table_of_contents() -> None:
    """A purpose's steps listed again for other people are steps, not a table of contents
    (a table of contents names headings: lines found again further down, not bullets)."""
    from changes.noise import without_chrome

    steps = "* Create your account\n* Share content and status\n* Provide messaging\n"
    text = f"Providing the service\n\n{steps}\nFor people under 18\n\n{steps}"
    assert without_chrome(text).count("Share content and status") == 2
    contents = "Your account\nSharing content\nMessaging\n\n"
    headings = "## Your account\n\nText.\n\n## Sharing content\n\nText.\n\n## Messaging\n\nText.\n"
    assert "Sharing content\nMessaging" not in without_chrome(contents + headings)


_NOTICES = (  # a list of links to other notices, then a sentence
    "Other notices\n\nThe following notices tell more about some services:\n\n"
    "* [Browser](https://example.com/browser/privacy)\n"
    "* [Payments](https://example.com/payments/privacy)\n"
    "* [Phone service](https://example.com/phone/privacy)\n\n"
    "We keep your information as long as you have an account.\n"
)


def test_an_entry_dropped_from_a_list_of_links_is_no_news() -> None:
    new = _NOTICES.replace("* [Browser](https://example.com/browser/privacy)\n", "")
    c = classify(_NOTICES, new, document="P")
    assert not c.alert and "links to other pages" in c.summary["no_alert"]
    # with a sentence changed too, it alerts
    worded = new.replace("as long as you have an account", "for ten years")
    assert classify(_NOTICES, worded, document="P").alert


def test_an_objection_link_dropped_from_a_list_still_alerts() -> None:
    old = _NOTICES.replace(
        "* [Phone service]",
        "* [Object to processing](https://example.com/help/contact/123)\n* [Phone service]",
    )
    c = classify(old, _NOTICES, document="P")
    assert c.alert and "opt-out" in c.categories, (c.title, c.categories)


def test_a_link_line_that_is_no_list_entry_still_alerts() -> None:
    old = "Privacy\n\nWe keep your data.\n\n[Learn more](https://example.com/a)\n"
    new = old + "\n[Learn more about how we sell your data](https://example.com/b)\n"
    assert classify(old, new, document="P").alert
