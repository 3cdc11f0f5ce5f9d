"""GDPR legal bases (Art. 6(1)) a policy states, and which purposes rely on each (pure).

Meta's policies give each basis a heading ("Legitimate interests", "Compliance with a legal
obligation", "### **Your Consent**") followed by its purposes, either as a table whose
first column says why and how information is processed, or (Facebook, December 2025 on)
as a list of purpose titles each followed by "**Why and how we process your
information:**". Older policies (the 2022 French "Politique d'utilisation des données")
only list the bases in prose under a legal-basis heading. :func:`legal_bases` reads all
three; :func:`basis_changes` says, per purpose, which bases were added or removed and which
processing steps a purpose gained or lost. Phrasings live in
``changes/lexicons/legal_bases.toml`` (EN/FR/DE).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache

from changes.lexicon import fold, lang_of, load, patterns
from changes.plain import plain, words

__all__ = [
    "BASES",
    "LegalBases",
    "Purpose",
    "basis_changes",
    "basis_name",
    "bases_named",
    "heading_basis",
    "legal_bases",
    "short_label",
]

#: The six bases, in the order of Art. 6(1) GDPR.
BASES: tuple[str, ...] = (
    "consent",
    "contract",
    "legal-obligation",
    "vital-interests",
    "public-interest",
    "legitimate-interests",
)

_LEXICON = "legal_bases"
_SETEXT = re.compile(r"^(=+|-+)\s*$")
_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BOLD_LINE = re.compile(r"^\s*\*\*([^*].*?)\*\*\s*:?\s*$")
_TABLE_SEP = re.compile(r"^\s*:?-{3,}:?\s*$")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_BULLET = re.compile(r"^\s*(?:[*+•-])\s+")
# A list item, bulleted or numbered ("* ", "1. ", "2) ", "a. "): a list of bases may be either.
_LIST_ITEM = re.compile(r"^\s*(?:[*+•-]|\d{1,2}[.)]|[a-z][.)])\s+")
_INFO_MARK = "ⓘ"
_MATCH = 0.5  # purposes at least this similar are the same purpose, reworded
_SAME_ITEM = 0.8  # processing steps at least this similar are the same step, reworded
_STOP = frozenset(
    "the and for our your you with that this from are can other such like their them into "
    "which when where what will have has been also than more about including".split()
)


@dataclass(frozen=True)
class Purpose:
    """One purpose under one basis: its label, its why-and-how text, its bullet steps and
    the people it applies to, when the policy says ("For people under 18 ...")."""

    label: str
    body: str = ""
    items: tuple[str, ...] = ()
    audience: str = ""

    @property
    def key(self) -> str:
        return _key(self.label)


@dataclass(frozen=True)
class LegalBases:
    """The bases a text states, and the purposes listed under each (basis -> purposes)."""

    stated: frozenset[str] = frozenset()
    purposes: dict[str, tuple[Purpose, ...]] = field(default_factory=dict)


def basis_name(basis: str) -> str:
    """How a basis is written in summaries: ``"legitimate-interests"`` -> "legitimate interests"."""
    return str(load(_LEXICON)["name"].get(basis, basis))


@cache
def _heading_patterns(langs: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    out = []
    for basis in BASES:
        exprs = [e for lang in langs for e in load(_LEXICON)["heading"][basis].get(lang, [])]
        if exprs:
            joined = "|".join(f"(?:{e})" for e in exprs)
            out.append((basis, re.compile(rf"(?:{joined})", re.IGNORECASE)))
    return tuple(out)


def heading_basis(heading: str, lang: str = "en") -> str | None:
    """The basis a heading names, or None: the whole heading must be the basis.

    >>> heading_basis("### **Compliance With A Legal Obligation**")
    'legal-obligation'
    >>> heading_basis("Withdraw consent") is None
    True
    """
    text = _heading_text(heading).rstrip(" :")
    for basis, pattern in _heading_patterns(lang_of(lang)):
        if pattern.fullmatch(text):
            return basis
    return None


def bases_named(text: str, lang: str = "en") -> set[str]:
    """Every basis named in ``text`` (prose, a sentence, a table cell).

    >>> sorted(bases_named("dans la mesure nécessaire pour nos intérêts légitimes", "fr"))
    ['legitimate-interests']
    """
    folded = fold(plain(text))
    langs = lang_of(lang)
    return {b for b in BASES if (p := patterns(_LEXICON, "mention", b, langs)) and p.search(folded)}


def _heading_text(line: str) -> str:
    m = _ATX.match(line)
    return plain(m.group(2) if m else line).strip()


def _headings(lines: Sequence[str]) -> list[tuple[int, int, str]]:
    """(line index, level, text) of ATX and setext headings; levels 1-6."""
    out = []
    for i, line in enumerate(lines):
        m = _ATX.match(line)
        if m:
            out.append((i, len(m.group(1)), _heading_text(line)))
        elif (
            i + 1 < len(lines)
            and line.strip()
            and not line.startswith(("|", "*", "-", ">"))
            and _SETEXT.match(lines[i + 1])
            and len(lines[i + 1].strip()) >= 3
        ):
            out.append((i, 1 if lines[i + 1].strip()[0] == "=" else 2, _heading_text(line)))
    return out


@lru_cache(maxsize=8)  # a text is the new side of one change and the old of the next
def legal_bases(markdown: str, lang: str = "en") -> LegalBases:
    """The bases ``markdown`` states and the purposes listed under each basis.

    A basis is stated when a heading names it, or when the prose of a legal-basis section
    ("What is our legal basis", "Sur quelle base légale...") names it. A purpose table
    belongs to the basis heading above it; some renders of the Facebook policy drop those
    headings, and then the paragraph introducing the table names the basis ("...based on
    compliance with a legal obligation..."), or its header does ("Legitimate interests
    relied on").
    """
    langs = lang_of(lang)
    lines = markdown.splitlines()
    heads = {i: (level, title) for i, level, title in _headings(lines)}
    section = patterns(_LEXICON, "section", None, langs)
    marker = patterns(_LEXICON, "marker", None, langs)
    stated: set[str] = set()
    found: dict[str, dict[str, Purpose]] = {}
    under: tuple[str, int] | None = None  # the basis heading we are under, and its level
    in_section: int | None = None  # level of the legal-basis section we are in
    prose_basis: str | None = None  # the basis the last introducing paragraph named
    in_body = False  # inside a list purpose's "why and how" text
    titled: int | None = None  # the last heading that may title a purpose ("To X, we:")
    i = 0
    while i < len(lines):
        line = lines[i]
        label = heads[i][1] if i in heads else (m.group(1) if (m := _BOLD_LINE.match(line)) else "")
        relied = _relied_basis(label, lang) if label and under is None else None
        if relied is not None:  # "Legitimate interests relied on" after a purpose's steps
            stated.add(relied)
            # Pinterest's layout; in Facebook's list layout the label sits in a purpose's
            # "why and how" text, already read, far below the last heading
            if titled is not None and not in_body:
                _add(found, relied, _titled_purpose(lines, titled, i, heads))
            setext = i in heads and _SETEXT.match(lines[i + 1] if i + 1 < len(lines) else "")
            i += 2 if setext else 1
            continue
        if i in heads:
            level, title = heads[i]
            opens_section = section is not None and section.search(fold(title))
            if not _is_label(title, langs) and not opens_section:
                titled = i  # a legal-basis section's own heading titles no purpose
            basis = heading_basis(title, lang) if len(title) < 120 else None
            if basis is not None:
                under = (basis, level)
                stated.add(basis)
            elif under is not None and level <= under[1]:
                under = None
            if in_section is not None and level <= in_section:
                in_section = None
            if basis is None and section is not None and section.search(fold(title)):
                in_section = level
                stated |= bases_named("\n".join(_section_prose(lines, i, level, heads)), lang)
            prose_basis, in_body = None, False
            i += 2 if _SETEXT.match(lines[i + 1] if i + 1 < len(lines) else "") else 1
            continue
        if line.lstrip().startswith("|"):
            end = i
            while end < len(lines) and lines[end].lstrip().startswith("|"):
                end += 1
            table = lines[i:end]
            column = _basis_column(table, langs)
            if column is not None:  # "| Purpose | Legal basis |": each row names its bases
                for basis, purpose in _row_bases(table, column, lang):
                    stated.add(basis)
                    _add(found, basis, purpose)
                i = end
                continue
            basis = under[0] if under else _table_basis(table, prose_basis, lang, langs)
            if basis is not None:
                for purpose in _table_purposes(table, langs):
                    _add(found, basis, purpose)
            i = end
            continue
        bold = _BOLD_LINE.match(line)
        titles = _BOLD_TITLE.match(line) if under is not None and not in_body else None
        if titles and not _is_label(plain(titles.group(1)), langs):
            steps = _titled_steps(lines, i)  # "**Suggest your account to other users.**"
            if steps is not None:
                _add(found, under[0], steps)
                i += 1
                continue
        if bold:
            in_body = bool(marker and marker.search(fold(plain(bold.group(1)))))
            basis = under[0] if under else (prose_basis if in_section is not None else None)
            if in_body and basis is not None:
                for purpose in _list_purposes(lines, i, heads):
                    _add(found, basis, purpose)
        elif not in_body and _introduces(line):
            prose_basis = _first_basis(line, langs) or prose_basis
        i += 1
    stated |= _listed_bases(lines, langs)
    purposes = {b: tuple(found[b].values()) for b in BASES if found.get(b)}
    return LegalBases(frozenset(stated), purposes)


def _relied_basis(label: str, lang: str) -> str | None:
    """The basis a "<basis> relied on" label names ("Legitimate interests relied on")."""
    pattern = patterns(_LEXICON, "relied", None, lang_of(lang))
    m = pattern.match(fold(plain(label)).rstrip()) if pattern else None
    if m is None:
        return None
    return heading_basis(next(g for g in m.groups() if g), lang)


# The subject closing a purpose heading: "..., we:", "..., nous :", "..., werden wir:".
_TITLE_TAIL = re.compile(r"(?:,\s*\w+(?:\s+\w+)?|\s+we)?\s*:\s*$")


def _titled_purpose(
    lines: Sequence[str], head: int, label: int, heads: dict[int, tuple[int, str]]
) -> Purpose:
    """The purpose a heading titles ("To make and keep Pinterest safe, we:"), its steps the
    bullets between it and the basis label at ``label``."""
    start = head + (2 if _SETEXT.match(lines[head + 1] if head + 1 < len(lines) else "") else 1)
    title = _TITLE_TAIL.sub("", heads[head][1]).strip()
    return _purpose(lines[start:label], title=title)


def _listed_bases(lines: Sequence[str], langs: tuple[str, ...]) -> set[str]:
    """Bases stated as a list ("* en respectant votre consentement ;", "2. **Legitimate
    Interest:** ..."): a run of bulleted or numbered items of which at least three name a
    basis, naming at least three different ones. Some renders of the 2022 French policy
    have the list but not its heading; a policy may number a list it bulleted before."""
    found: set[str] = set()
    run: list[str] = []
    for line in [*lines, "."]:  # a last line that ends the last run
        if _LIST_ITEM.match(line):
            basis = _first_basis(line, langs)
            run.append(basis or "")
            continue
        if line.strip() or not run:
            named = [b for b in run if b]
            if len(named) >= 3 and len(set(named)) >= 3:
                found |= set(named)
            run = []
    return found


def _add(found: dict[str, dict[str, Purpose]], basis: str, purpose: Purpose) -> None:
    """Add a purpose to its basis. A render that repeats a purpose for the same people is
    kept once; the same title for other people ("If we cannot associate you ...") or with
    other text is another purpose."""
    merged = found.setdefault(basis, {})
    key, n = purpose.key, 1
    while key in merged:
        twin = merged[key]
        same_text = _similarity(_content(twin.body), _content(purpose.body)) >= _SAME_ITEM
        if same_text and _key(twin.audience) == _key(purpose.audience):
            merged[key] = _merge(twin, purpose)
            return
        n += 1
        key = f"{purpose.key} ({n})"
    merged[key] = purpose


def _section_prose(
    lines: Sequence[str], start: int, level: int, heads: dict[int, tuple[int, str]]
) -> list[str]:
    """The prose (not table rows) of the section opened by the heading at ``start``."""
    out = []
    for j in range(start + 1, len(lines)):
        if j in heads and heads[j][0] <= level:
            break
        if not lines[j].lstrip().startswith("|"):
            out.append(lines[j])
    return out


def _table_basis(
    table: Sequence[str], prose_basis: str | None, lang: str, langs: tuple[str, ...]
) -> str | None:
    """The basis of a purpose table without a basis heading: the one the paragraph
    introducing it names, else the one its header names."""
    cells = _cells(table[0]) if table else []
    if not cells or not _is_label(plain(cells[0]), langs):
        return None  # not a "why and how we process" table
    if prose_basis is not None:
        return prose_basis
    for cell in cells[1:]:
        basis = heading_basis(re.sub(r"\s*relied on.*$", "", plain(cell), flags=re.I), lang)
        if basis is not None:
            return basis
    return None


def _basis_column(table: Sequence[str], langs: tuple[str, ...]) -> int | None:
    """In a "purpose | legal basis" table, the index of the basis column (its header names
    a legal basis: "Legal basis", "Base juridique", "Rechtsgrundlage"), else None."""
    section = patterns(_LEXICON, "section", None, langs)
    header = _cells(table[0]) if table else []
    for index, cell in enumerate(header[1:], start=1):
        if section is not None and section.search(fold(plain(cell))):
            return index
    return None


def _row_bases(table: Sequence[str], column: int, lang: str) -> list[tuple[str, Purpose]]:
    """(basis, purpose) for each row of a "purpose | legal basis" table."""
    out = []
    for line in table[1:]:
        cells = _cells(line)
        if len(cells) <= column or all(_TABLE_SEP.match(c) for c in cells):
            continue
        purpose = _purpose(cells[0].strip().split("<br>"), title=None)
        for basis in BASES:
            if basis in bases_named(cells[column], lang):
                out.append((basis, purpose))
    return out


def _introduces(line: str) -> bool:
    """Could ``line`` be a paragraph introducing (or closing) a basis's purposes?"""
    text = line.strip()
    if not text or text.startswith(_INFO_MARK) or _BULLET.match(text):
        return False
    return len(words(text)) >= 12


@lru_cache(maxsize=1 << 14)
def _first_basis(text: str, langs: tuple[str, ...]) -> str | None:
    folded = fold(plain(text))
    best: tuple[int, str] | None = None
    for basis in BASES:
        pattern = patterns(_LEXICON, "mention", basis, langs)
        m = pattern.search(folded) if pattern else None
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), basis)
    return best[1] if best else None


