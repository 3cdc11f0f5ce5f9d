"""Bytes of a fetched page -> text, or the typed reason it is not a page we can read.

Pure functions, no I/O. A page is refused as ``not-html`` when its content type says it is
something else (an image, a PDF, ``application/octet-stream``) or when its bytes are binary
whatever it says; as ``bad-encoding`` when no encoding decodes it without many replacement
characters (U+FFFD). Before giving up, the encodings a browser would consider are tried:
the byte-order mark, the HTTP header, the page's own ``<meta charset>``, then detection
(charset_normalizer) - so a windows-1252 page declared ``utf-8`` reads as written.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from w3lib.encoding import (
    html_body_declared_encoding,
    html_to_unicode,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

__all__ = ["Decoded", "PageRejected", "decode_page", "media_type"]

#: Content types a document may be served as (with none, the bytes decide).
TEXT_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "text/plain", "text/xml", "application/xml"}
)
#: Magic numbers of formats that are never a page (images, archives, PDFs, fonts...).
_MAGIC = (
    b"\x89PNG", b"GIF87a", b"GIF89a", b"\xff\xd8\xff", b"%PDF-", b"PK\x03\x04", b"\x1f\x8b",
    b"\x28\xb5\x2f\xfd", b"BZh", b"\xfd7zXZ", b"RIFF", b"OggS", b"wOFF", b"wOF2", b"\x00asm",
    b"\x7fELF", b"MZ", b"\x00\x00\x01\x00", b"ID3", b"II*\x00", b"MM\x00*",
)  # fmt: skip
#: Share of characters that may be U+FFFD before a page counts as badly encoded (a page
#: may contain a few on purpose, or one stray byte).
MAX_REPLACEMENT_SHARE = 0.001
MAX_REPLACEMENTS = 20
_SNIFF = 4096


class PageRejected(ValueError):
    """A fetched body that is not a readable page: ``kind`` is the fetch's failure type."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # the one used
    declared: str | None  # what the header (or, without one, the page) said
    replacements: int  # U+FFFD characters the decoding introduced


def media_type(content_type: str | None) -> str | None:
    """``"Text/HTML; charset=utf-8"`` -> ``"text/html"``; None if absent or empty."""
    if not content_type:
        return None
    value = content_type.split(";", 1)[0].strip().lower()
    return value or None


def binary_signature(body: bytes) -> str | None:
    """Why ``body`` looks binary (a magic number, NUL bytes), or None if it may be text."""
    head = body[:_SNIFF]
    stripped = head.lstrip(b" \t\r\n")
    for magic in _MAGIC:
        if stripped.startswith(magic):
            return f"starts with {magic[:8]!r}"
    if read_bom(head)[0] in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        return None  # NUL bytes are how UTF-16/32 spell ASCII
    if b"\x00" in head:
        return "contains NUL bytes"
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    if head and controls / len(head) > 0.05:
        return f"{controls} control bytes in its first {len(head)}"
    return None


def decode_page(body: bytes, content_type: str | None) -> Decoded:
    """The text of ``body``; raises :class:`PageRejected` (``not-html``, ``bad-encoding``)."""
    declared_type = media_type(content_type)
    if declared_type is not None and declared_type not in TEXT_TYPES:
        raise PageRejected("not-html", f"served as {declared_type}, {len(body)} bytes")
    signature = binary_signature(body)
    if signature is not None:
        shown = declared_type or "no content type"
        raise PageRejected("not-html", f"binary bytes ({signature}), served as {shown}")
    encoding, text = html_to_unicode(content_type, body)
    bad = _replacements(text, body, encoding)
    declared = http_content_type_encoding(content_type) or html_body_declared_encoding(body)
    if bad and not _few(bad, len(text)):
        for candidate in _candidates(body, encoding):
            try:
                better = body.decode(candidate, "strict")
            except (UnicodeDecodeError, LookupError):
                continue
            if _looks_like_text(better):
                return Decoded(better, candidate, declared, 0)
        raise PageRejected(
            "bad-encoding",
            f"{bad} replacement characters decoding as {encoding}"
            f" (declared {declared or 'nothing'}); no other encoding reads it",
        )
    return Decoded(text, encoding, declared, bad)


def _replacements(text: str, body: bytes, encoding: str) -> int:
    """U+FFFD characters the decoding added (not those the page spelled itself)."""
    count = text.count("\ufffd")
    if count and encoding.replace("_", "-").lower() in ("utf-8", "utf8"):
        count -= body.count("\ufffd".encode())
    return max(count, 0)


def _few(bad: int, chars: int) -> bool:
    return bad <= MAX_REPLACEMENTS and bad <= max(1, chars) * MAX_REPLACEMENT_SHARE


def _candidates(body: bytes, used: str) -> list[str]:
    """Encodings to try, most likely first: the page's own declaration, utf-8, detection,
    then windows-1252 (what a "utf-8" page that is not utf-8 most often is)."""
    names: list[str] = []
    meta = html_body_declared_encoding(body)
    detected = _detect(body)
    for name in (meta, "utf-8", detected, "cp1252"):
        resolved = resolve_encoding(name) if name else None
        if resolved and resolved not in names and codecs.lookup(resolved).name != _name(used):
            names.append(resolved)
    return names


def _name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return encoding


def _detect(body: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(body[:200_000]).best()
    return best.encoding if best is not None else None


def _looks_like_text(text: str) -> bool:
    """No C1 control characters (what bytes 0x80-0x9f become in the wrong single-byte
    encoding) and no replacement characters."""
    if "\ufffd" in text:
        return False
    return not any("\x80" <= ch <= "\x9f" for ch in text)
