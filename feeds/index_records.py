"""index.json made again from the previous one's bytes: only new or changed records encoded.

index.json lists every change (10,000 records, 1.5 MB): a publish with one new change
encoded each record again, or read them all back as JSON from the previous build, about
60 ms. The previous build notes where each record is in its index.json
(``feeds/incremental.py: INDEX_ORDER``: the change fingerprints in order and each record's
length); the next one copies the runs of records that are still in the same order as one
slice each, and encodes only the others. The bytes are those of encoding every record
(compact JSON is its parts joined by commas: tests/test_site_incremental.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from itertools import accumulate
from typing import Any

FINGERPRINT = 64  # hex digits of a view's fingerprint (feeds/views.py)


class Laid:
    """The previous index.json and where each of its records is: record ``i`` is
    ``raw[starts[i] : starts[i] + lengths[i]]``, for the change ``fingerprints[i]``
    (``joined``: the fingerprints joined; the lists are made only if needed)."""

    def __init__(self, raw: bytes, joined: str, lengths: list[int], start: int) -> None:
        self.raw, self.joined, self.lengths, self.start = raw, joined, lengths, start

    @classmethod
    def of(cls, raw: bytes, order: dict[str, Any]) -> Laid | None:
        """``raw`` laid out as ``order`` (an INDEX_ORDER) says; None where they disagree
        (a file edited by hand, or noted by other code): every record is then encoded."""
        joined, lengths = order.get("fingerprints"), order.get("lengths")
        start, size = order.get("start"), order.get("size")
        if not (
            isinstance(joined, str)
            and isinstance(lengths, list)
            and all(type(n) is int and n > 0 for n in lengths)
            and len(joined) == FINGERPRINT * len(lengths)
            and type(start) is int
            and size == len(raw)
            and raw[start - 1 : start] == b"["
            and raw.endswith(b"]}")
            and start + sum(lengths) + max(len(lengths) - 1, 0) + 2 == size
        ):
            return None
        return cls(raw, joined, lengths, start)

    @cached_property
    def fingerprints(self) -> list[str]:
        w = FINGERPRINT
        return [self.joined[i : i + w] for i in range(0, len(self.joined), w)]

    @cached_property
    def starts(self) -> list[int]:
        """Where each record starts: one separator after the previous one ends."""
        at = self.start
        starts = [at + i + before for i, before in enumerate(accumulate(self.lengths, initial=0))]
        starts.pop()
        return starts

    @cached_property
    def at(self) -> dict[str, int]:
        """Each record's index by the fingerprint of its change."""
        return {fp: i for i, fp in enumerate(self.fingerprints)}

    def body(self) -> bytes:
        """Every record, with the commas between them."""
        return self.raw[self.start : len(self.raw) - 2]


def assemble(
    head: bytes,
    fingerprints: Sequence[str],
    previous: Laid | None,
    encode: Callable[[int], bytes],
) -> tuple[bytes, list[int]]:
    """index.json from ``head`` and one record per fingerprint, in order: runs of records
    ``previous`` has in the same order copied as one slice, the others ``encode(k)`` (k:
    the position). Returns the bytes and each record's length (for the next build).

    When the previous records are all still there, in order, after some new ones (a
    publish of new changes, nothing edited), the old records are copied at once, without
    looking each one up."""
    if previous is not None and all(len(fp) == FINGERPRINT for fp in fingerprints):
        joined = "".join(fingerprints)
        extra = len(joined) - len(previous.joined)
        if extra >= 0 and joined.endswith(previous.joined):
            new = [encode(k) for k in range(extra // FINGERPRINT)]
            old = [previous.body()] if previous.lengths else []
            return head + b",".join(new + old) + b"]}", [len(r) for r in new] + previous.lengths
    parts: list[bytes | memoryview] = []  # joined once: one copy of 4.5 MB, not four
    lengths: list[int] = []
    at = previous.at if previous is not None else {}
    raw = memoryview(previous.raw) if previous is not None else memoryview(b"")
    first = end = -1  # the run of previous records being copied: [first, end)

    def copy_run() -> None:
        if first < 0 or previous is None:
            return
        stop = previous.starts[end - 1] + previous.lengths[end - 1]
        parts.append(raw[previous.starts[first] : stop])
        lengths.extend(previous.lengths[first:end])

    for k, fp in enumerate(fingerprints):
        i = at.get(fp, -1)
        if i >= 0 and i == end:
            end += 1
            continue
        copy_run()
        if i >= 0:
            first, end = i, i + 1
        else:
            first = end = -1
            record = encode(k)
            parts.append(record)
            lengths.append(len(record))
    copy_run()
    pieces: list[bytes | memoryview] = [head]
    for part in parts:
        pieces += (part, b",")
    if parts:
        pieces.pop()
    pieces.append(b"]}")
    return b"".join(pieces), lengths
