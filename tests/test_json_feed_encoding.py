"""The JSON Feeds are escaped in the bytes orjson writes (feeds/outputs/json_feed.py:
safe_json_bytes): the same bytes as ``feeds.site.safe_json`` encoded as UTF-8."""

from __future__ import annotations

import random

from feeds.outputs.json_feed import safe_json_bytes
from feeds.site import safe_json


def test_bytes_escaped_as_the_string_was() -> None:
    rng = random.Random(4)
    pieces = ["<", ">", "&", "</script>", '"', "\\", "é", "“数”", "\U0001f600", "\u2028", "a"]
    pieces += ["\x01", "\x7f", "\ufffd", "&lt;", "\\u003c", "−·…"]
    for _ in range(3000):

        def s() -> str:
            return "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 12)))

        data = {
            s(): [s(), rng.randrange(-(2**40), 2**40), None, True, {"k": s(), 7: s()}],
            "items": [{"content_html": s(), "tags": [s(), s()]} for _ in range(3)],
        }
        want = safe_json(data).encode("utf-8")
        got = safe_json_bytes(data)
        assert got == want
        assert b"<" not in got and b">" not in got and b"&" not in got
