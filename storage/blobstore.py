"""Where blob bytes live: in the database, a local folder, or S3-compatible object storage.

The ``blob`` table always indexes every blob (hash, size, codec); its ``data`` column holds
the bytes only for the database store (and for blobs stored before a store was chosen).
Other stores keep one object per blob, ``<root>/<first two hex digits>/<sha256>.zst``,
written once: the name is the content's hash, so a second writer of the same bytes writes
the same object.

``POLICYWATCH_BLOBS`` chooses, as a URL:

* ``db``: in the database (one place to back up; what a many-machine PostgreSQL setup had);
* a folder, ``/srv/pw/blobs`` or ``file:///srv/pw/blobs``: readable by one machine (or a
  shared mount);
* ``s3://bucket/prefix``: S3 or any S3-compatible service (through fsspec and s3fs, the
  ``s3`` extra); endpoint and keys from the usual AWS variables, or
  ``POLICYWATCH_S3_ENDPOINT`` for a non-AWS endpoint.

Unset: a folder beside a SQLite database (``var/policywatch.db`` -> ``var/policywatch.db.blobs``),
and the database itself for PostgreSQL (whose machines need not share a disk).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import make_url

#: Where a sessionmaker's ``info`` holds its blob store (storage.db.make_sessionmaker).
STORE_KEY = "policywatch.blob_store"


class BlobStore(Protocol):
    url: str

    def put(self, digest: str, packed: bytes) -> None: ...

    def get(self, digest: str) -> bytes: ...

    def delete(self, digest: str) -> None: ...


def _key(digest: str) -> str:
    return f"{digest[:2]}/{digest}.zst"


class FolderStore:
    """One file per blob in a local folder; written to a temporary name, then renamed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def put(self, digest: str, packed: bytes) -> None:
        path = self.root / _key(digest)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(packed)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, digest: str) -> bytes:
        # a string path and plain system calls (open, fstat, read, close): a full publish
        # reads 20,000 blobs, and a buffered file object added an ioctl and lseeks to each
        try:
            fd = os.open(f"{self.root}/{_key(digest)}", os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise KeyError(f"blob {digest} is not in {self.root}") from None
        try:
            size = os.fstat(fd).st_size
            parts = [os.read(fd, size)]
            got = len(parts[0])
            while got < size and (more := os.read(fd, size - got)):  # a short read
                parts.append(more)
                got += len(more)
            return parts[0] if len(parts) == 1 else b"".join(parts)
        finally:
            os.close(fd)

    def delete(self, digest: str) -> None:
        (self.root / _key(digest)).unlink(missing_ok=True)


class ObjectStore:
    """One object per blob under an fsspec URL (``s3://bucket/prefix``); a put is atomic."""

    def __init__(self, url: str) -> None:
        import fsspec

        options: dict[str, object] = {}
        endpoint = os.environ.get("POLICYWATCH_S3_ENDPOINT")
        if url.startswith("s3://") and endpoint:
            options["client_kwargs"] = {"endpoint_url": endpoint}
        self.fs, root = fsspec.core.url_to_fs(url, **options)
        self.root = root.rstrip("/")
        self.url = url

    def _path(self, digest: str) -> str:
        return f"{self.root}/{_key(digest)}"

    def put(self, digest: str, packed: bytes) -> None:
        path = self._path(digest)
        if not self.fs.exists(path):
            self.fs.pipe_file(path, packed)

    def get(self, digest: str) -> bytes:
        try:
            return bytes(self.fs.cat_file(self._path(digest)))
        except FileNotFoundError:
            raise KeyError(f"blob {digest} is not in {self.url}") from None

    def delete(self, digest: str) -> None:
        try:
            self.fs.rm_file(self._path(digest))
        except FileNotFoundError:
            pass


def store_url(db_url: str) -> str:
    """The blob store for ``db_url``: POLICYWATCH_BLOBS, else the default (module doc)."""
    chosen = os.environ.get("POLICYWATCH_BLOBS", "").strip()
    if chosen:
        return chosen
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return f"{url.database}.blobs"
    return "db"


def open_store(url: str) -> BlobStore | None:
    """The store named by ``url``; None for ``db`` (the bytes stay in the blob table)."""
    if url == "db":
        return None
    if url.startswith("file://"):
        return FolderStore(Path(url.removeprefix("file://")))
    if "://" in url:
        return ObjectStore(url)
    return FolderStore(Path(url))
