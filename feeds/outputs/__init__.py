"""Outputs written beside the site and the Atom/RSS feeds at every publish: one module per
output in this package, registered with :func:`output`, found by :func:`registered`.

An output writes its files through ``publication.out`` (``feeds/incremental.py: Output``), so
they are part of the same atomic generation as the site, and are reused unchanged when their
inputs did not change (give ``out.keep`` / ``out.write`` a key made of those inputs). It
reads only what the publish has loaded (``publication.site``: views of the stored rows,
already escaped where they hold crawled text); it never queries storage itself.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from feeds.feed import Entry, FeedSpec
from feeds.incremental import Output
from feeds.site import Site
from feeds.views import ChangeView


@dataclass(frozen=True)
class Publication:
    """What one publish gives each output."""

    out: Output  # the folder being built
    site: Site  # everything the site shows
    base_url: str  # the public URL of the output folder, with a trailing slash
    feeds: Sequence[FeedSpec]  # the feeds of the site: all changes, per document, per category
    entry: Callable[[ChangeView], Entry]  # a change as a feed entry (rendered once, shared)
    prepare: Callable[[list[ChangeView]], None]  # load the diffs of changes at once
    limit: int  # how many changes a feed lists
    listing: list[list[ChangeView]] | None = None  # the changes each feed lists (feed.listed)


#: An output: writes its files, returns their paths (relative to the output folder).
Writer = Callable[[Publication], list[str]]

_OUTPUTS: dict[str, Writer] = {}


def output(name: str) -> Callable[[Writer], Writer]:
    """Register the decorated function as the output ``name``."""

    def register(writer: Writer) -> Writer:
        if name in _OUTPUTS and _OUTPUTS[name] is not writer:
            raise ValueError(f"two outputs are named {name!r}")
        _OUTPUTS[name] = writer
        return writer

    return register


def registered() -> dict[str, Writer]:
    """Every output of this package, by name (importing each module registers it)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    return dict(sorted(_OUTPUTS.items()))
