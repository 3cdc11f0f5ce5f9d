"""The lxml extractor writes exactly the text the BeautifulSoup + markdownify one wrote.

tests/reference_extract.py is the extractor as it was (extractor version 2) and the oracle
here: every real page in demo/data/html, every page of a sample of the recorded history as
the demo serves it (demo/pages.py: Meta's markup, tables, link tokens), and hand-written
edge cases must give the same text, title, links and selector outcome.
"""

from __future__ import annotations

import pytest

from changes import extract as fast
from demo.corpus import load_history, load_html
from demo.pages import meta_page
from tests import reference_extract as reference

BASE = "https://www.facebook.com/privacy/policy/"
PAGES = [
    ("facebook-privacy-policy", ["#root"]),
    ("facebook-genai", ["#root"]),
    ("whatsapp-privacy-policy", ["#content-wrapper"]),
    ("whatsapp-privacy-policy", ["[role=main]"]),
]
EDGE_CASES = [
    "<p>a <!-- c --> b</p><div> x <script>s</script> y </div>",
    "<ul><li>one<ul><li>two</li></ul></li><li>three</li></ul><p>after</p>",
    '<ol start="3"><li>c</li><li>d</li></ol>text',
    "<table><tr><td>a</td><td>b|c</td></tr><tr><td colspan=2>d<br>e</td></tr></table>",
    "<table><thead><tr><th>h</th><th>i</th></tr></thead><tbody><tr><td>1</td><td>2</td>"
    "</tr></tbody></table>",
    '<table role="presentation"><tr><td>layout</td></tr></table>',
    "<h2>Title <a href='/x'>link</a></h2><a href='/y'><h3>Card</h3><p>text</p></a>",
    "<pre>  code\n  more </pre><code>a`b</code><blockquote>q\n\nr</blockquote>",
    "<p>5 * 3 = x_y &lt;img src=x onerror=alert(1)&gt;</p><b> bold </b><i></i><em>e</em>",
    "<dl><dt>term</dt><dd>definition\nline</dd></dl><hr><q>quote</q><sub>2</sub>",
    '<a href="javascript:alert(1)">js</a> <img src="data:x" alt="pixel"> '
    '<img src="/logo.png" alt="Logo"> <a href="https://x.example/">https://x.example/</a>',
    "<div>\n  <span>a</span>\n  <span>b</span>\n</div>\u00a0<p>\u200bc</p>",
    "<video src='/v.mp4' poster='/p.png'>v</video><form action='/f'><input></form>",
    "",
    "just text, no tags",
]


def same(html: str, select: list[str], remove: tuple[str, ...] = ()) -> None:
    want = reference.extract(html, BASE, select, remove)
    got = fast.extract(html, BASE, select, remove)
    assert got.text == want.text
    assert (got.title, got.links, got.selector_matched) == (
        want.title,
        want.links,
        want.selector_matched,
    )


@pytest.mark.parametrize(("name", "select"), PAGES)
def test_real_pages_give_the_same_text(name: str, select: list[str]) -> None:
    html = load_html(name)
    same(html, select)
    same(html, [])  # the whole body
    same(html, select, ("h2", "table"))


def test_replayed_history_gives_the_same_text() -> None:
    versions = load_history("facebook-privacy-policy-en")
    sample = versions[:: max(1, len(versions) // 12)]
    for version in sample:
        same(meta_page(version.text), ["#root"])


@pytest.mark.parametrize("html", EDGE_CASES)
def test_edge_cases_give_the_same_text(html: str) -> None:
    same(html, [])
    same(f"<html><body><main id='m'>{html}</main></body></html>", ["#m"])
