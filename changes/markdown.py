"""An lxml tree -> Markdown, written exactly as policywatch wrote it with markdownify 1.2.3.

policywatch's texts were made by BeautifulSoup + markdownify (ATX headings, ``*`` bullets,
backslash line breaks, inferred table headers, table cells rendered as blocks joined by
``<br>``, links around blocks on their own line, ``<`` before a letter escaped). This module
writes the same Markdown straight from an lxml tree, about ten times faster: the rules
below follow markdownify's, one function per tag, so that stored versions and new fetches
compare equal (tests/test_extract_same.py checks it on real pages).

Two details of BeautifulSoup matter for whitespace and are kept: text on both sides of a
removed element or comment stays two separate strings, and an element's siblings are the
nodes that remain after removals. Removed elements are replaced by a :data:`GAP`
placeholder (its tail keeps the text after it); comments are skipped the same way.
Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lxml import etree

__all__ = ["GAP", "BLOCK_TAGS", "convert", "remove", "children", "text_of"]

GAP = "policywatch-gap"  # stands for a removed element; never converted, never matched

BLOCK_TAGS: frozenset[str] = frozenset(
    "address article aside blockquote dd div dl dt figure footer h1 h2 h3 h4 h5 h6 header "
    "hr li main nav ol p pre section table ul".split()
)

_INSIDE = frozenset(
    "p blockquote article div section ol ul li dl dt dd table thead tbody tfoot tr td th".split()
)
_HEADING = re.compile(r"h(\d+)")
_LINE = re.compile(r"^(.*)", flags=re.MULTILINE)
_WS = re.compile(r"[\t ]+")
_ALL_WS = re.compile(r"[\t \r\n]+")
_NEWLINE_WS = re.compile(r"[\t \r\n]*[\r\n][\t \r\n]*")
_PRE_LSTRIP = re.compile(r"^[ \n]*\n")
_PRE_RSTRIP = re.compile(r"[ \n]*$")
_NEWLINES = re.compile(r"^(\n*)((?:.*[^\n])?)(\n*)$", flags=re.DOTALL)
_BACKTICKS = re.compile(r"`+")
_TAG_LIKE = re.compile(r"<(?=[A-Za-z/!?])")
_CELL_BREAKS = re.compile(r"[ \t]*\\?\n")
_CELL_BLANKS = re.compile(r"\n{3,}")

Node = Any  # an lxml element or a str (a text segment)


def remove(el: Any) -> None:
    """Remove ``el`` as BeautifulSoup's ``decompose`` does: the text after it stays a
    string of its own (the placeholder carries it)."""
    gap = etree.Element(GAP)
    gap.tail = el.tail
    el.getparent().replace(el, gap)


def _is_element(node: Any) -> bool:
    return isinstance(node.tag, str) and node.tag != GAP


def children(el: Any) -> list[Node]:
    """The child nodes of ``el`` as BeautifulSoup sees them: elements and text segments."""
    out: list[Node] = []
    if el.text:
        out.append(el.text)
    for child in el:
        if isinstance(child.tag, str) and child.tag != GAP:
            out.append(child)
        if child.tail:
            out.append(child.tail)
    return out


def elements(el: Any) -> list[Any]:
    return [c for c in el if isinstance(c.tag, str) and c.tag != GAP]


def descendants(el: Any, names: frozenset[str] | set[str] | tuple[str, ...]) -> Any:
    """Descendant elements of ``el`` named one of ``names``, in document order."""
    return el.iterdescendants(*names)


def text_of(el: Any, sep: str = "") -> str:
    """BeautifulSoup's ``get_text(sep)``: every text segment below ``el`` joined by ``sep``."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        for child in children(node):
            if isinstance(child, str):
                parts.append(child)
            else:
                walk(child)

    walk(el)
    return sep.join(parts)


_BLOCKISH: dict[str, tuple[bool, bool]] = {}  # name -> (whitespace removed inside, outside)


def _blockish(name: str) -> tuple[bool, bool]:
    found = _BLOCKISH.get(name)
    if found is None:
        inside = name in _INSIDE or _HEADING.match(name) is not None
        found = _BLOCKISH[name] = (inside, inside or name == "pre")
    return found


