"""changes.links: the same link must look the same in every fetch."""

from __future__ import annotations

import re

import pytest

from changes.lexicon import load
from changes.links import canonical_url, canonicalise_markdown, link_identity
from changes.optout import link_changes, optout_links
from tests.corpus import load_corpus

POLICY = "https://mbasic.facebook.com/privacy/policy/printable/"

# Real targets from the recorded Facebook policy (demo/data), tokens included.
LPHP_1 = (
    "https://lm.facebook.com/l.php?u=https%3A%2F%2Fabout.fb.com%2Fnews%2F2020%2F12%2F"
    "changes-to-facebook-messaging-services-in-europe%2F&h=AT00Hg7iowNLJKhiTsAkZAGKLeSO2nDWKv"
    "gpZITSW4ZhteS54qhKvSzP6zazrBrFC-qcdnVGh-3JS1iR0VHXWlxizZOpV9jrjUCnHOOfneC8B_RMx9wFQD26Oc1"
)
LPHP_2 = (
    "https://lm.facebook.com/l.php?u=https%3A%2F%2Fabout.fb.com%2Fnews%2F2020%2F12%2F"
    "changes-to-facebook-messaging-services-in-europe%2F&h=AT01Vg9Nos9cjJn9tuoVt6Q8M_MGZHII_DxV"
    "bT_QTDZNUm6ORGPYoSnWWk3mRXF72uy7THZ22jAVQSZqbbK8sl73cuvP7Raoxp4Ky6cApOYhdoxpLiClFnvQSmE0"
)
LOGGING = (
    "https://mbasic.facebook.com/privacy/policy/logging/?target=POLICY_PLATFORM_LINK_COLLECTION"
    "%3ACOOKIE_SETTINGS&element=privacy_policy_inline_text&redirect_uri=https%3A%2F%2Fmbasic."
    "facebook.com%2Fprivacy%2Fpolicy%2Fprintable%2F%3Fback_id%3Dlink-collection-0%26link_dialog"
    "%3DCOOKIE_SETTINGS%26entry%3D0"
)
EMBEDDED = (
    "https://mbasic.facebook.com/privacy/policy/printable/https%3A%2F%2Flm.facebook.com%2Fl.php"
    "%3Fu=https%3A%2F%2Fresearch.fb.com%2F%3Fentry_point%3DPOLICY_SUBSECTION%253A18.4-"
    "LegitimateInterestsWeRely"
)
VIDEO = (
    "https://mbasic.facebook.com/video_redirect/?src=https%3A%2F%2Fvideo-dus1-1.xx.fbcdn.net%2Fo1"
    "%2Fv%2Ft2%2Ff2%2Fm69%2FAQMkxKtPFjj.mp4%3Fstrext%3D1%26_nc_cat%3D106%26_nc_ohc%3DEkBACEx"
    "%26oh%3D00_AYAQEGXPZIn8r%26oe%3D67A2966D&source=misc&id=313266294163634&noredirect=0"
    "&watermark=0&__tn__=F"
)
CDN_1 = (
    "https://scontent-frt3-1.xx.fbcdn.net/v/t39.2365-6/10574689_373883339436400_1359386031_n.png"
    "?_nc_cat=107&ccb=1-7&_nc_sid=ad8a9d&_nc_ohc=rVUpY5mqKXMAX8S5_-k&_nc_ht=scontent-frt3-1.xx"
    "&oh=00_AT8cIG4ldneQTvHh_nR5smZMvLadFFBgjryg-TWG3NZR6g&oe=63414545"
)
CDN_2 = (
    "https://scontent-frt3-2.xx.fbcdn.net/v/t39.2365-6/10574689_373883339436400_1359386031_n.png"
    "?_nc_cat=107&ccb=1-7&_nc_sid=ad8a9d&_nc_ohc=TxBYk-M6BOIAX9USCcD&_nc_ht=scontent-frt3-2.xx"
    "&oh=00_AT_hLg7Mmeu55JpbfD_K3Q9sWPjxBIP_3G-KeZt4HVKTuA&oe=62FA1445"
)

# Parameters that must never survive canonicalisation (rotating or tracking).
VOLATILE = re.compile(
    r"[?&](h|oh|oe|_nc_\w+|entry_point|utm_\w+|fbclid|__cft__\S*?|__tn__|refsrc|_rdr|back_id)="
)


def test_link_shims_are_unwrapped_and_their_tokens_dropped() -> None:
    expected = "https://about.fb.com/news/2020/12/changes-to-facebook-messaging-services-in-europe/"
    assert canonical_url(LPHP_1) == expected
    assert canonical_url(LPHP_2) == expected
    assert canonical_url("https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.org%2Fa&h=X") == (
        "https://example.org/a"
    )
    assert canonical_url("https://l.instagram.com/?u=https%3A%2F%2Fexample.org%2F&e=AT0") == (
        "https://example.org/"
    )


