"""Blob stores: a folder beside a SQLite database by default, the database on request, and
S3-compatible object storage, tested against moto's S3 server run by the test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from config.run import RunConfig
from demo.server import FakeMeta
from feeds import atomic, remote
from pipeline.retention import drop_unchanged_bodies
from storage.blobs import get_blob, packed_blobs, put_blob, store_of, unpack
from storage.blobstore import FolderStore, ObjectStore, store_url
from storage.db import open_db
from storage.models import Blob, Fetch, Version
from storage.retention import bodies_to_drop
from tests.conftest import write_sources
from tests.factories import run_steps

BODY = b"<html><body>" + b"We process information. " * 500 + b"</body></html>"


def test_a_sqlite_database_keeps_its_blobs_in_a_folder_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POLICYWATCH_BLOBS", raising=False)
    url = f"sqlite:///{tmp_path / 'pw.db'}"
    assert store_url(url) == f"{tmp_path / 'pw.db'}.blobs"
    assert store_url("postgresql+psycopg://u@h/pw") == "db"  # machines need not share a disk
    with open_db(url).begin() as session:
        digest = put_blob(session, BODY)
        assert put_blob(session, BODY) == digest
        assert isinstance(store_of(session), FolderStore)
    with open_db(url)() as session:
        row = session.get(Blob, digest)
        assert row is not None and row.data is None and row.size == len(BODY)
        assert get_blob(session, digest) == BODY
        held = packed_blobs(session, [digest, "0" * 64])  # one unknown: left out
        assert list(held) == [digest] and held[digest][1] is None  # the bytes: in the folder
        assert unpack(session, digest, held[digest]) == BODY
    files = [p for p in (tmp_path / "pw.db.blobs").rglob("*") if p.is_file()]
    assert [p.name for p in files] == [f"{digest}.zst"]
    assert files[0].stat().st_size < len(BODY) / 10  # compressed


def test_db_keeps_the_bytes_in_the_table(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLICYWATCH_BLOBS", "db")
    with open_db(db_url).begin() as session:
        digest = put_blob(session, BODY)
    with open_db(db_url)() as session:
        row = session.get(Blob, digest)
        assert row is not None and row.data is not None
        assert get_blob(session, digest) == BODY
        held = packed_blobs(session, [digest])
        assert held == {digest: ("zstd", row.data)}
        assert unpack(session, digest, held[digest]) == BODY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """moto's S3-compatible server on a free local port; yields its endpoint URL."""
    pytest.importorskip("s3fs")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(endpoint, timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(30)


@pytest.fixture
def s3_env(s3: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The environment of a process whose blobs go to a new bucket; returns the store URL."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POLICYWATCH_S3_ENDPOINT": s3,
    }.items():
        monkeypatch.setenv(key, value)
    bucket = f"pw-{os.urandom(4).hex()}"
    store = ObjectStore(f"s3://{bucket}")
    store.fs.mkdir(bucket)
    url = f"s3://{bucket}/blobs"
    monkeypatch.setenv("POLICYWATCH_BLOBS", url)
    return url


def test_an_s3_store_keeps_each_blob_once_as_an_object(db_url: str, s3_env: str) -> None:
    with open_db(db_url).begin() as session:
        digest = put_blob(session, BODY)
        assert put_blob(session, BODY) == digest
    store = ObjectStore(s3_env)
    assert store.fs.ls(f"{store.root}/{digest[:2]}") == [f"{store.root}/{digest[:2]}/{digest}.zst"]
    with open_db(db_url)() as session:
        row = session.get(Blob, digest)
        assert row is not None and row.data is None
        assert get_blob(session, digest) == BODY
    with pytest.raises(KeyError):
        store.get("0" * 64)


def test_a_crawl_stores_its_bodies_and_texts_in_s3(
    db_url: str, s3_env: str, tmp_path: Path, site: FakeMeta
) -> None:
    """The crawl's own subprocess writes the fetched body to the bucket; deriving reads it."""
    site.page("/p", "<html><body><div id='root'>" + "We process data. " * 40 + "</div></body>")
    sources = write_sources(tmp_path / "sources.toml", [{"id": "p", "url": site.url("/p")}])
    counts = run_steps(RunConfig(db_url, str(sources), out_dir=str(tmp_path / "out")))
    assert counts["new"] == 1
    with open_db(db_url)() as session:
        assert session.scalar(select(func.count()).select_from(Version)) == 1
        hashes = set(session.scalars(select(Blob.hash)))
        assert session.scalar(select(func.count()).where(Blob.data.is_not(None))) == 0
    store = ObjectStore(s3_env)
    objects = {Path(p).name.removesuffix(".zst") for p in store.fs.find(store.root)}
    assert objects == hashes and len(hashes) >= 2  # the raw body and the text


def test_retention_keeps_first_and_last_of_each_unchanged_run() -> None:
    # (fetch id, version id, produced its version)
    fetches = [(1, 10, True), (2, 10, False), (3, 10, False), (4, 10, False), (5, 11, True)]
    fetches += [(6, 11, False), (7, 10, False), (8, 10, False), (9, 10, False)]
    assert bodies_to_drop(fetches) == [2, 3, 8]
    assert bodies_to_drop([(1, 10, True), (2, 10, False)]) == []
    # with region fingerprints: a last body that differs from the first only in tokens goes
    same_region = [(1, 10, True, "r1"), (2, 10, False, "r1"), (3, 10, False, "r1")]
    assert bodies_to_drop(same_region) == [2, 3]
    assert bodies_to_drop([*same_region[:2], (3, 10, False, "r2")]) == [2]
    assert bodies_to_drop([(1, 10, True, "r1"), (2, 11, True, "r1")]) == []


def test_bodies_of_an_unchanged_page_with_rotating_tokens_are_pruned(
    db_url: str, tmp_path: Path, site: FakeMeta, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POLICYWATCH_BLOBS", raising=False)
    text = "We process data. " * 40
    sources = write_sources(tmp_path / "sources.toml", [{"id": "p", "url": site.url("/p")}])
    cfg = RunConfig(db_url, str(sources), out_dir=str(tmp_path / "out"))
    dropped = []
    for i, body in enumerate([text] * 4 + [text + " And AI."] * 2):
        site.page("/p", f"<html><body><i>token {i}</i><div id='root'>{body}</div></body>")
        run_steps(cfg)
        with open_db(db_url)() as session:
            run_id = session.scalar(select(func.max(Fetch.run_id)))
        dropped.append(drop_unchanged_bodies(cfg, run_id))
    # the token is outside the selected region: only the first body of each text is kept
    assert dropped == [0, 1, 1, 1, 0, 1]
    with open_db(db_url)() as session:
        fetches = session.scalars(select(Fetch).order_by(Fetch.id)).all()
        assert [f.body_pruned for f in fetches] == [False, True, True, True, False, True]
        kept = [f.blob_hash for f in fetches if f.blob_hash]
        assert len(kept) == 2 and all(get_blob(session, h).startswith(b"<html>") for h in kept)
        bodies = session.scalar(select(func.count()).select_from(Blob)) or 0
        texts = session.scalar(select(func.count()).select_from(Version)) or 0
        assert bodies == 2 + texts + 1  # kept bodies, texts and the one diff
    store = store_url(db_url)
    if store != "db":
        assert len([p for p in Path(store).rglob("*.zst")]) == bodies


def test_publishing_to_object_storage_mirrors_the_site(
    db_url: str, s3_env: str, tmp_path: Path, site: FakeMeta, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--out s3://...: the site is built in a staging folder and mirrored to the bucket;
    objects the mirror did not write are left alone."""
    monkeypatch.setenv("POLICYWATCH_STAGING", str(tmp_path / "staging"))
    bucket = s3_env.removeprefix("s3://").split("/")[0]
    out = f"s3://{bucket}/site"
    site.page("/p", "<html><body><div id='root'>" + "We process data. " * 40 + "</div></body>")
    sources = write_sources(tmp_path / "sources.toml", [{"id": "p", "url": site.url("/p")}])
    cfg = RunConfig(db_url, str(sources), out_dir=out, base_url="https://pw.example/")
    run_steps(cfg)
    fs = ObjectStore(out).fs
    root = f"{bucket}/site"
    assert fs.cat_file(f"{root}/index.html").lower().startswith(b"<!doctype html>")
    assert b"<feed" in fs.cat_file(f"{root}/feed.atom")
    stray = f"{root}/stale.html"
    fs.pipe_file(stray, b"not built")  # not in the manifest: someone else's, left alone
    site.page("/p", "<html><body><div id='root'>" + "We process data for AI. " * 40 + "</div>")
    run_steps(cfg)
    names = {p.removeprefix(f"{root}/") for p in fs.find(root)}
    assert {"index.html", "feed.atom", remote.MANIFEST, "stale.html"} <= names
    assert any(n.startswith("changes/") for n in names)
    staged = set(atomic.site_files(remote.staging_folder(out)))  # pages through their links
    assert staged == names - {remote.MANIFEST, "stale.html"}


def test_mirror_uploads_what_changed_and_deletes_what_is_gone(s3_env: str, tmp_path: Path) -> None:
    bucket = s3_env.removeprefix("s3://").split("/")[0]
    url = f"s3://{bucket}/mirror"
    local = tmp_path / "site"
    (local / "changes").mkdir(parents=True)
    (local / "index.html").write_text("one")
    (local / "changes" / "1.html").write_text("first change")
    assert remote.mirror(local, url) == {"uploaded": 2, "kept": 0, "deleted": 0}
    (local / "index.html").write_text("two")
    (local / "changes" / "1.html").unlink()
    (local / "changes" / "2.html").write_text("second change")
    assert remote.mirror(local, url) == {"uploaded": 2, "kept": 0, "deleted": 1}
    assert remote.mirror(local, url) == {"uploaded": 0, "kept": 2, "deleted": 0}
    fs = ObjectStore(url).fs
    names = {p.removeprefix(f"{bucket}/mirror/") for p in fs.find(f"{bucket}/mirror")}
    assert names == {"index.html", "changes/2.html", remote.MANIFEST}
    assert fs.cat_file(f"{bucket}/mirror/index.html") == b"two"
