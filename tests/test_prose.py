"""Plain Markdown paragraphs are rendered without markdown-it (feeds/prose.py), to the byte
markdown-it renders, whatever else the Markdown holds; and the cheaper test for page
furniture (passages.visible) reads texts as the regular expression alone did."""

from __future__ import annotations

import random
import re

import pytest

from feeds import prose
from feeds.passages import _MD, visible

WORDS = ["word", "policy", "Meta", "we", "Über", "données", "数据", "it's", '"q"', "(p)", "a.",
         "b,", "½", "\xa0z", "1", "20", "\ue000x\ue001", "\ue002y\ue003", "a\ue004b"]  # fmt: skip
HOSTILE = [
    "1.", "2)", "- ", "* ", "+ ", "# ", "## ", "> ", "```", "~~~", "    ", "\t", " ", "  ", "|",
    "| a | b |", "---", "===", "[a]", "[a]: https://x.y", "[t](https://e.org)", "<https://e.org>",
    "*em*", "_u_", "**b**", "`c`", "&amp;", "&", "<b>", "<script>alert(1)</script>", '"', "'",
    "!", ":", "@", "%", "\\", "\ue005", "\ue006", "\u2028", "\u3000", "\u200a", "\x0b", "\x1c",
    "\r", "\x00", "’", "“", "—", "/",
]  # fmt: skip
BREAKS = ["\n", "\n\n", "\n \n", "\n\t\n", "\n\n\n", "\n  ", "\n    "]


def plainish(rng: random.Random) -> str:
    lines = [
        " ".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 8)))
        for _ in range(rng.randrange(1, 4))
    ]
    return "\n".join(lines)


def soup(rng: random.Random) -> str:
    return "".join(rng.choice(HOSTILE + WORDS) for _ in range(rng.randrange(1, 8)))


def documents(seed: int, count: int) -> list[str]:
    """Prose paragraphs and hostile Markdown (lists, fences, tables, references, raw HTML,
    control characters), in random order and with random blank lines between them."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        blocks = [plainish(rng) if rng.random() < 0.6 else soup(rng) for _ in range(6)]
        doc = "".join(b + rng.choice(BREAKS) for b in blocks[: rng.randrange(1, 7)])
        out.append(doc.rstrip("\n") if rng.random() < 0.5 else doc)
    return out


class Counting:
    """markdown-it, counting what it was asked to render."""

    def __init__(self) -> None:
        self.whole = self.skeletons = 0

    def render(self, source: str) -> str:
        if prose._HOLE in source:
            self.skeletons += 1
        else:
            self.whole += 1
        return _MD.render(source)


def test_the_html_is_markdown_its_on_random_and_hostile_markdown() -> None:
    md = Counting()
    docs = documents(seed=14, count=3000)
    for doc in docs:
        assert prose.render(md, doc) == _MD.render(doc), repr(doc)  # type: ignore[arg-type]
    # every way through was taken: all plain, plain and the rest, no plain paragraph
    assert md.skeletons > 500
    assert md.whole > 500
    assert len(docs) - md.whole - md.skeletons > 100


@pytest.mark.parametrize(
    "doc",
    [
        "Plain text.\n\nMore plain text, \u201cquoted\u201d & <b>not bold</b>?\n",
        "Plain.\n\n```\nin a fence\n\nstill in it\n```\n\nAfter.",
        "- item\n\n  continued\n\nPlain after the list.",
        "Plain.\n\n[ref]: https://example.org\n\nSee [ref].",
        "Plain.\n\n    code\n\n\tcode too\n\nPlain.",
        "Heading\n===\n\nPlain.",
        "| a | b |\n| - | - |\n| c | d |\n\nPlain.",
        "Plain with \ue006 a hole mark.\n\nAnd more.",
        "Line one\r\nline two\r\n\r\nPlain.",
        "Plain\nwith trailing spaces  \nand a break.",
        "\ue000Inserted\ue001 at the start\n\n\ue002- deleted list marker\ue003",
        "",
        "\n\n  \n",
    ],
)
def test_the_html_is_markdown_its_on_edge_cases(doc: str) -> None:
    assert prose.render(_MD, doc) == _MD.render(doc)


def test_a_plain_paragraph_is_escaped() -> None:
    html = prose.render(_MD, 'Tom & Jerry say "<script>alert(1)</script>"')
    assert "<script>" not in html
    assert html == _MD.render('Tom & Jerry say "<script>alert(1)</script>"')


def _visible_as_before(markdown: str) -> str:
    """passages.visible before the furniture test was made cheaper (the reference)."""
    link = re.compile(r"!?\[((?:[^\[\]\\]|\\.)*)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
    furniture = re.compile(r"(?i)\b(return to top|back to top|play video|learn more|see more)\b")
    shown = link.sub(lambda m: m.group(1), markdown) if "](" in markdown else markdown
    shown = furniture.sub(" ", shown)
    shown = re.sub(r"[\\*_#|`>\[\]()=-]+", " ", shown.replace("<br>", " "))
    return " ".join(shown.split()).lower()


@pytest.mark.parametrize(
    "text",
    [
        "Read on. Return to top",
        "BACK TO TOP of the page",
        "[Play Video](https://x.example/v) and Learn More",
        "ſee more",  # re's IGNORECASE reads the long s as an s
        "Learn moRe, see MORE, play vıdeo, play vİdeo",
        "\u212aeep reading",
        "desktop videos, learn morels",
        "nothing to fold here",
    ],
)
def test_visible_reads_furniture_as_the_regular_expression_does(text: str) -> None:
    assert visible(text) == _visible_as_before(text)


def test_visible_is_unchanged_on_random_text() -> None:
    rng = random.Random(3)
    pieces = WORDS + HOSTILE + ["Return to top", "see More", "ſee more", "play video", "vİdeo"]
    for _ in range(2000):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12)))
        assert visible(text) == _visible_as_before(text), repr(text)