def _merge(old: Purpose | None, new: Purpose) -> Purpose:
    if old is None:
        return new
    items = old.items + tuple(i for i in new.items if i not in old.items)
    return Purpose(old.label, old.body if len(old.body) >= len(new.body) else new.body, items)


def _is_label(text: str, langs: tuple[str, ...]) -> bool:
    pattern = patterns(_LEXICON, "label", None, langs)
    return bool(pattern and pattern.search(fold(text)))


def _cells(row: str) -> list[str]:
    cells = _CELL_SPLIT.split(row.strip())
    if cells and not cells[0].strip():
        cells = cells[1:]
    if cells and not cells[-1].strip():
        cells = cells[:-1]
    return cells


def _table_purposes(lines: Sequence[str], langs: tuple[str, ...]) -> list[Purpose]:
    out = []
    audience = ""
    for line in lines:
        cells = _cells(line)
        if len(cells) < 2 or all(_TABLE_SEP.match(c) for c in cells):
            continue
        first = cells[0].strip()
        if not plain(first):
            continue  # an empty header row
        if _is_label(plain(first), langs):
            audience = ""  # a header row ("Why and how we process your information")
            continue
        if first.startswith("#") or not any(c.strip() for c in cells[1:]):
            audience = _audience(first)  # a group row: "### For people under 18 ..."
            continue
        out.append(_purpose(first.split("<br>"), title=None, audience=audience))
    return out


