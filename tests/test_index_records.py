"""index.json made again from the previous one's bytes (feeds/index_records.py): whatever
was added, removed, changed or moved, the bytes are those of encoding every record, and
only records not found in the same place of the previous file are encoded."""

from __future__ import annotations

import json
import random

from feeds.index_records import FINGERPRINT, Laid, assemble


def record(n: int, version: int = 0) -> bytes:
    return json.dumps({"id": n, "title": f"change {n} <{version}>" + "x" * (n % 7)}).encode()


def fingerprint(n: int, version: int = 0) -> str:
    return f"{n:032x}{version:032x}"


def build(items: list[tuple[int, int]], previous: Laid | None) -> tuple[bytes, Laid, list[int]]:
    head = b'{"title":"t","changes":['
    fps = [fingerprint(n, v) for n, v in items]
    encoded: list[int] = []

    def encode(k: int) -> bytes:
        encoded.append(items[k][0])
        return record(*items[k])

    data, lengths = assemble(head, fps, previous, encode)
    order = {
        "fingerprints": "".join(fps),
        "lengths": lengths,
        "start": len(head),
        "size": len(data),
    }
    laid = Laid.of(data, order)
    assert laid is not None
    return data, laid, encoded


def whole(items: list[tuple[int, int]]) -> bytes:
    return b'{"title":"t","changes":[' + b",".join(record(*i) for i in items) + b"]}"


def test_any_edit_of_the_list_gives_the_bytes_of_encoding_it_whole() -> None:
    rng = random.Random(14)
    items = [(n, 0) for n in range(200, 0, -1)]
    data, laid, encoded = build(items, None)
    assert data == whole(items) and len(encoded) == len(items)
    json.loads(data)
    for step in range(60):
        new = list(items)
        for _ in range(rng.randrange(1, 4)):
            what = rng.choice(["add", "remove", "change", "move"])
            if what == "add":
                new.insert(rng.randrange(len(new) + 1), (1000 + step * 10 + len(new) % 10, 0))
            elif what == "remove" and len(new) > 1:
                new.pop(rng.randrange(len(new)))
            elif what == "change":
                k = rng.randrange(len(new))
                new[k] = (new[k][0], new[k][1] + 1)
            elif what == "move":
                new.insert(rng.randrange(len(new)), new.pop(rng.randrange(len(new))))
        data, next_laid, encoded = build(new, laid)
        assert data == whole(new), step
        old = set(items)
        assert set(encoded) >= {n for n, v in new if (n, v) not in old}
        assert len(encoded) <= 3 * 4  # at most a few records per edit, never all of them
        items, laid = new, next_laid


def test_a_new_change_at_the_head_encodes_one_record_and_copies_the_rest_at_once() -> None:
    items = [(n, 0) for n in range(10_000, 0, -1)]
    _, laid, _ = build(items, None)
    data, _, encoded = build([(10_001, 0), *items], laid)
    assert encoded == [10_001] and data == whole([(10_001, 0), *items])
    assert "at" not in vars(laid)  # the old records copied at once, none looked up
    data, _, encoded = build([(10_001, 0), *items[1:]], laid)  # one gone: looked up
    assert encoded == [10_001] and data == whole([(10_001, 0), *items[1:]])
    assert "at" in vars(laid)


def test_a_file_not_laid_out_as_noted_is_not_used() -> None:
    items = [(n, 0) for n in range(5, 0, -1)]
    data, laid, _ = build(items, None)
    order = {
        "fingerprints": "".join(laid.fingerprints),
        "lengths": laid.lengths,
        "start": 24,
        "size": len(data),
    }
    assert Laid.of(data, order) is not None
    assert Laid.of(data + b" ", order) is None  # another size
    assert Laid.of(data.replace(b"[", b" ", 1), order) is None  # the list not where noted
    assert Laid.of(data, {**order, "lengths": [*laid.lengths[:-1], laid.lengths[-1] + 1]}) is None
    assert Laid.of(data, {**order, "fingerprints": "x" * FINGERPRINT}) is None
    assert Laid.of(data, {**order, "lengths": ["1"] * 5}) is None
    assert Laid.of(data, {}) is None
