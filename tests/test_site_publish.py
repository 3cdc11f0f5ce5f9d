"""The atomic publish: a whole new folder or the old one, never half of each."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from feeds import atomic, site
from feeds import publish as publish_module
from feeds.publish import publish
from storage.models import Change
from tests import factories, site_helpers
from tests.site_helpers import BASE

session = factories.session  # a real SQLite file
changes = site_helpers.changes
SHARED = {"sites/store", "sites/names"}  # the pages' buckets and names, shared by generations


def siblings(tmp_path: Path) -> set[str]:
    """What a publish left next to ``public``: the link, the generations folder and the
    generations in it (``new-*`` build folders must not survive a publish)."""
    names = {p.name for p in tmp_path.iterdir() if not p.name.startswith("pw.db")}
    sites = tmp_path / ".public.sites"
    if sites.is_dir():
        names |= {f"sites/{p.name.split('-')[0]}" for p in sites.iterdir() if p.name != ".lock"}
    return names


def test_publish_swaps_atomically_and_leaves_no_temp(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    publish(session, out, BASE)
    first = atomic.live(out)
    (out / "stale.html").write_text("left from an older build")
    assert publish(session, out, BASE).outcome == "unchanged"  # nothing new: no new tree
    assert atomic.live(out) == first
    result = publish(session, out, "https://elsewhere.example/")  # every feed changes
    assert result.out_dir == out and result.outcome == "published"
    assert out.is_symlink() and atomic.live(out) != first
    assert siblings(tmp_path) == {"public", ".public.sites", "sites/gen", *SHARED}  # + the old one
    assert not (out / "stale.html").exists()  # the whole folder was replaced
    assert (out / atomic.MARKER).is_file()
    assert oct(out.stat().st_mode & 0o777) == oct(0o755)
    publish(session, out, BASE)
    atomic.wait_for_sweeps(60)
    assert len(atomic.describe(out)["generations"]) == 2  # the one replaced last time is gone


def test_failed_build_keeps_previous_site(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "public"
    publish(session, out, BASE)
    before = {rel: p.read_bytes() for rel, p in atomic.site_files(out).items()}

    def boom(*args: object, **kwargs: object) -> int:
        raise RuntimeError("render failed")

    monkeypatch.setattr(site, "write_site", boom)
    with pytest.raises(RuntimeError, match="render failed"):
        publish(session, out, "https://elsewhere.example/")
    after = {rel: p.read_bytes() for rel, p in atomic.site_files(out).items()}
    assert after == before and any(rel.startswith("changes/") for rel in after)
    assert siblings(tmp_path) == {"public", ".public.sites", "sites/gen", *SHARED}


def test_failed_first_build_leaves_nothing(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def boom(*args: object, **kwargs: object) -> list[Path]:
        raise OSError("disk full")

    monkeypatch.setattr(publish_module.feed, "write_feeds", boom)
    with pytest.raises(OSError, match="disk full"):
        publish(session, tmp_path / "public", BASE)
    assert siblings(tmp_path) <= {".public.sites", "sites/store"}  # no link, no generation
    assert not list((tmp_path / ".public.sites" / "store").glob("*"))  # nor pages written


def test_refuses_to_replace_a_foreign_folder(session: Session, tmp_path: Path) -> None:
    out = tmp_path / "home"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    with pytest.raises(FileExistsError):
        publish(session, out, BASE)
    assert (out / "thesis.tex").read_text() == "years of work"
    assert siblings(tmp_path) == {"home"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "link").symlink_to(elsewhere)  # a symlink policywatch did not make
    with pytest.raises(FileExistsError):
        publish(session, tmp_path / "link", BASE)


def test_empty_folder_and_bad_base_url(session: Session, tmp_path: Path) -> None:
    out = tmp_path / "public"
    out.mkdir()
    result = publish(session, out, "https://example.org/pw")  # no trailing slash: added
    assert result.pages == 2 and result.changes == 0  # index and links
    assert "No changes recorded yet." in (out / "index.html").read_text()
    assert 'href="https://example.org/pw/feed.atom"' in (out / "feed.atom").read_text()
    for bad in ("ftp://example.org/", "/relative/", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            publish(session, out, bad)


def test_what_a_publish_read_is_released_after_it_returns(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The views a publish read are released in a thread after it returns, a piece at a
    time: each list and dict they hold is emptied, then nothing holds them."""
    kept: list[list[object]] = []
    real = publish_module.release
    monkeypatch.setattr(
        publish_module, "release", lambda read: (kept.append(list(read)), real(read))
    )
    publish(session, tmp_path / "public", BASE)
    atomic.wait_for_sweeps(60)
    (read,) = kept
    views = next(o for o in read if isinstance(o, site.Site))
    assert len(views.changes) == 0 and len(views.archived) == 0 and views.documents == []

    class Held:
        def __init__(self) -> None:
            self.rows = list(range(2500))
            self.by_id = {i: [i] * 3 for i in range(2500)}
            self.nested = {"a": list(range(2100))}
            self.name = "kept as is"

    held = Held()
    nested = held.nested["a"]
    gone: list[object] = [held]
    real(gone, piece=1000)
    assert gone == [] and held.rows == [] and held.by_id == {} and held.nested == {}
    assert nested == [] and held.name == "kept as is"
    plain: list[object] = [[1, 2], {"a": 1}]
    lists = list(plain)
    real(plain)
    assert plain == [] and lists == [[], {}]
