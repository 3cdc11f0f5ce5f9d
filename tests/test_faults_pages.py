"""Hostile pages fail alone and typed: binary bodies, wrong charsets, deep nesting."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import pytest
from sqlalchemy import select

from changes.decode import PageRejected, decode_page
from changes.extract import MAX_DEPTH, UnparsablePage, extract
from cli.report import status_rows
from config.run import RunConfig
from config.sources import load_sources
from demo.server import FakeMeta, Reply
from pipeline import derive, runs, spider_process
from storage.blobs import get_text
from storage.db import open_db
from storage.models import Fetch, Version
from tests.conftest import write_sources

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


# --- through the real spider and derivation, against the local server ------------------------


def _crawl(tmp: Path, site: FakeMeta, paths: dict[str, str], **crawl: object) -> dict[str, Fetch]:
    """One crawl of documents ``id -> path`` (spider subprocess, then derivation); the last
    fetch of each document."""
    docs = [{"id": doc, "url": site.url(path)} for doc, path in paths.items()]
    sources = write_sources(tmp / "sources.toml", docs, timeout=10.0)
    if crawl:
        text = sources.read_text().replace(
            "[crawl]\n", "[crawl]\n" + "".join(f"{k} = {v}\n" for k, v in crawl.items())
        )
        sources.write_text(text)
    cfg = RunConfig(db_url=f"sqlite:///{tmp / 'pw.db'}", sources_path=str(sources))
    with runs.run(cfg.db_url, "manual", load_sources(sources).documents) as current:
        spider_process.crawl(cfg, current.id)
        derive.derive_versions(cfg, current.id)
    with open_db(cfg.db_url)() as s:
        return {doc: s.scalars(select(Fetch).where(Fetch.document_id == doc)
                               .order_by(Fetch.id.desc())).first() for doc in paths}  # fmt: skip


GOOD = (
    "<html><body><div id='root'><h1>Privacy Policy</h1><p>"
    + " ".join(f"word{i}" for i in range(200))
    + "</p></div></body></html>"
)


def test_hostile_pages_fail_alone_and_typed(tmp_path: Path, site: FakeMeta) -> None:
    site.page("/good", GOOD)
    site.page("/deep", _nested(100_000))
    binary = bytes(range(256)) * 64
    site.set("/png", Reply(200, b"\x89PNG\r\n\x1a\n" + binary, {"Content-Type": "image/png"}))
    site.set("/octet", Reply(200, binary, {"Content-Type": "application/octet-stream"}))
    rng = random.Random(7)
    noise = bytes(rng.randrange(0x80, 0x100) for _ in range(5000))
    site.set("/noise", Reply(200, b"<html><body><div id='root'>" + noise + b"</div></body></html>",
                             {"Content-Type": "text/html; charset=utf-8"}))  # fmt: skip
    utf8 = {"Content-Type": "text/html; charset=utf-8"}
    site.set("/cp1252", Reply(200, FRENCH.encode("cp1252"), utf8))
    bomb = gzip.compress(b"<html><body>" + b" " * 50_000_000, compresslevel=9)
    site.set("/bomb", Reply(200, bomb, {"Content-Type": "text/html", "Content-Encoding": "gzip"}))
    paths = {"good": "/good", "deep": "/deep", "png": "/png", "octet": "/octet",
             "noise": "/noise", "cp1252": "/cp1252", "bomb": "/bomb"}  # fmt: skip
    fetches = _crawl(tmp_path, site, paths, max_bytes=5_000_000)
    errors = {doc: fetch.error for doc, fetch in fetches.items()}
    assert errors == {
        "good": None,
        "deep": "unparsable",
        "png": "not-html",
        "octet": "not-html",
        "noise": "bad-encoding",
        "cp1252": None,
        "bomb": "too-large",
    }
    assert all(f.processed for f in fetches.values())
    with open_db(f"sqlite:///{tmp_path / 'pw.db'}")() as s:
        version = s.get(Version, fetches["cp1252"].version_id)
        text = get_text(s, version.text_blob)  # type: ignore[union-attr]
    assert "“intérêts légitimes” – été" in text and "\ufffd" not in text
    rows = {r["document"]: r for r in status_rows(f"sqlite:///{tmp_path / 'pw.db'}")}
    assert rows["deep"]["outcome"] == "unparsable" and rows["bomb"]["outcome"] == "too-large"


def test_retry_after_is_honoured_up_to_a_cap(tmp_path: Path, site: FakeMeta) -> None:
    busy = Reply(429, b"slow down", {"Content-Type": "text/plain", "Retry-After": "1"})
    site.sequence("/busy", [busy, Reply(200, GOOD.encode())])
    site.set("/away", Reply(503, b"", {"Retry-After": "3600"}))
    fetches = _crawl(tmp_path, site, {"busy": "/busy", "away": "/away"})
    assert site.hits["/busy"] == 2 and fetches["busy"].error is None
    assert fetches["busy"].version_id is not None
    assert site.hits["/away"] == 1 and fetches["away"].error == "http-5xx"
    assert "Retry-After 3600" in (fetches["away"].error_detail or "")


def test_max_bytes_caps_a_body(tmp_path: Path, site: FakeMeta) -> None:
    site.page("/big", GOOD + "<!--" + "x" * 200_000 + "-->")
    fetches = _crawl(tmp_path, site, {"big": "/big"}, max_bytes=100_000)
    assert fetches["big"].error == "too-large" and fetches["big"].blob_hash is None