def _audience(text: str) -> str:
    """Who a group of purposes applies to ("For people under 18 ..."), as plain text."""
    return plain(text.replace(_INFO_MARK, " ").lstrip("# "))


def _list_purposes(
    lines: Sequence[str], i: int, heads: dict[int, tuple[int, str]]
) -> list[Purpose]:
    """The purposes of the "Why and how we process" label at line ``i``.

    Facebook (December 2025 on), ``**Why and how we process your information:**``: one
    purpose per label, titled by the line above it (skipping "ⓘ For ..." audience notes),
    its text running to the next bold label. WhatsApp (2022), ``**Why And How We Process
    Your Data**:``: one label per basis, see :func:`_paragraph_purposes`.
    """
    if lines[i].rstrip().endswith("**:"):
        return _paragraph_purposes(lines, i, heads)
    title, audience = None, ""
    for back in range(i - 1, max(-1, i - 8), -1):
        candidate = lines[back].strip()
        if candidate.startswith(_INFO_MARK):
            audience = _audience(candidate)
        if not candidate or candidate.startswith(_INFO_MARK):
            continue
        if back not in heads and _is_title(candidate):
            title = candidate
        break
    body = []
    for after in lines[i + 1 :]:
        if _BOLD_LINE.match(after):
            break
        if after.strip():
            body.append(after)
    return [_purpose(body, title=title, audience=audience)]


