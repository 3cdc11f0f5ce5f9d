"""The HTML content of feed entries kept between builds, read only where a feed needs it.

A feed rendered again because one change is new reuses the content of its other entries
from the previous build (feeds/feed.py: ``Entries``). They were kept as one JSON object
of about 4,000 entries (4 MB at 10,000 changes): each publish with a new change parsed it
whole and wrote it whole again, 20-30 ms of the process rendering the feeds. Now the
contents are UTF-8 bytes one after the other (:data:`TEXTS`), and a small JSON file
(:data:`LAYOUT`) says whose each is (the change fingerprints, joined) and how long; an
entry is decoded only when a feed asks for it, and the next build copies the bytes of
the entries it keeps without decoding them.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from itertools import accumulate
from pathlib import Path

import orjson

LAYOUT = ".policywatch-feed-entries.json"
TEXTS = ".policywatch-feed-entries.bin"
FINGERPRINT = 64  # hex digits of a change fingerprint (feeds/views.py)


class Texts:
    """The entries a build kept: content by change fingerprint."""

    def __init__(self, raw: bytes = b"", spans: dict[str, tuple[int, int]] | None = None) -> None:
        self._raw = raw
        self._spans = spans or {}

    def __contains__(self, fingerprint: object) -> bool:
        return fingerprint in self._spans

    def __len__(self) -> int:
        return len(self._spans)

    def get(self, fingerprint: str) -> str | None:
        """The content kept for the change ``fingerprint``, or None."""
        found = self.raw(fingerprint)
        return None if found is None else found.decode("utf-8")

    def raw(self, fingerprint: str) -> bytes | None:
        """The same, as the UTF-8 bytes kept."""
        span = self._spans.get(fingerprint)
        return None if span is None else self._raw[span[0] : span[1]]


def read(folder: Path | None, base_url: str) -> Texts:
    """The entries kept in ``folder`` for ``base_url``; none if there are none, they were
    kept for another base URL, or the two files do not agree (edited by hand)."""
    if folder is None:
        return Texts()
    try:
        layout = orjson.loads((folder / LAYOUT).read_bytes())
        raw = (folder / TEXTS).read_bytes()
    except (OSError, ValueError):
        return Texts()
    if not isinstance(layout, dict) or layout.get("base") != base_url:
        return Texts()
    joined, lengths = layout.get("fingerprints"), layout.get("lengths")
    if not (
        isinstance(joined, str)
        and isinstance(lengths, list)
        and all(type(n) is int and n >= 0 for n in lengths)
        and len(joined) == FINGERPRINT * len(lengths)
        and sum(lengths) == len(raw)
    ):
        return Texts()
    ends = list(accumulate(lengths))
    w = FINGERPRINT
    spans = {
        joined[i * w : (i + 1) * w]: (end - n, end)
        for i, (n, end) in enumerate(zip(lengths, ends, strict=True))
    }
    return Texts(raw, spans)


def write(folder: Path, base_url: str, entries: Iterable[tuple[str, bytes]]) -> None:
    """Keep ``entries`` (change fingerprint, UTF-8 content), in the order given, in
    ``folder``; nothing if a fingerprint is not one (the next build renders them all)."""
    items = list(entries)
    if any(len(fp) != FINGERPRINT for fp, _ in items):
        return
    layout = {
        "base": base_url,
        "fingerprints": "".join(fp for fp, _ in items),
        "lengths": [len(content) for _, content in items],
    }
    with suppress(OSError):  # none kept: the next build renders the entries it needs
        (folder / TEXTS).write_bytes(b"".join(content for _, content in items))
        (folder / LAYOUT).write_bytes(orjson.dumps(layout))
