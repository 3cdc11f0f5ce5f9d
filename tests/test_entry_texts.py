"""Feed entries kept between builds as bytes with a layout (feeds/entry_texts.py): read
back as written, decoded only when asked for, and not trusted when the files disagree."""

from __future__ import annotations

from pathlib import Path

from feeds import entry_texts

BASE = "https://example.org/pw/"


def fp(n: int) -> str:
    return f"{n:064x}"


def test_entries_are_read_back_as_kept_and_copied_as_bytes(tmp_path: Path) -> None:
    contents = {fp(1): "<p>caf\u00e9 &amp; \u2028</p>", fp(2): "", fp(3): "<p>\U0001f600</p>"}
    entry_texts.write(tmp_path, BASE, [(k, v.encode()) for k, v in sorted(contents.items())])
    texts = entry_texts.read(tmp_path, BASE)
    assert len(texts) == 3 and fp(2) in texts and fp(4) not in texts
    assert {k: texts.get(k) for k in contents} == contents
    assert texts.raw(fp(3)) == contents[fp(3)].encode() and texts.get(fp(4)) is None
    # kept again by the next build: the same bytes, whatever was decoded
    again = tmp_path / "again"
    again.mkdir()
    entry_texts.write(again, BASE, [(k, texts.raw(k) or b"") for k in sorted(contents)])
    for name in (entry_texts.LAYOUT, entry_texts.TEXTS):
        assert (again / name).read_bytes() == (tmp_path / name).read_bytes()


def test_entries_not_trusted_when_the_files_disagree(tmp_path: Path) -> None:
    entry_texts.write(tmp_path, BASE, [(fp(1), b"<p>one</p>"), (fp(2), b"<p>two</p>")])
    assert len(entry_texts.read(tmp_path, BASE)) == 2
    assert len(entry_texts.read(tmp_path, "https://elsewhere.example/")) == 0
    texts = tmp_path / entry_texts.TEXTS
    texts.write_bytes(texts.read_bytes() + b"edited")
    assert len(entry_texts.read(tmp_path, BASE)) == 0
    texts.unlink()
    assert len(entry_texts.read(tmp_path, BASE)) == 0
    assert len(entry_texts.read(None, BASE)) == 0
    entry_texts.write(tmp_path, BASE, [("short", b"x")])  # not a fingerprint: nothing kept
    assert len(entry_texts.read(tmp_path, BASE)) == 0