# A purpose title in bold on a line of its own under a basis heading, its stop inside or
# outside the bold ("**Suggest your account to other users.**", "**Marketing**.").
_BOLD_TITLE = re.compile(r"^\*\*([^*][^*]*?)\*\*\s*\.?\s*$")
# A bullet opening with a bold label ("* **Information used**: ...").
_LABELLED = re.compile(r"^\s*(?:[*+•-])\s+\*\*[^*]+?(?::\*\*|\*\*\s*:)")


def _titled_steps(lines: Sequence[str], i: int) -> Purpose | None:
    """TikTok's layout under a basis heading: a bold purpose title, then its bullets (what
    is done, then labelled ones: "**Legitimate Interest relied upon**: To ...",
    "**Information used**: ..."). None when no bullet follows the title or the title is
    long (a bold paragraph is no title)."""
    title = _BOLD_TITLE.match(lines[i])
    if title is None or len(words(title.group(1))) >= 20:
        return None
    body = []
    for after in lines[i + 1 :]:
        if not after.strip():
            continue
        if not _BULLET.match(after):
            break
        body.append(after)
    if not body:
        return None
    steps = tuple(_item(plain(b)) for b in body if not _LABELLED.match(b))
    text = " ".join(plain(b.strip()) for b in body)
    label = plain(title.group(1)).rstrip(" .")
    return Purpose(_ANNOTATION.sub("", label).strip(), text, steps)


