"""The newsroom feed: which posts to track, as documents of their own (pure functions).

A post is kept when its title, categories or summary name one of the feed's keywords
(sources.toml). An all-capitals keyword (``AI``, ``KI``, ``EU``, ``RGPD``) matches that
whole word, case kept; any other keyword matches, in any case, a word that starts with
it (``privac`` -> "Privacy", ``données`` -> "données").
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urlsplit

from lxml import etree
from lxml import html as lxml_html

from config.documents import DocumentSpec, FeedSettings

_ATOM = "{http://www.w3.org/2005/Atom}"
_MAX_ID = 150


@dataclass(frozen=True)
class Post:
    """One item of a feed."""

    title: str
    url: str
    published: str
    categories: tuple[str, ...]
    summary: str


def _text(el: etree._Element | None) -> str:
    if el is None:
        return ""
    raw = "".join(el.itertext()).strip()
    if "<" in raw:  # RSS descriptions carry escaped HTML
        try:
            raw = lxml_html.fromstring(raw).text_content()
        except (etree.ParserError, ValueError):
            pass
    return re.sub(r"\s+", " ", raw).strip()


def parse_feed(body: bytes) -> list[Post]:
    """The items of an RSS 2.0 or Atom feed; an unparseable body has none.

    Entities are never resolved and nothing is loaded from the network.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        return []
    if root is None:
        return []
    posts: list[Post] = []
    for item in root.iter("item"):
        posts.append(
            Post(
                title=_text(item.find("title")),
                url=_text(item.find("link")),
                published=_text(item.find("pubDate")),
                categories=tuple(_text(c) for c in item.findall("category")),
                summary=_text(item.find("description")),
            )
        )
    for entry in root.iter(f"{_ATOM}entry"):
        link = entry.find(f"{_ATOM}link[@rel='alternate']")
        if link is None:
            link = entry.find(f"{_ATOM}link")
        posts.append(
            Post(
                title=_text(entry.find(f"{_ATOM}title")),
                url=(link.get("href") or "").strip() if link is not None else "",
                published=_text(entry.find(f"{_ATOM}updated")),
                categories=tuple(c.get("term", "") for c in entry.findall(f"{_ATOM}category")),
                summary=_text(entry.find(f"{_ATOM}summary")),
            )
        )
    return [p for p in posts if urlsplit(p.url).scheme in ("http", "https")]


def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """The regular expression a keyword stands for (see the module docstring)."""
    word = re.escape(keyword.strip()).replace(r"\ ", r"\s+")
    if keyword.isupper():
        return re.compile(rf"(?<!\w){word}(?!\w)")
    return re.compile(rf"(?<!\w){word}", re.IGNORECASE)


def matched_keywords(post: Post, keywords: tuple[str, ...]) -> list[str]:
    """The keywords ``post`` is about (empty: not relevant).

    >>> p = Post("Building AI Technology for Europeans", "https://x.test/p", "", (), "")
    >>> matched_keywords(p, ("AI", "Europe", "privacy"))
    ['AI', 'Europe']
    """
    text = " ".join((post.title, *post.categories, post.summary))
    return [k for k in keywords if keyword_pattern(k).search(text)]


def post_id(feed_id: str, url: str) -> str:
    """A stable document id for the post at ``url``: ``<feed>.<path-slug>``."""
    path = urlsplit(urldefrag(url).url).path
    words = [w for w in re.split(r"[^a-z0-9]+", path.lower()) if w and w != "news"]
    slug = "-".join(words) or "post"
    if len(slug) > _MAX_ID:
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:8]
        slug = f"{slug[:_MAX_ID].rstrip('-')}-{digest}"
    return f"{feed_id}.{slug}"


def post_spec(feed: DocumentSpec, settings: FeedSettings, post: Post) -> DocumentSpec:
    """The tracked document of a kept post; its group is the feed it came from."""
    return DocumentSpec(
        id=post_id(feed.id, post.url),
        service=feed.service,
        title=post.title or post.url,
        kind="newsroom",
        url=urldefrag(post.url).url,
        page_url=None,
        locale=feed.locale,
        render=feed.render,
        select=settings.post_select,
        remove=settings.post_remove,
        group_id=feed.id,
        profile=feed.profile,
    )
