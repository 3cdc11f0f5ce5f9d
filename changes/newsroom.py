"""Newsroom posts as news (pure): when a post's first version is announced, and titles.

The normal rule is that a document's first version is not a change: it only starts the
history. A newsroom post is different: its appearance is the news. But the posts already in
the feed the first time it is read are the backlog, not news. So a post's first version is
announced when the feed had already been read successfully in an earlier run than the one
that first fetched the post.
"""

from __future__ import annotations


def announce_first_version(feed_first_ok_run: int | None, post_first_run: int | None) -> bool:
    """True if a post's first version is news (see the module docstring).

    >>> announce_first_version(1, 1), announce_first_version(1, 2), announce_first_version(None, 2)
    (False, True, False)
    """
    if feed_first_ok_run is None or post_first_run is None:
        return False
    return feed_first_ok_run < post_first_run


def post_name(service: str, title: str) -> str:
    """``Meta newsroom post “Building AI technology for Europeans”``."""
    return f"{service} newsroom post \u201c{title}\u201d"


def new_post_title(service: str, title: str, words: int) -> str:
    """``Meta newsroom: new post “Our privacy update” (120 words)``."""
    return f"{service} newsroom: new post \u201c{title}\u201d ({words} words)"