def _is_title(line: str) -> bool:
    """A purpose title: a short line of text, not a list item, link line, label or note."""
    if _BULLET.match(line) or _BOLD_LINE.match(line) or line.startswith(("[", "|")):
        return False
    return not line.endswith(":") and len(words(line)) < 20


def _paragraph_purposes(
    lines: Sequence[str], i: int, heads: dict[int, tuple[int, str]]
) -> list[Purpose]:
    """WhatsApp 2022: after "**Why And How We Process Your Data**:", each paragraph that
    a bullet list follows is a purpose, up to the next heading or label."""
    out = []
    for j in range(i + 1, len(lines)):
        line = lines[j]
        if j in heads or (j + 1 in heads and _SETEXT.match(lines[j + 1])):
            break
        if line.rstrip().endswith("**:") and _BOLD_LINE.match(line):
            break
        if line.strip() and not line[0].isspace() and not _BULLET.match(line):
            following = next((x for x in lines[j + 1 :] if x.strip()), "")
            if not _BOLD_LINE.match(line) and _BULLET.match(following):
                out.append(_purpose([line], title=None))
    return out


def _purpose(body_lines: Sequence[str], title: str | None, audience: str = "") -> Purpose:
    body = [b for b in (s.strip() for s in body_lines) if b]
    items = tuple(_item(plain(b)) for b in body if _BULLET.match(b))
    text = " ".join(plain(b) for b in body)
    label = plain(title) if title else _label(body[0] if body else "")
    return Purpose(_ANNOTATION.sub("", label).strip(), text, items, audience)