_LEVELS: dict[str, int] = {}  # name -> the number of an h<number> name, -1 for others


def _heading_level(name: str) -> int:
    level = _LEVELS.get(name)
    if level is None:
        heading = _HEADING.match(name)
        level = _LEVELS[name] = int(heading.group(1)) if heading is not None else -1
    return level


def _remove_inside(name: str | None) -> bool:
    return name is not None and _blockish(name)[0]


def _remove_outside(name: str | None) -> bool:
    return name is not None and _blockish(name)[1]


def _child_tags(tags: frozenset[str], name: str) -> frozenset[str]:
    """The parent tags markdownify passes to the children of a ``name`` element."""
    child = set(tags)
    child.add(name)
    if _HEADING.match(name) is not None:
        child.add("_inline")
    if name in ("pre", "code", "kbd", "samp"):
        child.add("_noformat")
    return frozenset(child)


def _name(node: Node) -> str | None:
    return None if node is None or isinstance(node, str) else node.tag


def _squeeze(text: str) -> str:
    """``_ALL_WS.sub(" ", text)``, skipped when no run of whitespace can differ from " "."""
    if "\n" in text or "\t" in text or "\r" in text or "  " in text:
        return _ALL_WS.sub(" ", text)
    return text


def _chomp(text: str) -> tuple[str, str, str]:
    prefix = " " if text and text[0] == " " else ""
    suffix = " " if text and text[-1] == " " else ""
    return prefix, suffix, text.strip()


def _colspan(el: Any) -> int:
    value = el.get("colspan")
    if value is not None and value.isdigit():
        return max(1, min(1000, int(value)))
    return 1


