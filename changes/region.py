"""A fingerprint of the part of a page a document's text is made of.

Two pages with the same fingerprint extract to the same text, so a fetch whose fingerprint
equals the one stored with the document's current version can skip extraction, diffing
and classification (pipeline/unchanged.py, docs/decisions/0014-unchanged-pages.md).

The fingerprint is a sha256 over everything :func:`changes.extract.convert` reads from a
prepared page (:func:`changes.extract.prepare`: scripts, styles and the ``remove``
matches already gone, the ``select`` roots chosen) and nothing else:

- the extractor's version, this module's version, the document's base URL, whether the
  ``select`` rule matched, and the ``select`` / ``remove`` rules themselves;
- each root's surroundings that the converter looks at (its ancestors' tags, its parent's
  ``start``, the shape of its siblings);
- every node under each root, in document order with its nesting: tag, text, tail, and
  only the attributes the converter reads (:data:`READ_ATTRS`), links canonicalised by
  :func:`changes.links.canonical_url` exactly as extraction canonicalises them.

Volatile attributes (``class``, ``id``, ``data-*``, ``style``, nonces, tracking
attributes) and link tokens (``h=``, ``__cft__``, signed CDN parameters...) therefore
do not change the fingerprint; any change of text, of a tag, of a link's target or of a
read attribute does. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from lxml import etree

from changes.extract import EXTRACTOR_VERSION, Prepared, prepare
from changes.links import DROP_PARAM_PREFIXES, DROP_PARAMS, canonical_url

__all__ = ["READ_ATTRS", "REGION_VERSION", "fingerprint", "region_hash"]

#: Bump whenever the fingerprint of a page would change meaning.
REGION_VERSION: str = "1"

#: Attributes changes/extract.py and changes/markdown.py read from elements under a root
#: (tests/test_unchanged.py checks the list against their source).
READ_ATTRS: frozenset[str] = frozenset(
    {"href", "src", "alt", "title", "colspan", "poster", "start", "role"}
)


def region_hash(
    html: str, base_url: str, select: Sequence[str] = (), remove: Sequence[str] = ()
) -> str:
    """The fingerprint of ``html``'s selected region (see the module's docstring)."""
    page = prepare(html, base_url, select, remove)
    return fingerprint(page, select, remove)


def fingerprint(page: Prepared | None, select: Sequence[str], remove: Sequence[str]) -> str:
    """The fingerprint of a prepared page (None: an empty page). Changes the page's tree
    (attributes dropped, links canonicalised): convert a page or fingerprint it, not both."""
    digest = hashlib.sha256()
    head: list[Any] = [EXTRACTOR_VERSION, REGION_VERSION, list(select), list(remove)]
    if page is None:
        digest.update(_json([*head, None]))
        return digest.hexdigest()
    digest.update(_json([*head, page.base, page.selector_matched]))
    for root in page.roots:
        digest.update(_json(_surroundings(root)))
        digest.update(_serialised(root))
    return digest.hexdigest()


def _json(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass") + b"\n"


def _surroundings(root: Any) -> list[Any]:
    """What the converter reads around a root: ancestors' tags (``pre``), the parent's
    ``start`` and the sequence of its children (list numbering, the next block, the first
    table row), and whether a table row's grandparent has a header."""
    parent = root.getparent()
    if parent is None:
        return []
    kids: list[Any] = [bool((parent.text or "").strip())]
    for kid in parent:
        kids.append(0 if kid is root else _name(kid))
        kids.append(bool((kid.tail or "").strip()))
    grand = parent.getparent()
    header = grand is not None and next(grand.iter("thead"), None) is not None
    ancestors = [_name(a) for a in root.iterancestors()]
    return [ancestors, parent.get("start"), kids, header]


def _name(node: Any) -> str:
    tag = node.tag
    if isinstance(tag, str):
        return tag
    return "#comment" if tag is etree.Comment else "#other"


def _serialised(root: Any) -> bytes:
    """``root`` with only the attributes the converter reads, links stripped of their
    tokens (:func:`link_key`), as XML (the root's tail left out). Changes the tree."""
    _strip_unread(root)
    for link in root.iter("a", "area", "img"):
        key = "src" if link.tag == "img" else "href"
        value = link.get(key)
        if value is not None:
            link.set(key, link_key(value))
    return etree.tostring(root, encoding="utf-8", with_tail=False)


def _strip_unread(root: Any) -> None:
    """Drop every attribute the converter does not read. The names met before go first, in
    one libxml2 pass; the tree is walked for names only if one XPath still finds another."""
    if _UNREAD_SEEN:
        etree.strip_attributes(root, *_UNREAD_SEEN)
    if not _ANY_UNREAD(root):
        return
    unread = {name for el in root.iter() for name in el.keys()} - READ_ATTRS
    if len(_UNREAD_SEEN) + len(unread) > _UNREAD_SEEN_MAX:  # a page made of odd names
        _UNREAD_SEEN.clear()
    _UNREAD_SEEN.update(unread)
    etree.strip_attributes(root, *unread)


# Attribute names stripped before (a cache: what is stripped never depends on it).
_UNREAD_SEEN: set[str] = set()
_UNREAD_SEEN_MAX = 512
# Is there an attribute left whose name is not one the converter reads? (A namespaced
# attribute's name() has a prefix, so it is never taken for a read one.)
_ANY_UNREAD = etree.XPath(
    "boolean(descendant-or-self::*/@*["
    + " and ".join(f"name() != '{name}'" for name in sorted(READ_ATTRS))
    + "])"
)


def link_key(url: str) -> str:
    """``url`` without what :func:`changes.links.canonical_url` always drops, cheaply:
    equal keys, equal canonical URLs (the page's base is part of the fingerprint).

    Only absolute http(s) URLs are touched, and only in their own query: each parameter
    whose decoded name canonicalisation drops wherever it appears (``h``, ``__cft__[0]``,
    ``_nc_ohc``, ``utm_*``...) goes; signed CDN URLs become their canonical form (their
    host rotates too). Anything else is kept as written, so a difference canonicalisation
    might see is never hidden (at worst a page is extracted although its text is the same).
    """
    head = url[:8].lower()
    if not (head.startswith("https://") or head.startswith("http://")):
        return "r:" + url
    if _CDN.search(url):
        return "c:" + canonical_url(url)
    query_at = url.find("?")
    if query_at == -1:
        return "k:" + url
    fragment_at = url.find("#", query_at)
    end = len(url) if fragment_at == -1 else fragment_at
    kept = [
        part
        for part in url[query_at + 1 : end].split("&")
        if not _dropped_name(part.split("=", 1)[0])
    ]
    query = "?" + "&".join(kept) if kept else ""  # "...?" and "..." canonicalise alike
    return "k:" + url[:query_at] + query + url[end:]


@lru_cache(maxsize=4096)
def _dropped_name(raw: str) -> bool:
    """Is a parameter whose name is written ``raw`` (still percent-encoded) always dropped?"""
    name = unquote_plus(raw)
    return name in DROP_PARAMS or name.startswith(DROP_PARAM_PREFIXES)


_CDN = re.compile(r"\.(fbcdn\.net|cdninstagram\.com|whatsapp\.net)[:/?#]", re.IGNORECASE)
