"""Change pages show passages as formatted text, the ones the summary names first, and fold
passages that only move a link target or page furniture (feeds/passages.py)."""

from __future__ import annotations

import random
import re

from changes.diff import Hunk, hunks, word_diff
from feeds import passages as passages_module
from feeds.passages import is_link_only, passages, render_hunk, render_markdown
from feeds.summary import blocks

FILL = "\n\n".join(f"Unchanged paragraph number {i}." for i in range(12))
OLD = f"""# Privacy Policy

## How we use information

* We show you ads
* We [improve our Products\\[3\\]](#annotation-3)

{FILL}

| Purpose | Legal basis |
| --- | --- |
| Develop and improve AI at Meta | Consent<br><br>* We use posts |

{FILL}

[Return to top](#)

{FILL}

[Play Video](https://www.facebook.com/watch/?v=1)

{FILL}

This policy is effective from April 7, 2025.
"""
NEW = (
    OLD.replace("Consent<br>", "Legitimate interests<br>")
    .replace("[Return to top](#)", "Return to top")
    .replace("watch/?v=1", "watch/?v=2")
    .replace("April 7, 2025", "May 27, 2025")
    .replace("We show you ads", "We show you **personalised** ads")
)
SUMMARY = {
    "bases": [
        {
            "action": "added",
            "basis": "legitimate interests",
            "purpose": "Develop and improve AI at Meta",
        }
    ],
    "date": {"from": "April 7, 2025", "to": "May 27, 2025"},
}


def folded() -> list[Hunk]:
    return hunks(word_diff(OLD, NEW), context_lines=2)


def test_passages_render_markdown_with_edits_inside() -> None:
    found = passages(folded(), blocks(SUMMARY))
    html = "".join(p.html for p in found.words)
    assert "<li>We show you <ins><strong>personalised</strong></ins> ads</li>" in html or (
        "<ins>" in html and "<strong>personalised</strong>" in html
    )
    assert "<table>" in html and "<td>Develop and improve AI at Meta</td>" in html
    assert "<del>Consent</del><ins>Legitimate interests</ins><br><br>\u2022 We use posts" in html
    assert "<del>April 7</del><ins>May 27</ins>, 2025" in html
    assert "|" not in re.sub(r"<[^>]+>", "", html)  # no raw table syntax
    assert "==" not in html and "](" not in html  # no raw Markdown links or underlines


def test_link_only_passages_are_folded_apart() -> None:
    found = passages(folded(), blocks(SUMMARY))
    assert len(found.link_only) == 2  # "Return to top" lost its link; a video link moved
    assert all(is_link_only(p.hunk) for p in found.link_only)
    video = next(p for p in found.link_only if "Play Video" in p.html)
    assert 'href="https://www.facebook.com/watch/?v=2"' in video.html  # the new target
    assert "v=1" not in video.html and "\ue000" not in video.html


def test_summary_topics_first_and_each_summary_line_links_its_passage() -> None:
    found = passages(folded(), blocks(SUMMARY))
    assert [p.topic for p in found.words] == ["legal-basis", "dates", None]
    legal, date, other = found.words
    assert "Legitimate interests" in legal.html and "May 27" in date.html
    assert other.position < legal.position  # the ads edit comes first in the text...
    assert found.targets == {(0, 0): legal.anchor, (1, 0): date.anchor}  # ...not on the page


def test_rendered_passages_stay_sanitised() -> None:
    hostile = Hunk(
        ops=(
            ("=", "<script>alert(1)</script> [x](javascript:alert(1)) [ok](https://ok.example/)\n"),
            ("+", "<img src=x onerror=alert(1)> ![p](https://evil.example/p.png)"),
        ),
        old_line=1,
        new_line=1,
    )
    html = render_hunk(hostile)
    assert (
        "<script" not in html and "<img" not in html and "javascript:" not in html.split("&lt;")[0]
    )
    assert 'href="javascript' not in html
    assert '<a href="https://ok.example/" rel="noopener noreferrer nofollow">ok</a>' in html
    assert "&lt;script&gt;" in html
    assert "\ue000" not in render_markdown("a \ue000b\ue001 c")


def test_only_tags_holding_a_marker_are_rewritten() -> None:
    """render_markdown rewrites the tags holding a marker (as is or percent-encoded, a
    moved link target) and leaves the others: the same as rewriting every tag, checked
    on random HTML-like text against that reference."""
    import random

    from feeds import passages as p

    def every_tag(html: str) -> str:
        def rewrite(tag: str) -> str:
            tag = p._ENCODED_DELETION.sub("", tag)
            tag = re.sub(f"{p.DEL_OPEN}.*?{p.DEL_CLOSE}", "", tag)
            for marker, encoded in p._ENCODED.items():
                tag = re.sub(re.escape(encoded), "", tag, flags=re.I).replace(marker, "")
            return tag

        return re.sub(r"<[^>]*>", lambda m: rewrite(m.group(0)), html)

    rng = random.Random(7)
    pieces = [*'<>a "=/', *"\ue000\ue001\ue002\ue003\ue004", "%EE%80%80", "%ee%80%82", "%EE"]
    pieces += ['<a href="', '">', "</a>"]
    for _ in range(20_000):
        html = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 16)))
        assert p._MARKED_TAG.sub(lambda m: p._new_target(m.group(0)), html) == every_tag(html)


def test_blanking_punctuation_as_bytes_reads_as_a_regex_would() -> None:
    """What visible() and the summary matching read once Markdown punctuation is blanked
    (as UTF-8 bytes) is what replacing it with a regular expression gave, on random text
    mixing it with non-ASCII letters, Unicode spaces and a lone surrogate."""
    alphabet = list("ab Z9*_#|`>[]()=-\\\n\t") + ["é", "\u00a0", "\u2028", "“", "🎉", "\ud800"]
    rng = random.Random(7)
    for pattern, table in (
        (r"[\\*_#|`>\[\]()=-]+", passages_module._PUNCTUATION_BLANK),
        (r"[\\*_`|]+", passages_module._EMPHASIS_BLANK),
    ):
        by_regex = re.compile(pattern)
        for _ in range(2000):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
            blanked = passages_module._blanked(text, table)
            assert blanked.split() == by_regex.sub(" ", text).split(), text