class _Writer:
    """One conversion: markdownify's process_tag / process_text and convert_* rules."""

    def __init__(self, root: Any) -> None:
        self._child_tags: dict[tuple[frozenset[str], str], frozenset[str]] = {}
        self.root_in_pre = any(a.tag == "pre" for a in root.iterancestors())
        self.rules: dict[str, Callable[[Any, str, frozenset[str]], str]] = {
            "a": self.a,
            "b": self.strong,
            "strong": self.strong,
            "em": self.em,
            "i": self.em,
            "del": self.strike,
            "s": self.strike,
            "sub": self.plain,
            "sup": self.plain,
            "blockquote": self.blockquote,
            "br": self.br,
            "code": self.code,
            "kbd": self.code,
            "samp": self.code,
            "div": self.div,
            "article": self.div,
            "section": self.div,
            "dl": self.div,
            "dd": self.dd,
            "dt": self.dt,
            "hr": lambda el, text, tags: "\n\n---\n\n",
            "img": self.img,
            "video": self.video,
            "ul": self.list,
            "ol": self.list,
            "li": self.li,
            "p": self.p,
            "pre": self.pre,
            "q": lambda el, text, tags: '"' + text + '"',
            "script": lambda el, text, tags: "",
            "style": lambda el, text, tags: "",
            "table": lambda el, text, tags: "\n\n" + text.strip() + "\n\n",
            "caption": lambda el, text, tags: text.strip() + "\n\n",
            "figcaption": lambda el, text, tags: "\n\n" + text.strip() + "\n\n",
            "tr": self.tr,
        }

    # --- traversal -----------------------------------------------------------------------

    def tag(self, el: Any, tags: frozenset[str], name: str | None = None) -> str:
        """markdownify's process_tag; ``name`` overrides the element's (cells as divs)."""
        name = name or el.tag
        if name == "td" or name == "th":
            return self.cell(el, self.tag(el, tags, "div"))
        # children(el), with each element's tag read once (lxml builds a new str per read)
        kids: list[Node] = []
        names: list[str | None] = []  # the tag of each element kid, None for text
        head = el.text  # each read of .text or .tail decodes a new str: read once
        if head:
            kids.append(head)
            names.append(None)
        for child in el:
            child_name = child.tag
            if type(child_name) is str and child_name != GAP:
                kids.append(child)
                names.append(child_name)
            tail = child.tail
            if tail:
                kids.append(tail)
                names.append(None)
        inside = (_BLOCKISH.get(name) or _blockish(name))[0]
        frozen = self._child_tags.get((tags, name))
        if frozen is None:
            frozen = self._child_tags[(tags, name)] = _child_tags(tags, name)
        in_pre = "pre" in frozen
        noformat = "_noformat" in frozen
        strings: list[str] = []
        last = len(kids) - 1
        for i, kid in enumerate(kids):
            kid_name = names[i]
            if kid_name is not None:
                s = self.tag(kid, frozen, kid_name)
                if s:
                    strings.append(s)
                continue
            prev = kids[i - 1] if i else None
            nxt = kids[i + 1] if i < last else None
            prev_name = names[i - 1] if i else None
            next_name = names[i + 1] if i < last else None
            prev_out = (
                prev_name is not None and (_BLOCKISH.get(prev_name) or _blockish(prev_name))[1]
            )
            next_out = (
                next_name is not None and (_BLOCKISH.get(next_name) or _blockish(next_name))[1]
            )
            if not kid.strip():  # whitespace only: dropped next to blocks (markdownify)
                if inside and (prev is None or nxt is None):
                    continue
                if prev_out or next_out:
                    continue
            s = kid
            if not in_pre:
                if "\n" in s or "\r" in s:
                    s = _NEWLINE_WS.sub("\n", s)
                if "\t" in s or "  " in s:
                    s = _WS.sub(" ", s)
            if not noformat:
                if "*" in s:
                    s = s.replace("*", r"\*")
                if "_" in s:
                    s = s.replace("_", r"\_")
                if "<" in s:
                    s = _TAG_LIKE.sub(r"\\<", s)
            if prev_out or (inside and prev is None):
                s = s.lstrip(" \t\r\n")
            if next_out or (inside and nxt is None):
                s = s.rstrip()
            if s:
                strings.append(s)
        if len(strings) > 1 and name != "pre" and "pre" not in tags and not self.root_in_pre:
            # Newlines where two strings meet collapse to at most two (markdownify).
            collapsed: list[str] = []
            before = ""  # the newlines the last string ended with
            for s in strings:
                if s[0] != "\n" and s[-1] != "\n":
                    collapsed.append(s)
                    before = ""
                    continue
                # _NEWLINES's three groups, by string methods
                content = s.lstrip("\n")
                leading = s[: len(s) - len(content)]
                stripped = content.rstrip("\n")
                trailing = content[len(stripped) :]
                content = stripped
                if before and leading:
                    collapsed.pop()
                    leading = "\n" * min(2, max(len(before), len(leading)))
                collapsed.append(leading)
                collapsed.append(content)
                collapsed.append(trailing)
                before = trailing
            strings = collapsed
        text = "".join(strings)
        rule = self.rules.get(name)
        if rule is not None:
            return rule(el, text, tags)
        level = _heading_level(name)
        if level >= 0:
            return self.heading(level, text, tags)
        return text

    # --- rules -----------------------------------------------------------------------------

    def cell(self, el: Any, text: str) -> str:
        text = text.strip()
        if "\n" in text:
            # _CELL_BREAKS changes something only where a space, tab or backslash ends a line
            if " \n" in text or "\t\n" in text or "\\\n" in text:
                text = _CELL_BREAKS.sub("\n", text)
            if "\n\n\n" in text:
                text = _CELL_BLANKS.sub("\n\n", text)
            text = text.replace("\n", "<br>")
        if "|" in text:
            text = text.replace("|", r"\|")
        colspan = str(el.get("colspan", "1"))
        span = max(1, min(50, int(colspan))) if colspan.isdigit() else 1
        return " " + text + " |" * span

    def _inline(self, mark: str, text: str, tags: frozenset[str]) -> str:
        if "_noformat" in tags:
            return text
        prefix, suffix, text = _chomp(text)
        if not text:
            return ""
        return f"{prefix}{mark}{text}{mark}{suffix}"

    def strong(self, el: Any, text: str, tags: frozenset[str]) -> str:
        return self._inline("**", text, tags)

    def em(self, el: Any, text: str, tags: frozenset[str]) -> str:
        return self._inline("*", text, tags)

    def strike(self, el: Any, text: str, tags: frozenset[str]) -> str:
        return self._inline("~~", text, tags)

    def plain(self, el: Any, text: str, tags: frozenset[str]) -> str:
        return self._inline("", text, tags)

    def _link(self, el: Any, text: str, tags: frozenset[str]) -> str:
        if "_noformat" in tags:
            return text
        prefix, suffix, text = _chomp(text)
        if not text:
            return ""
        href = el.get("href")
        title = el.get("title")
        if text.replace(r"\_", "_") == href and not title:
            return f"<{href}>"
        title_part = ' "{}"'.format(title.replace('"', r"\"")) if title else ""
        return f"{prefix}[{text}]({href}{title_part}){suffix}" if href else text

    def a(self, el: Any, text: str, tags: frozenset[str]) -> str:
        if not any(d.tag in BLOCK_TAGS for d in el.iterdescendants() if type(d.tag) is str):
            return self._link(el, text, tags)
        link = self._link(el, " ".join(text.split()), tags)
        return f" {link} " if "_inline" in tags else f"\n\n{link}\n\n"

    def blockquote(self, el: Any, text: str, tags: frozenset[str]) -> str:
        text = (text or "").strip(" \t\r\n")
        if "_inline" in tags:
            return " " + text + " "
        if not text:
            return "\n"
        text = _LINE.sub(lambda m: "> " + m.group(1) if m.group(1) else ">", text)
        return "\n" + text + "\n\n"

    def br(self, el: Any, text: str, tags: frozenset[str]) -> str:
        if "_inline" in tags:
            return text + " " if text else " "
        return "\\\n" + text

    def code(self, el: Any, text: str, tags: frozenset[str]) -> str:
        if "_noformat" in tags:
            return text
        prefix, suffix, text = _chomp(text)
        if not text:
            return ""
        longest = max((len(m) for m in _BACKTICKS.findall(text)), default=0)
        delimiter = "`" * (longest + 1)
        if longest > 0:
            text = " " + text + " "
        return f"{prefix}{delimiter}{text}{delimiter}{suffix}"

    def div(self, el: Any, text: str, tags: frozenset[str]) -> str:
        if "_inline" in tags:
            return " " + text.strip() + " "
        if (
            len(text) > 4
            and text[:2] == "\n\n"
            and text[-2:] == "\n\n"
            and not text[2].isspace()
            and not text[-3].isspace()
        ):
            return text  # already "\n\n<stripped>\n\n" (nested divs): no copy per level
        text = text.strip()
        return f"\n\n{text}\n\n" if text else ""

    def dd(self, el: Any, text: str, tags: frozenset[str]) -> str:
        text = (text or "").strip()
        if "_inline" in tags:
            return " " + text + " "
        if not text:
            return "\n"
        text = _LINE.sub(lambda m: "    " + m.group(1) if m.group(1) else "", text)
        return ":" + text[1:] + "\n"

    def dt(self, el: Any, text: str, tags: frozenset[str]) -> str:
        text = _ALL_WS.sub(" ", (text or "").strip())
        if "_inline" in tags:
            return " " + text + " "
        if not text:
            return "\n"
        return f"\n\n{text}\n"

    def heading(self, n: int, text: str, tags: frozenset[str]) -> str:
        if "a" in tags:  # policywatch: a heading inside a link is the link's text
            return f" {text.strip()} "
        if "_inline" in tags:
            return text
        n = max(1, min(6, n))
        text = _squeeze(text.strip())
        return "\n\n{} {}\n\n".format("#" * n, text)

    def img(self, el: Any, text: str, tags: frozenset[str]) -> str:
        alt = el.get("alt") or ""
        src = el.get("src") or ""
        title = el.get("title") or ""
        title_part = ' "{}"'.format(title.replace('"', r"\"")) if title else ""
        if "_inline" in tags:
            return alt
        return f"![{alt}]({src}{title_part})"

    def video(self, el: Any, text: str, tags: frozenset[str]) -> str:
        if "_inline" in tags:
            return text
        src = el.get("src") or ""
        if not src:
            source = next((s for s in descendants(el, {"source"}) if s.get("src")), None)
            if source is not None:
                src = source.get("src") or ""
        poster = el.get("poster") or ""
        if src and poster:
            return f"[![{text}]({poster})]({src})"
        if src:
            return f"[{text}]({src})"
        if poster:
            return f"![{text}]({poster})"
        return text

    def list(self, el: Any, text: str, tags: frozenset[str]) -> str:
        before_paragraph = False
        sibling = _next_content_sibling(el)
        if sibling is not None and _name(sibling) not in ("ul", "ol"):
            before_paragraph = True
        if "li" in tags:
            return "\n" + text.rstrip()
        return "\n\n" + text + ("\n" if before_paragraph else "")

    def li(self, el: Any, text: str, tags: frozenset[str]) -> str:
        text = (text or "").strip()
        if not text:
            return "\n"
        parent = el.getparent()
        if parent is not None and parent.tag == "ol":
            start_attr = parent.get("start")
            start = int(start_attr) if start_attr and start_attr.isnumeric() else 1
            before = sum(1 for s in el.itersiblings(preceding=True) if s.tag == "li")
            bullet = f"{start + before}."
        else:
            bullet = "*"
        bullet += " "
        indent = " " * len(bullet)
        if "\n" in text:  # _LINE.sub(indent each non-empty line), without a call per line
            text = "\n".join(indent + line if line else "" for line in text.split("\n"))
        else:
            text = indent + text
        return bullet + text[len(bullet) :] + "\n"

    def p(self, el: Any, text: str, tags: frozenset[str]) -> str:
        if "_inline" in tags:
            return " " + text.strip(" \t\r\n") + " "
        text = text.strip(" \t\r\n")
        return f"\n\n{text}\n\n" if text else ""

    def pre(self, el: Any, text: str, tags: frozenset[str]) -> str:
        if not text:
            return ""
        text = _PRE_RSTRIP.sub("", _PRE_LSTRIP.sub("", text))
        return f"\n\n```\n{text}\n```\n\n"

    def tr(self, el: Any, text: str, tags: frozenset[str]) -> str:
        cells = list(descendants(el, {"td", "th"}))
        parent = el.getparent()
        first = _previous_element(el) is None
        head_row = all(c.tag == "th" for c in cells) or (
            parent.tag == "thead" and sum(1 for _ in descendants(parent, {"tr"})) == 1
        )
        missing = (first and parent.tag != "tbody") or (
            first
            and parent.tag == "tbody"
            and next(descendants(parent.getparent(), {"thead"}), None) is None
        )
        width = sum(_colspan(c) for c in cells)
        if (head_row or missing) and first:  # table_infer_header
            underline = "| " + " | ".join(["---"] * width) + " |\n"
            return "|" + text + "\n" + underline
        if first and (
            parent.tag == "table" or (parent.tag == "tbody" and _previous_element(parent) is None)
        ):
            overline = "| " + " | ".join([""] * width) + " |\n"
            overline += "| " + " | ".join(["---"] * width) + " |\n"
            return overline + "|" + text + "\n"
        return "|" + text + "\n"


def _previous_element(el: Any) -> Any:
    for sibling in el.itersiblings(preceding=True):
        if isinstance(sibling.tag, str) and sibling.tag != GAP:
            return sibling
    return None


def _next_content_sibling(el: Any) -> Node:
    """The next sibling that is an element or non-blank text (markdownify's
    _next_block_content_sibling)."""
    parent = el.getparent()
    if parent is None:
        return None
    kids = children(parent)
    for i, kid in enumerate(kids):
        if kid is el:
            for later in kids[i + 1 :]:
                if not isinstance(later, str) or later.strip():
                    return later
            return None
    return None


def convert(root: Any) -> str:
    """The Markdown of ``root`` (an element), as markdownify's ``convert_soup`` wrote it."""
    return _Writer(root).tag(root, frozenset())