def test_shim_destination_is_cleaned_too() -> None:
    url = (
        "https://lm.facebook.com/l.php?u=https%3A%2F%2Fhelp.instagram.com%2F369001149843369"
        "%3Fentry_point%3DPOLICY_SUBSECTION%253A18.4-LegitimateInterestsWeRely&h=AT2cWfy0Q"
    )
    assert canonical_url(url) == "https://help.instagram.com/369001149843369"


def test_privacy_policy_logging_wrapper_keeps_only_the_dialog() -> None:
    # The wrapper's redirect_uri carries back_id=link-collection-N, renumbered whenever a
    # link is added above it; what the link opens is link_dialog.
    assert canonical_url(LOGGING) == POLICY + "?link_dialog=COOKIE_SETTINGS"


def test_encoded_url_resolved_as_a_relative_path_is_recovered() -> None:
    # Meta served href="https%3A%2F%2Flm.facebook.com%2Fl.php%3Fu=..." (percent-encoded),
    # which a browser resolves below the policy page.
    assert canonical_url(EMBEDDED) == "https://research.fb.com/"


def test_video_redirect_keeps_the_stable_video_id() -> None:
    assert canonical_url(VIDEO) == "https://mbasic.facebook.com/video_redirect/?id=313266294163634"


def test_signed_cdn_urls_become_stable() -> None:
    # Same picture, different edge host and signature: one canonical URL.
    assert (
        canonical_url(CDN_1)
        == canonical_url(CDN_2)
        == ("https://scontent.xx.fbcdn.net/v/t39.2365-6/10574689_373883339436400_1359386031_n.png")
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.facebook.com/help/1?utm_source=x&utm_medium=y", "https://www.facebook.com/help/1"),
        ("https://www.facebook.com/x?fbclid=IwZX&b=2&a=1", "https://www.facebook.com/x?a=1&b=2"),
        ("https://www.facebook.com/x?__cft__[0]=AZW&__tn__=R]-R", "https://www.facebook.com/x"),
        ("https://m.facebook.com/x?refsrc=deprecated&_rdr", "https://m.facebook.com/x"),
        ("https://www.facebook.com/help/1?ref=dp&helpref=faq_content", "https://www.facebook.com/help/1"),
        ("https://eur-lex.europa.eu/eli?uri=CELEX:32011D0061&qid=1701807289241",
         "https://eur-lex.europa.eu/eli?uri=CELEX%3A32011D0061"),
        ("HTTPS://WWW.Example.ORG:443/Path?b=1&a=2", "https://www.example.org/Path?a=2&b=1"),
        ("http://example.org:8080/", "http://example.org:8080/"),
        ("http://help.instagram.com/581066165581870", "https://help.instagram.com/581066165581870"),
        ("http://example.org/", "http://example.org/"),
        ("https://www.facebook.com/privacy/genai?entry_point=POLICY_SECTION%3A1", "https://www.facebook.com/privacy/genai"),
    ],
)  # fmt: skip
def test_tracking_parameters_sorting_and_case(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://video-fra5-2.xx.fbcdn.net/o1/v/t2/f2/m69/A.mp4?efg=e&_nc_ht=x&oh=1&oe=2",
         "https://video.xx.fbcdn.net/o1/v/t2/f2/m69/A.mp4"),
        ("https://instagram.fcdg2-1.fna.fbcdn.net/v/t51/1_n.jpg?stp=dst&_nc_cat=1&oh=1",
         "https://instagram.fna.fbcdn.net/v/t51/1_n.jpg"),
        ("https://scontent-cdg4-2.cdninstagram.com/v/t51/2_n.jpg?se=7&oh=1",
         "https://scontent.cdninstagram.com/v/t51/2_n.jpg"),
        ("https://static.xx.fbcdn.net/rsrc.php/v3/yY/r/5VS3gf1J5wY.png?_nc_x=1",
         "https://static.xx.fbcdn.net/rsrc.php/v3/yY/r/5VS3gf1J5wY.png"),
    ],
)  # fmt: skip
def test_cdn_edges_and_signatures(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_relative_urls_resolve_against_base() -> None:
    base = "https://www.whatsapp.com/legal/updates/privacy-policy-eea?lang=en"
    assert canonical_url("/legal/x?b=2&a=1", base) == "https://www.whatsapp.com/legal/x?a=1&b=2"
    assert (
        canonical_url("../terms/", "https://m.facebook.com/a/b/")
        == "https://m.facebook.com/a/terms/"
    )
    assert (
        canonical_url("//l.facebook.com/l.php?u=https%3A%2F%2Fx.org%2F", base) == "https://x.org/"
    )


def test_fragments_only_for_same_page_anchors() -> None:
    base = "https://www.whatsapp.com/legal/updates/privacy-policy-eea?lang=en"
    assert canonical_url("#annotation-1") == "#annotation-1"
    assert canonical_url("#annotation-1", POLICY) == "#annotation-1"
    # an absolute link to the page itself is an anchor (the corpus flips between the two)
    assert canonical_url(POLICY + "#4.subpage.10-Vendors", POLICY) == "#4.subpage.10-Vendors"
    assert canonical_url(POLICY + "?entry_point=X#annotation-3", POLICY) == "#annotation-3"
    assert (
        canonical_url(
            "https://www.whatsapp.com/legal/updates/privacy-policy-eea?eea=1#privacy-policy-consent",
            base,
        )
        == "#privacy-policy-consent"
    )
    # another page's fragment is dropped
    assert (
        canonical_url("https://www.facebook.com/help/1#x", POLICY)
        == "https://www.facebook.com/help/1"
    )


@pytest.mark.parametrize(
    "url",
    ["mailto:DPO-inquiries@support.whatsapp.com", "javascript:alert(1)", "data:text/html,<b>x</b>",
     "tel:+353", "JavaScript:void(0)", "java\tscript:alert(1)", " javascript:x", ""],
)  # fmt: skip
def test_non_http_urls_are_returned_unchanged(url: str) -> None:
    assert canonical_url(url) == url
    assert canonical_url(url, POLICY) == url


def test_a_shim_around_a_script_url_is_not_made_http() -> None:
    url = "https://l.facebook.com/l.php?u=javascript%3Aalert(1)&h=AT0"
    assert canonical_url(url) == "javascript:alert(1)"


@pytest.mark.parametrize("url", ["http://[::1", "https://example.org:99999/", "https://x:abc/"])
def test_unparseable_urls_do_not_raise(url: str) -> None:
    assert canonical_url(url) == url


def _corpus_targets() -> set[str]:
    targets: set[str] = set()
    for version in load_corpus("facebook-privacy-policy-en"):
        targets.update(re.findall(r"\]\((\S+?)\)", version.text))
    return targets


def test_every_link_in_the_real_history_is_stable_and_idempotent() -> None:
    targets = _corpus_targets()
    assert len(targets) > 3000  # 3651 distinct raw targets in 492 versions
    canonical = {canonical_url(t, POLICY) for t in targets}
    for url in canonical:
        assert canonical_url(url, POLICY) == url
        assert canonical_url(url) == url
        assert not VOLATILE.search(url), url
        assert "l.php" not in url and "/policy/logging" not in url, url
        assert "%3A%2F%2F" not in url.split("?")[0], url
    # Measured: the 3651 raw spellings are 427 links (286 to other pages, 141 anchors).
    assert len(canonical) <= 430


def test_canonicalise_markdown_rewrites_links_and_images() -> None:
    md = (
        f'See [the news]({LPHP_1}) and [again]({LPHP_2} "title").\n'
        f"![logo]({CDN_1})\n"
        "[\nWhat Products does this policy cover?\n](#annotation-1)\n"
        f"[Cookie settings\n]({LOGGING})\n"
        f"<{LPHP_2}>\n"
        "Plain (parenthesised) text and [a](https://en.wikipedia.org/wiki/A_(letter)?utm_source=x).\n"
    )
    out = canonicalise_markdown(md)
    news = "https://about.fb.com/news/2020/12/changes-to-facebook-messaging-services-in-europe/"
    assert f"[the news]({news})" in out
    assert f'[again]({news} "title")' in out
    assert "![logo](https://scontent.xx.fbcdn.net/v/t39.2365-6/" in out
    assert "\n](#annotation-1)" in out
    assert f"\n]({POLICY}?link_dialog=COOKIE_SETTINGS)" in out
    assert f"<{news}>" in out
    assert "Plain (parenthesised) text" in out
    assert "[a](https://en.wikipedia.org/wiki/A_%28letter%29)" in out
    assert "h=AT0" not in out and "oe=" not in out
    assert canonicalise_markdown(out) == out


def test_canonicalise_markdown_with_base_turns_self_links_into_anchors() -> None:
    md = f"[Products\\[3\\]]({POLICY}?entry_point=POLICY_SECTION%3A1-What#annotation-3)"
    assert canonicalise_markdown(md, POLICY) == "[Products\\[3\\]](#annotation-3)"
    assert canonicalise_markdown(md) == f"[Products\\[3\\]]({POLICY})"


@pytest.mark.parametrize(
    "pair",
    [pytest.param(p, id=f"pair-{i}") for i, p in enumerate(load("link_identity.tests")["pair"])],
)
def test_link_identity_pairs(pair: dict[str, object]) -> None:
    same = link_identity(str(pair["a"])) == link_identity(str(pair["b"]))
    assert same is pair["same"], pair["source"]


def test_a_locale_parameter_or_trailing_slash_is_no_retargeting() -> None:
    old = "You have the [right to object](https://www.tiktok.com/legal/right-to-object)."
    new = "You have the [right to object](https://www.tiktok.com/legal/right-to-object?lang=en)."
    assert not any(link_changes(optout_links(old), optout_links(new)).values())
    moved = "You have the [right to object](https://www.tiktok.com/legal/object-form/)."
    changes = link_changes(optout_links(old), optout_links(moved))
    assert changes["retargeted"] == [
        {
            "text": "right to object",
            "kind": "objection",
            "from": "https://www.tiktok.com/legal/right-to-object",
            "to": "https://www.tiktok.com/legal/object-form/",
        }
    ]