_ANNOTATION = re.compile(r"\[\d+\]")
_ITEM_TAIL = re.compile(r"(?:[,;.]|\s+(?:and|or))+\s*$")


def _item(text: str) -> str:
    """A processing step without footnote marks and list punctuation ("..., and")."""
    return _ITEM_TAIL.sub("", _ANNOTATION.sub("", text)).strip()


def _label(first: str) -> str:
    """The purpose named by the first paragraph of a why-and-how cell."""
    bold = re.match(r"^\s*\*\*(.+?)\*\*", first)
    if bold:
        text = plain(bold.group(1))
        return re.sub(r"(?:,? we|,? by)?\s*[:.,]?$", "", text).strip()
    text = plain(first)
    text = re.split(r":\s|:$|(?<=[a-z)])\.\s", text, maxsplit=1)[0]
    return text.rstrip(" .:")[:300]


_ALSO_CALLED = re.compile(
    r"\b(?:(?!and\b|or\b)[a-z][\w-]* ){0,2}"
    r"(?:technology|technologies|features?|products?|models?) \((?:also )?called ([^)]+)\)"
)
_CUT = re.compile(r",| on | in | for | to | including | such as | \(|:|;")


def short_label(label: str, min_words: int = 4) -> str:
    """A purpose or step as a title can quote it: aliases applied, cut at its first clause.

    >>> short_label("Develop and improve artificial intelligence technology "
    ...             "(also called AI at Meta) on Meta Products and for third parties.")
    'Develop and improve AI at Meta'
    """
    text = _ALSO_CALLED.sub(r"\1", label).strip().rstrip(".")
    for m in _CUT.finditer(text):
        if len(words(text[: m.start()])) >= min_words:
            return text[: m.start()].strip()
    return text


def _norm(word: str) -> str:
    word = word.casefold()
    return re.sub(r"is(e|es|ed|ing|ation|ations)$", r"iz\1", word)


_SUFFIX = re.compile(r"(?:ations?|ings?|ed|es|e|s)$")


@lru_cache(maxsize=1 << 16)
def _stem(word: str) -> str:
    """A crude stem, enough to see "Developing" and "Develop" as one word."""
    word = word.casefold()
    if len(word) > 4:
        word = _SUFFIX.sub("", word)
    return re.sub(r"is$", "iz", word)


@lru_cache(maxsize=1 << 14)
def _key(text: str) -> str:
    return " ".join(_norm(w) for w in words(text))


@lru_cache(maxsize=1 << 14)
def _content(text: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in words(text) if len(w) > 2 and w.casefold() not in _STOP)


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _score(old: Purpose, new: Purpose) -> float:
    labels = _jaccard(_content(old.label), _content(new.label))
    bodies = _similarity(_content(old.label + " " + old.body), _content(new.label + " " + new.body))
    return max(labels, 0.4 * labels + 0.6 * bodies)


def _pairs(
    old: Sequence[Purpose], new: Sequence[Purpose]
) -> tuple[list[tuple[Purpose, Purpose]], list[Purpose], list[Purpose]]:
    """Match purposes of one basis: same key first, then the most similar (greedy).

    Two purposes may share a title ("Promoting safety, integrity and security" for users
    and for people without an account): those pair by the similarity of their text."""
    pairs: list[tuple[Purpose, Purpose]] = []
    left = list(old)
    right = []
    for p in new:
        same = [o for o in left if o.key == p.key]
        if same:
            match = max(same, key=lambda o: _likeness(o, p))
            pairs.append((match, p))
            left.remove(match)
        else:
            right.append(p)
    scored = sorted(
        ((_score(o, n), i, j) for i, o in enumerate(left) for j, n in enumerate(right)),
        reverse=True,
    )
    used_old: set[int] = set()
    used_new: set[int] = set()
    for score, i, j in scored:
        if score < _MATCH:
            break
        if i not in used_old and j not in used_new:
            used_old.add(i)
            used_new.add(j)
            pairs.append((left[i], right[j]))
    gone = [p for i, p in enumerate(left) if i not in used_old]
    came = [p for j, p in enumerate(right) if j not in used_new]
    return pairs, gone, came


