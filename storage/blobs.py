"""Content-addressed, zstd-compressed bytes: stored once, whatever refers to them.

The ``blob`` table indexes every blob; the bytes go to the session's blob store
(storage.blobstore: a folder, S3-compatible storage) or, without one, into the table.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable

import zstandard
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from storage import upsert
from storage.blobstore import STORE_KEY, BlobStore
from storage.models import Blob

_LEVEL = 3  # ~4.6x on policy text at well under a millisecond per document


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_of(session: Session) -> BlobStore | None:
    """The blob store of the session's sessionmaker (storage.db), None: in the database."""
    return session.info.get(STORE_KEY)


def put_blob(session: Session, data: bytes) -> str:
    """Store ``data`` unless a blob with its hash exists; return the hash.

    Idempotent across processes: the object is written under its hash (the same bytes,
    whoever writes them), then the row is INSERT ... ON CONFLICT DO NOTHING, so two
    processes storing the same bytes at once both succeed.
    """
    digest = sha256(data)
    if session.identity_map.get(identity_key(Blob, digest)) is not None:
        return digest
    if session.scalar(select(Blob.hash).where(Blob.hash == digest)) is None:
        packed = zstandard.ZstdCompressor(level=_LEVEL).compress(data)
        store = store_of(session)
        if store is not None:
            store.put(digest, packed)
        row = {
            "hash": digest,
            "size": len(data),
            "codec": "zstd",
            "data": packed if store is None else None,
        }
        session.execute(upsert.insert(session, Blob).values(**row).on_conflict_do_nothing())
    return digest


_LOCAL = threading.local()  # a decompressor per thread (one is not thread-safe)


def _decompressor() -> zstandard.ZstdDecompressor:
    """This thread's decompressor, made once: making one costs more than decompressing a
    page's diff (a publish reads 20,000 blobs)."""
    made: zstandard.ZstdDecompressor | None = getattr(_LOCAL, "decompressor", None)
    if made is None:
        made = _LOCAL.decompressor = zstandard.ZstdDecompressor()
    return made


#: A blob as stored: its codec and its packed bytes, None if they are in the blob store.
Packed = tuple[str, bytes | None]


def packed_blobs(session: Session, hashes: Iterable[str], batch: int = 500) -> dict[str, Packed]:
    """The codec and packed bytes of these blobs, read in a few queries of plain rows
    (no ORM objects: a full publish reads 20,000 blobs); a hash not stored is left out."""
    wanted = sorted(set(hashes))
    found: dict[str, Packed] = {}
    for i in range(0, len(wanted), batch):
        rows = session.execute(
            select(Blob.hash, Blob.codec, Blob.data).where(Blob.hash.in_(wanted[i : i + batch]))
        )
        found.update((digest, (codec, data)) for digest, codec, data in rows)
    return found


def unpack(session: Session, digest: str, packed: Packed) -> bytes:
    """The bytes of blob ``digest`` from what :func:`packed_blobs` read of it (the blob
    store of the session, if they are there)."""
    codec, data = packed
    if data is None:
        store = store_of(session)
        if store is None:
            raise KeyError(f"blob {digest} is kept in a blob store: set POLICYWATCH_BLOBS to it")
        data = store.get(digest)
    if codec == "zstd":
        return _decompressor().decompress(data)
    return data


def get_blob(session: Session, digest: str) -> bytes:
    # a blob loaded and not expired is taken from the identity map at once; anything
    # else as session.get finds it (loaded again if expired)
    blob = session.identity_map.get(identity_key(Blob, digest))
    if blob is None or "data" not in blob.__dict__:
        blob = session.get(Blob, digest)
    if blob is None:
        raise KeyError(f"no blob {digest}")
    return unpack(session, digest, (blob.codec, blob.data))


def put_text(session: Session, text: str) -> str:
    return put_blob(session, text.encode("utf-8"))


def get_text(session: Session, digest: str) -> str:
    return get_blob(session, digest).decode("utf-8")
