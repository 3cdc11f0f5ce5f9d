"""Hostile pages fail alone and typed: binary bodies, wrong charsets, deep nesting."""

from __future__ import annotations

import random

import pytest

from changes.decode import PageRejected, decode_page
from changes.extract import MAX_DEPTH, UnparsablePage, extract

FRENCH = (
    "<html><head><title>Politique</title></head><body><div id='root'>"
    + "<p>Données à caractère personnel : nos “intérêts légitimes” – été 2025.</p>" * 40
    + "</div></body></html>"
)


def test_a_windows_1252_page_declared_utf8_reads_as_written() -> None:
    decoded = decode_page(FRENCH.encode("cp1252"), "text/html; charset=utf-8")
    assert decoded.encoding == "cp1252" and decoded.declared == "utf-8"
    assert "\ufffd" not in decoded.text
    assert "“intérêts légitimes” – été" in decoded.text


def test_utf8_stays_utf8_and_a_stray_byte_is_tolerated() -> None:
    body = FRENCH.encode("utf-8")
    assert decode_page(body, "text/html; charset=utf-8").text == FRENCH
    one_bad = body.replace("été".encode(), b"\xe9t\xe9", 1)  # one cp1252 word in utf-8
    decoded = decode_page(one_bad, "text/html; charset=utf-8")
    assert decoded.encoding == "utf-8" and decoded.replacements == 2


def test_bytes_no_encoding_reads_are_bad_encoding() -> None:
    rng = random.Random(1)
    noise = bytes(rng.randrange(0x80, 0x100) for _ in range(20_000))
    with pytest.raises(PageRejected) as caught:
        decode_page(b"<html><body><p>" + noise + b"</p></body></html>", "text/html")
    assert caught.value.kind == "bad-encoding"
    assert "replacement characters" in caught.value.detail


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "image/png"),
        (b"<html>" + bytes(range(256)) * 4, "application/octet-stream"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "text/html; charset=utf-8"),
        (b"%PDF-1.7\n" + b"x" * 100, None),
        (b"<html>\x00\x00\x00\x01\x02", "text/html"),
    ],
)
def test_binary_is_not_html_by_content_type_or_by_its_bytes(
    body: bytes, content_type: str | None
) -> None:
    with pytest.raises(PageRejected) as caught:
        decode_page(body, content_type)
    assert caught.value.kind == "not-html"


def test_utf16_with_a_bom_is_text() -> None:
    body = "\ufeff<html><body><p>Privacy</p></body></html>".encode("utf-16-le")
    assert "Privacy" in decode_page(body, "text/html").text


def _nested(levels: int) -> str:
    inner = "<div>" * levels + "deep text" + "</div>" * levels
    return f"<html><body><div id='root'>{inner}<p>after</p></div></body></html>"


def test_100000_nested_divs_are_unparsable_not_a_recursion_error() -> None:
    with pytest.raises(UnparsablePage, match="nested"):
        extract(_nested(100_000), "https://example.org/", ["#root"])


def test_nesting_below_the_cap_still_converts() -> None:
    text = extract(_nested(MAX_DEPTH - 5), "https://example.org/", ["#root"]).text
    assert "deep text" in text and "after" in text