def _likeness(old: Purpose, new: Purpose) -> float:
    """How alike two purposes of the same title are: their text, then their audience."""
    body = _similarity(_content(old.body), _content(new.body))
    audience = _jaccard(_content(old.audience), _content(new.audience))
    return body + 0.5 * audience


def _steps(old: Purpose, new: Purpose) -> tuple[list[str], list[str]]:
    """Processing steps (bullets) a purpose gained and lost; rewordings are not changes."""
    old_keys = {_key(i): i for i in old.items}
    new_keys = {_key(i): i for i in new.items}
    added = [new_keys[k] for k in new_keys if k not in old_keys]
    removed = [old_keys[k] for k in old_keys if k not in new_keys]
    for a in list(added):
        for r in removed:
            ca, cr = _content(a), _content(r)
            if _jaccard(ca, cr) >= 0.6 and _similarity(ca, cr) >= _SAME_ITEM:
                added.remove(a)
                removed.remove(r)
                break
    return added, removed


def basis_changes(old: LegalBases, new: LegalBases) -> dict[str, list[dict[str, object]]]:
    """What changed between two readings: per purpose, bases added and removed; processing
    steps a purpose gained or lost; bases the text states or no longer states.

    Empty lists mean nothing changed. Purposes are matched by label, then by similarity of
    label and text, so a layout change or a reworded title is not a new purpose.
    """
    moved: list[tuple[str, Purpose]] = []  # (+basis or -basis, purpose)
    steps: list[dict[str, object]] = []
    for basis in BASES:
        pairs, gone, came = _pairs(old.purposes.get(basis, ()), new.purposes.get(basis, ()))
        moved += [("-" + basis, p) for p in gone] + [("+" + basis, p) for p in came]
        for before, after in pairs:
            added, removed = _steps(before, after)
            if added or removed:
                steps.append(
                    {
                        "purpose": after.label,
                        "basis": basis_name(basis),
                        "added": added,
                        "removed": removed,
                    }
                )
    return {
        "purposes": _group(moved),
        "processing": _fold_steps(steps),
        "bases_added": [basis_name(b) for b in BASES if b in new.stated - old.stated],
        "bases_removed": [basis_name(b) for b in BASES if b in old.stated - new.stated],
    }


def _group(moved: list[tuple[str, Purpose]]) -> list[dict[str, object]]:
    """One entry per purpose: the bases it gained and lost (similar labels grouped)."""
    groups: list[tuple[Purpose, list[str], list[str]]] = []
    for sign_basis, purpose in moved:
        sign, basis = sign_basis[0], sign_basis[1:]
        for label_purpose, added, removed in groups:
            if label_purpose.key == purpose.key or _score(label_purpose, purpose) >= 0.8:
                target = added if sign == "+" else removed
                if basis_name(basis) not in target:
                    target.append(basis_name(basis))
                break
        else:
            name = [basis_name(basis)]
            groups.append((purpose, name if sign == "+" else [], [] if sign == "+" else name))
    out: list[dict[str, object]] = []
    for p, a, r in groups:
        entry: dict[str, object] = {"purpose": p.label}
        if p.audience:
            entry["for"] = p.audience
        out.append({**entry, "added": a, "removed": r})
    return out


def _fold_steps(steps: list[dict[str, object]]) -> list[dict[str, object]]:
    """The same step added to one purpose under several bases is listed once."""
    out: list[dict[str, object]] = []
    for step in steps:
        for seen in out:
            if seen["purpose"] == step["purpose"] and (seen["added"], seen["removed"]) == (
                step["added"],
                step["removed"],
            ):
                seen["bases"] = [*seen["bases"], step["basis"]]  # type: ignore[misc]
                break
        else:
            out.append(
                {
                    "purpose": step["purpose"],
                    "bases": [step["basis"]],
                    "added": step["added"],
                    "removed": step["removed"],
                }
            )
    return out
