"""Incremental publishing: unchanged files are reused (same inode), changed ones rewritten."""

from __future__ import annotations

import gc
import json
import os
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from changes.diff import Hunk
from feeds import atomic, feed, grouped, incremental, parallel, site
from feeds.index_records import assemble
from feeds.publish import PublishResult, publish
from feeds.views import ChangeView
from storage.models import Change
from tests import factories, site_helpers
from tests.factories import T1, T2, T3, add_change, add_document, add_version
from tests.site_helpers import BASE, HOSTILE, NEWER, add_third_change

session = factories.session  # the same fixtures: a real SQLite file, two changes
changes = site_helpers.changes


META = (
    incremental.MANIFEST,
    incremental.INDEX_ORDER,
    *incremental.ENTRIES,
    grouped.FOLDERS,
    atomic.MARKER,
    atomic.STAMP,
    atomic.PREVIOUS,
)


def inodes(out: Path) -> dict[str, int]:
    return {rel: p.stat().st_ino for rel, p in atomic.site_files(out).items() if p.name not in META}


def test_republish_without_news_rewrites_nothing(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    first = publish(session, out, BASE)
    before = inodes(out)
    again = publish(session, out, BASE)
    assert again.written == 0 and again.reused == first.written == len(before)
    assert inodes(out) == before  # the very same files, linked into the new folder
    assert again.pages == first.pages


def test_one_new_change_rewrites_only_what_shows_it(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    first, second = changes
    add_document(session, "ig", "Instagram Privacy Policy", "https://www.instagram.com/privacy")
    i1 = add_version(session, "ig", "Instagram one.", T1)
    i2 = add_version(session, "ig", "Instagram two.", T2)
    other = add_change(session, i1, i2, "Instagram one.", "Instagram two.", T2, "IG", ["text"])
    session.commit()
    out = tmp_path / "public"
    publish(session, out, BASE)
    before = inodes(out)

    v3 = second.to_version
    newest = NEWER + "\n\nWe now also rely on consent."
    v4 = add_version(session, "fb-privacy", newest, T3.replace(day=9))
    third = add_change(session, v3, v4, NEWER, newest, T3.replace(day=9), "FB again", ["dates"])
    session.commit()
    result = publish(session, out, BASE)
    after = inodes(out)
    rewritten = {rel for rel, ino in after.items() if before.get(rel) != ino}
    assert rewritten == {
        f"changes/{third.id}.html",  # new
        f"changes/{second.id}.html",  # its "next" link
        f"versions/{v4.id}.html",  # new archived text
        f"versions/{v4.id}.md",  # and its text for download
        "documents/fb-privacy.html",
        "index.html",
        "index.json",
        "categories/dates.html",
        "feed.atom",
        "feed.rss",
        "documents/fb-privacy.atom",
        "documents/fb-privacy.rss",
        "categories/dates.atom",
        "categories/dates.rss",
        "feed.json",  # the JSON Feeds follow their Atom twins (feeds/outputs/json_feed.py)
        "documents/fb-privacy.json",
        "categories/dates.json",
    }
    assert result.written == len(rewritten) and result.reused == len(after) - len(rewritten)
    for kept in (f"changes/{first.id}.html", f"changes/{other.id}.html", "documents/ig.html"):
        assert before[kept] == after[kept]
    page = (out / "changes" / f"{second.id}.html").read_text()
    assert f'rel="next" href="../changes/{third.id}.html"' in page


def test_new_code_or_a_damaged_file_means_rendering_again(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "public"
    publish(session, out, BASE)
    (out / "index.html").write_text("truncated")  # e.g. edited by hand: size differs
    result = publish(session, out, BASE)
    assert result.written == 1 and "Latest changes" in (out / "index.html").read_text()

    monkeypatch.setattr(incremental, "code_salt", lambda: "templates changed")
    result = publish(session, out, BASE)
    assert result.reused == 0 and result.written == len(inodes(out))


def test_a_missing_page_of_a_document_kept_wholesale_is_rendered_again(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    """A document's pages are reused as a group only if each is still there: one removed
    from its bucket folder (by hand, a disk error) is rendered again, the same bytes."""
    out = tmp_path / "public"
    publish(session, out, BASE)
    page = out / "changes" / f"{changes[0].id}.html"
    before = page.read_bytes()
    page.resolve().unlink()  # the file itself, in the bucket folder the site shares
    assert not page.exists()
    result = publish(session, out, BASE)
    assert result.outcome == "published" and result.written >= 1
    assert page.read_bytes() == before


def test_a_feed_rendered_again_renders_only_its_new_entry(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The content of the entries an earlier build made is kept (incremental.ENTRIES) and
    reused for the same change on the same base URL; another base URL renders them all."""
    out = tmp_path / "public"
    publish(session, out, BASE)
    noted = tmp_path / "made"  # a file: the feeds may be rendered in a forked process
    real = feed.entry_content

    def counted(change: ChangeView, folded: list[Hunk], base_url: str) -> str:
        with noted.open("a") as f:
            f.write(f"{change.id}\n")
        return real(change, folded, base_url)

    def made() -> list[int]:
        ids = [int(line) for line in noted.read_text().split()] if noted.exists() else []
        noted.unlink(missing_ok=True)
        return ids

    monkeypatch.setattr(feed, "entry_content", counted)
    third = add_third_change(session, changes[1])
    publish(session, out, BASE)
    assert made() == [third.id]
    atom = (out / "feed.atom").read_text()
    assert all(f"changes/{c.id}.html" in atom for c in (*changes, third))

    publish(session, out, "https://elsewhere.example/")
    assert sorted(made()) == sorted(c.id for c in (*changes, third))
    assert "https://elsewhere.example/changes/" in (out / "feed.atom").read_text()


def test_keys_cover_what_pages_show() -> None:
    salt = incremental.code_salt()
    assert len(salt) == 64 and incremental.code_salt() == salt
    assert incremental.digest({"a": 1}, [T1]) == incremental.digest({"a": 1}, [T1])
    assert incremental.digest({"a": 1}) != incremental.digest({"a": 2})
    quick = incremental.quick_digest
    assert quick({"a": [1, None]}, T1) == quick({"a": [1, None]}, T1)
    assert quick({"a": 1}) != quick({"a": 2}) and quick(T1) != quick(T1.replace(microsecond=1))
    assert quick(T1) != quick(T1.replace(tzinfo=None)) and quick("1") != quick(1)
    assert quick("\ud800") == quick("\ud800") != quick("\ud801")  # by repr: orjson refuses
    assert quick(2**70) != quick(2**70 + 1)


def tree(out: Path) -> dict[str, bytes]:
    """Every file of a generation by path, bytes and all (the stamp, the name of the
    generation replaced and the identities of its folders differ between builds by
    design)."""
    skip = (atomic.STAMP, atomic.PREVIOUS, grouped.FOLDERS)
    return {rel: p.read_bytes() for rel, p in atomic.site_files(out).items() if p.name not in skip}


def test_incremental_and_full_builds_of_the_same_data_are_identical(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    """A site built step by step (reusing files, linking while rendering) equals, file by
    file and byte by byte (manifest included), one built from scratch on the same rows."""
    second = changes[1]
    add_document(session, "ig", "Instagram Privacy Policy", "https://www.instagram.com/privacy")
    i1 = add_version(session, "ig", "Instagram one.", T1)
    i2 = add_version(session, "ig", "Instagram two.", T2)
    ig = add_change(session, i1, i2, "Instagram one.", "Instagram two.", T2, "IG", ["opt-out"])
    link = factories.add_link(session, "https://example.org/form", "form", "ok", T2)
    factories.add_sighting(session, link, "ig", "Object", "Object here")
    factories.add_check(session, link, T3, "ok", None)
    add_document(session, "wa", "WhatsApp Privacy Policy", "https://www.whatsapp.com/legal")
    w1 = add_version(session, "wa", "WhatsApp one.", T1)
    w2 = add_version(session, "wa", "WhatsApp two.", T2)
    wa = add_change(session, w1, w2, "WhatsApp one.", "WhatsApp two.", T2, "WA", ["text"])
    session.commit()
    stepwise = tmp_path / "stepwise"
    publish(session, stepwise, BASE)
    before = inodes(stepwise)

    third = add_third_change(session, second)  # a new change, its version, a new category
    second.title = "Facebook Privacy Policy: a date stated"  # an edited row (first shows it)
    second.to_version.last_seen = T3.replace(day=20)  # a version seen again
    factories.add_check(session, link, T3.replace(day=2), "gone", "404")  # Instagram shows it
    link.outcome, link.outcome_since = "gone", T3.replace(day=2)
    session.commit()
    step = publish(session, stepwise, BASE)
    assert step.outcome == "published" and step.reused > 0 and step.written > 0
    after = inodes(stepwise)
    assert after[f"changes/{ig.id}.html"] != before[f"changes/{ig.id}.html"]  # link's health
    assert after[f"changes/{wa.id}.html"] == before[f"changes/{wa.id}.html"]  # reused as it was

    scratch = publish(session, tmp_path / "scratch", BASE)
    assert scratch.reused == 0
    built_stepwise, built_from_scratch = tree(stepwise), tree(tmp_path / "scratch")
    assert built_stepwise.keys() == built_from_scratch.keys()
    differing = [rel for rel in built_stepwise if built_stepwise[rel] != built_from_scratch[rel]]
    assert differing == []
    assert f"changes/{third.id}.html" in built_stepwise


def test_rows_changed_in_place_are_republished_as_a_full_build_shows_them(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    """No new row, no higher id: columns of a change and of a version edited in place
    (categories, summary, word counts, an effective date; as a reclassification or a
    re-derivation does) reach every page and feed showing them, byte for byte what a build
    from scratch makes of the same rows."""
    first, second = changes
    out = tmp_path / "public"
    publish(session, out, BASE)
    before = inodes(out)
    first.categories = ["opt-out-links"]  # a category no other change has: a new page
    first.summary = {"links": {"added": [{"url": "https://example.org/o", "text": "Obj"}]}}
    first.words_added, first.words_removed = 99, 98
    second.to_version.effective_date = "July 4, 2024"  # shown by the second change's pages
    session.commit()
    step = publish(session, out, BASE)
    assert step.outcome == "published" and step.written > 0
    after = inodes(out)
    for rel in (f"changes/{first.id}.html", f"changes/{second.id}.html", "index.json"):
        assert after[rel] != before[rel], rel
    assert "categories/opt-out-links.html" in after
    assert "July 4, 2024" in (out / f"changes/{second.id}.html").read_text()
    scratch = publish(session, tmp_path / "scratch", BASE)
    assert scratch.reused == 0 and tree(out) == tree(tmp_path / "scratch")


def test_files_rendered_again_never_write_through_a_link_into_the_previous_site(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    """Files of the previous generation are linked into the new one while pages render; a
    page rendered again replaces its link, and the previous generation (which readers may
    still have open) keeps its bytes."""
    out = tmp_path / "public"
    publish(session, out, BASE)
    previous = Path(os.path.realpath(out))
    before = tree(previous)
    add_third_change(session, changes[1])
    result = publish(session, out, BASE)
    assert result.outcome == "published" and result.written > 0
    assert Path(os.path.realpath(out)) != previous
    assert tree(previous) == before  # the generation replaced is kept, untouched
    assert tree(out)["index.html"] != before["index.html"]
    leftovers = [p.name for p in Path(os.path.realpath(out)).rglob("*.tmp")]
    assert leftovers == []


def buckets(generation: Path) -> dict[str, str]:
    """The generation's bucket symlinks: bucket -> the STORE folder it shows."""
    return {p.name: os.readlink(p) for p in (generation / atomic.PAGES).iterdir()}


def test_generations_share_every_bucket_of_pages_in_which_nothing_changed(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A publish writes a bucket folder only where a page in it changed and shares the
    others with the previous generation; changes/<id>.html reaches the live page through
    its name; the sweep keeps exactly the bucket folders that generations still show."""
    monkeypatch.setattr(incremental, "BUCKET", 1)  # a bucket per page: each one tells
    first, second = changes
    out = tmp_path / "public"
    publish(session, out, BASE)
    previous = atomic.live(out)
    assert previous is not None
    before = buckets(previous)
    assert f"changes-{first.id}" in before and (out / "changes").is_symlink()

    third = add_third_change(session, second)
    assert publish(session, out, BASE).outcome == "published"
    current = atomic.live(out)
    assert current is not None and current != previous
    after = buckets(current)
    renewed = {b for b, target in after.items() if before.get(b) != target}
    new_version = third.to_version_id
    assert renewed == {
        f"changes-{third.id}",  # new
        f"changes-{second.id}",  # its "next" link
        f"versions-{new_version}",  # the new archived text and its Markdown
    }
    assert after[f"changes-{first.id}"] == before[f"changes-{first.id}"]  # the same folder
    for bucket in after.keys() & before.keys():  # a shared one's link is the previous one's
        inode = (current / atomic.PAGES / bucket).lstat().st_ino
        assert (inode == (previous / atomic.PAGES / bucket).lstat().st_ino) == (
            bucket not in renewed
        )
    for top in ("changes", "versions"):
        assert (current / top).lstat().st_ino == (previous / top).lstat().st_ino
        assert os.readlink(current / top) == os.path.join("..", atomic.NAMES, top)
    token = Path(after[f"changes-{third.id}"]).name.partition(".")[0]
    assert all(Path(after[b]).name.startswith(f"{token}.") for b in renewed)

    name = tmp_path / ".public.sites" / atomic.NAMES / "changes" / f"{third.id}.html"
    assert os.readlink(name).startswith("../../../public/")  # through the live generation
    page = (out / "changes" / f"{third.id}.html").read_text()
    assert page == (current / atomic.PAGES / f"changes-{third.id}" / f"{third.id}.html").read_text()
    assert (out / "changes" / f"{second.id}.html").read_text() != (
        previous / atomic.PAGES / f"changes-{second.id}" / f"{second.id}.html"
    ).read_text()  # the previous generation keeps its own page

    publish(session, out, "https://elsewhere.example/")  # a third generation
    atomic.wait_for_sweeps(60)
    generations = [tmp_path / ".public.sites" / n for n in atomic.describe(out)["generations"]]
    shown = {Path(t).name for g in generations for t in buckets(g).values()}
    stored = {p.name for p in (tmp_path / ".public.sites" / atomic.STORE).iterdir()}
    assert len(generations) == 2 and stored == shown  # the first one's own buckets went


def test_index_json_from_records_encoded_one_by_one_is_the_whole_encoded_at_once() -> None:
    """index.json is assembled from records encoded apart (and kept between builds): the
    bytes are those of encoding the whole, escapes of crawled text included."""
    records = [
        {"id": 1, "title": "</script><script>alert(1)</script>", "categories": ["a&b"]},
        {"id": 2, "title": 'quotes " and \\ and \u2028 and \u00e9', "summary": None},
        {"id": 3, "title": "", "nested": {"x": [1.5, True, None]}},
    ]
    title = "site <b>&</b>"
    whole = site.safe_json({"title": title, "changes": records})
    head, fps = site.index_head(title), [f"{i:064x}" for i in range(len(records))]
    data, lengths = assemble(head, fps, None, lambda k: site.safe_json(records[k]).encode())
    assert data == whole.encode() and lengths == [len(site.safe_json(r).encode()) for r in records]
    assert "<" not in whole and ">" not in whole and "&" not in whole
    empty = site.safe_json({"title": title, "changes": []}).encode()
    assert assemble(head, [], None, lambda k: b"") == (empty, [])
    # orjson writes what the standard library's compact encoder wrote, escapes and all
    for value in ({"title": title, "changes": records}, [HOSTILE, "\x7f\x1f\ufeff", -3]):
        stdlib = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        assert site.safe_json(value) == stdlib.replace("<", "\\u003c").replace(
            ">", "\\u003e"
        ).replace("&", "\\u0026")


def test_pages_rendered_by_forked_workers_equal_those_rendered_in_one_process(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A full build renders its pages of changes and versions in worker processes
    (feeds/parallel.py) when there are many, without the cyclic garbage collector: the
    site is the one a single process builds, byte for byte, and the publish still counts
    and records every file."""
    add_third_change(session, changes[1])
    serial = publish(session, tmp_path / "serial", BASE)

    started = tmp_path / "workers"
    started.mkdir()
    forked = site._Pages._forked

    def note_worker(self: site._Pages) -> None:
        (started / str(os.getpid())).write_text(f"collector on: {gc.isenabled()}")
        forked(self)

    monkeypatch.setattr(site._Pages, "_forked", note_worker)
    monkeypatch.setattr(parallel, "MIN_PAGES", 1)
    monkeypatch.setattr(parallel, "CHUNK", 1)  # a task per page
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    forked_build = publish(session, tmp_path / "forked", BASE)

    workers = {int(p.name) for p in started.iterdir()}
    assert len(workers) == 2 and os.getpid() not in workers
    assert {p.read_text() for p in started.iterdir()} == {"collector on: False"}
    assert gc.isenabled()  # here, as it was
    assert (forked_build.written, forked_build.pages) == (serial.written, serial.pages)
    assert tree(tmp_path / "forked") == tree(tmp_path / "serial")
    paged = [rel for rel in tree(tmp_path / "forked") if rel.startswith(("changes/", "versions/"))]
    assert paged and all((tmp_path / "forked" / rel).is_file() for rel in paged)  # named
    again = publish(session, tmp_path / "forked", BASE)  # its manifest holds every file
    assert again.outcome == "unchanged" and again.written == 0


def test_a_worker_that_dies_fails_the_publish_and_the_site_in_place_stays(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rendering worker killed mid-build (here: at its start) makes the publish fail,
    promptly, and the live site is the previous one, whole."""
    out = tmp_path / "public"
    publish(session, out, BASE)
    live, before = atomic.live(out), tree(out)

    def killed(self: site._Pages) -> None:
        os._exit(9)

    monkeypatch.setattr(site._Pages, "_forked", killed)
    monkeypatch.setattr(parallel, "MIN_PAGES", 1)
    monkeypatch.setattr(parallel, "CHUNK", 1)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    monkeypatch.setattr(incremental, "code_salt", lambda: "new code: every page again")
    add_third_change(session, changes[1])
    with pytest.raises(BrokenProcessPool):
        publish(session, out, BASE)
    assert atomic.live(out) == live and tree(out) == before


def test_feeds_and_index_rendered_in_a_forked_process_equal_those_rendered_here(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A publish of a new change renders the feeds and the index in a forked process while
    it writes the other pages (two cores), not on one core: the same files (the records and
    entries the next build reuses included), counted and recorded alike."""
    here, aside = tmp_path / "here", tmp_path / "aside"
    publish(session, here, BASE)
    publish(session, aside, BASE)
    add_third_change(session, changes[1])

    def publish_on(out: Path, cores: int) -> tuple[PublishResult, set[str]]:
        writers = tmp_path / f"writers-{cores}"
        writers.mkdir()

        def noted(module: Any, name: str) -> None:
            real = getattr(module, name)

            def note(*args: Any, **kwargs: Any) -> Any:
                (writers / f"{name} {os.getpid()}").touch()
                return real(*args, **kwargs)

            patched.setattr(module, name, note)

        with monkeypatch.context() as patched:
            noted(feed, "write_feeds")
            noted(site._Pages, "index")
            patched.setattr(parallel, "workers", lambda: cores)
            result = publish(session, out, BASE)
        return result, {p.name for p in writers.iterdir()}

    one, one_writers = publish_on(here, 1)
    two, two_writers = publish_on(aside, 2)
    me = os.getpid()
    assert one_writers == {f"write_feeds {me}", f"index {me}"}
    (child,) = {name.split()[1] for name in two_writers}
    assert two_writers == {f"write_feeds {child}", f"index {child}"} and child != str(me)
    assert (two.written, two.reused, two.pages) == (one.written, one.reused, one.pages)
    assert two.written > 0 and [p.name for p in two.feeds] == [p.name for p in one.feeds]
    assert two.outputs.keys() == one.outputs.keys() and two.outputs
    assert tree(aside) == tree(here)
    again = publish(session, aside, BASE)  # its manifest holds every file
    assert again.outcome == "unchanged" and again.written == 0


def test_feeds_process_that_dies_fails_the_publish_and_the_site_in_place_stays(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "public"
    publish(session, out, BASE)
    live, before = atomic.live(out), tree(out)

    def killed(*args: Any, **kwargs: Any) -> list[str]:
        os._exit(9)

    monkeypatch.setattr(feed, "write_feeds", killed)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    add_third_change(session, changes[1])
    with pytest.raises(BrokenProcessPool):
        publish(session, out, BASE)
    assert atomic.live(out) == live and tree(out) == before


def test_files_grouped_by_bucket_as_bucket_of_places_each() -> None:
    """feeds/incremental.py: ``by_bucket`` (inlined for 30,000 files) groups as
    ``bucket_of`` does, in order; files of no bucket apart."""
    rels = [
        "changes/12.html",
        "versions/3.md",
        "versions/3.html",
        "changes/300.html",
        "changes/12.txt",
        "changes/\uff11\uff12.html",  # digits, but not ASCII ones
        "changes/" + ".html",  # (split: not a reference to a file for test_references)
        "index.html",
        "documents/fb.html",
        "categories/ai.atom",
        "changes/" + "1.2.html",
        "versions/0.html",
    ]
    buckets, others = incremental.by_bucket(rels)
    expected: dict[str, list[str]] = {}
    for rel in rels:
        bucket = incremental.bucket_of(rel)
        if bucket is not None:
            expected.setdefault(bucket, []).append(rel)
    assert buckets == expected and list(buckets) == list(expected)
    assert others == [rel for rel in rels if incremental.bucket_of(rel) is None]
    assert buckets["changes-0"] == ["changes/12.html"] and "changes-1" in buckets


def test_files_replayed_after_the_pages_were_linked_are_linked_by_the_next_call(
    tmp_path: Path,
) -> None:
    """feeds/publish.py links the kept files while the forked process renders the feeds:
    a file that process kept is linked by the second ``link_kept``; a page of a bucket
    recorded that late could no longer be placed, so it is refused."""
    sites = tmp_path / ".out.sites"
    first = incremental.Output(sites / "gen-1", None, salt="s")
    first.root.mkdir(parents=True)
    first.write("feed.atom", "<feed/>", "k-feed")
    first.write("changes/1.html", "<p>1</p>", "k-1")
    first.link_kept()
    first.close()

    second = incremental.Output(sites / "gen-2", first.root, salt="s")
    second.root.mkdir()
    assert second.keep("changes/1.html", "k-1")
    second.link_kept()  # the pages, before the feeds are known
    second.replay([("feed.atom", "k-feed", len("<feed/>"), False)])
    assert not (second.root / "feed.atom").exists()
    second.link_kept()
    linked = second.root / "feed.atom"
    assert linked.read_text() == "<feed/>"
    assert linked.stat().st_ino == (first.root / "feed.atom").stat().st_ino
    with pytest.raises(RuntimeError, match="changes/2.html"):
        second.replay([("changes/2.html", "k-2", 3, True)])


def test_a_file_system_without_hard_links_gets_copies_and_new_symlinks(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where hard links are refused, the kept files are copied and the links a generation
    shares with the previous one (its buckets, ``changes``, ``versions``) are made anew:
    the same site as a build from scratch."""
    out = tmp_path / "public"
    publish(session, out, BASE)
    previous = atomic.live(out)
    assert previous is not None

    def refused(*args: Any, **kwargs: Any) -> None:
        raise OSError(1, "hard links refused here")

    add_third_change(session, changes[1])
    with monkeypatch.context() as patched:
        patched.setattr(os, "link", refused)
        assert publish(session, out, BASE).outcome == "published"
    current = atomic.live(out)
    assert current is not None and current != previous
    for top in ("changes", "versions"):
        assert (current / top).lstat().st_ino != (previous / top).lstat().st_ino
        assert os.readlink(current / top) == os.readlink(previous / top)
    assert tree(out) == tree(publish(session, tmp_path / "scratch", BASE).out_dir)


def test_a_page_checked_again_rewrites_its_document_page_not_its_archived_text(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    """Every check of an unchanged page moves its current version's last sighting: the
    document's page shows it and is rendered again; the current version's page and its
    Markdown (the archived text) do not show it and are kept. Once a newer version is
    current, the older one's page shows when it was last seen."""
    from storage.models import Document

    second = changes[1]
    v3 = second.to_version
    doc = session.get(Document, "fb-privacy")
    assert doc is not None
    doc.current_version_id = v3.id
    session.commit()
    out = tmp_path / "public"
    publish(session, out, BASE)
    before = inodes(out)
    version_page = out / "versions" / f"{v3.id}.html"
    assert "at every check: the current version" in version_page.read_text()

    seen = T3.replace(day=20)
    v3.last_seen = seen  # checked again, the same text
    session.commit()
    result = publish(session, out, BASE)
    after = inodes(out)
    assert {rel for rel, ino in after.items() if before.get(rel) != ino} == {
        "documents/fb-privacy.html"
    }
    assert result.written == 1
    assert seen.isoformat() in (out / "documents" / "fb-privacy.html").read_text()
    assert publish(session, out, BASE).outcome == "unchanged"

    third = add_third_change(session, second)
    doc.current_version_id = third.to_version_id
    session.commit()
    publish(session, out, BASE)
    older = version_page.read_text()
    assert "the current version" not in older and f'datetime="{seen.isoformat()}"' in older
    newer = (out / "versions" / f"{third.to_version_id}.html").read_text()
    assert "at every check: the current version" in newer
    assert inodes(out)[f"versions/{v3.id}.md"] == before[f"versions/{v3.id}.md"]


def test_index_json_takes_unchanged_records_from_the_previous_bytes(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A new change encodes one record of index.json; the others are the previous
    index.json's bytes (where INDEX_ORDER says they are). An index.json edited by hand is
    not trusted: every record is encoded again. Both equal a build from scratch."""
    first, second = changes
    out = tmp_path / "public"
    publish(session, out, BASE)
    encoded: list[int] = []
    real = site.index_record
    monkeypatch.setattr(site, "index_record", lambda c: encoded.append(c.id) or real(c))
    monkeypatch.setattr(parallel, "workers", lambda: 1)  # the index rendered here, not forked
    third = add_third_change(session, second)
    publish(session, out, BASE)
    assert encoded == [third.id]
    assert (
        tree(out)["index.json"]
        == tree(publish(session, tmp_path / "a", BASE).out_dir)["index.json"]
    )
    # a hand edit of the same length: a record's bytes no longer where they were noted
    live = out.resolve() / "index.json"
    raw = live.read_bytes()
    live.write_bytes(raw.replace(b'"changes":[{', b'"changes": {', 1))
    second.title = "Retitled"  # its record and the index are encoded again
    session.commit()
    encoded.clear()
    publish(session, out, BASE)
    assert sorted(encoded) == sorted([first.id, second.id, third.id])
    assert tree(out) == tree(publish(session, tmp_path / "b", BASE).out_dir)


def two_documents(session: Session, second: Change) -> Change:
    """An Instagram document with one change beside the ``changes`` fixture's Facebook."""
    add_document(session, "ig", "Instagram Privacy Policy", "https://www.instagram.com/privacy")
    i1 = add_version(session, "ig", "Instagram one.", T1)
    i2 = add_version(session, "ig", "Instagram two.", T2)
    other = add_change(session, i1, i2, "Instagram one.", "Instagram two.", T2, "IG", ["text"])
    session.commit()
    return other


def test_a_group_is_reused_unread_while_its_folders_are_as_noted_and_checked_otherwise(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Instagram's pages are reused as a group when Facebook has news: unread while their
    bucket folders are as the previous build noted; checked page by page when a folder
    changed (a file added by hand) or the notes are gone; rendered again when a page is
    missing. Each time the site equals a build from scratch."""
    other = two_documents(session, changes[1])
    out = tmp_path / "public"
    publish(session, out, BASE)
    page = f"changes/{other.id}.html"
    manifest = json.loads((out / incremental.MANIFEST).read_bytes())
    assert "document ig" in manifest["grouped"] and page not in manifest["files"]

    checked: list[int] = []
    real = incremental.Output._pages_present
    monkeypatch.setattr(
        incremental.Output, "_pages_present", lambda o, g: checked.append(1) or real(o, g)
    )
    monkeypatch.setattr(parallel, "workers", lambda: 1)  # all in this process
    second = changes[1]
    for step, damage in enumerate(("none", "stray file", "notes gone", "page gone")):
        checked.clear()
        before = inodes(out)
        folder = (out / page).resolve().parent
        if damage == "stray file":
            (folder / "notes.txt").write_text("by hand")
        elif damage == "notes gone":
            (out.resolve() / grouped.FOLDERS).unlink()
        elif damage == "page gone":
            (out / page).resolve().unlink()
        second = add_third_change(session, second) if step == 0 else second
        second.title = f"Facebook, step {step}"  # Facebook's group is rendered again
        session.commit()
        result = publish(session, out, BASE)
        assert result.outcome == "published"
        assert bool(checked) == (damage != "none"), damage  # listed only if not as noted
        after = inodes(out)
        if damage == "page gone":
            assert after[page] != before[page]  # rendered again
        else:
            assert after[page] == before[page], damage  # Instagram's page reused
        scratch = tree(publish(session, tmp_path / f"scratch-{step}", BASE).out_dir)
        built = tree(out)
        built.pop(page.replace(f"{other.id}.html", "notes.txt"), None)
        assert built == scratch, damage


def test_pages_of_a_change_no_longer_published_are_gone_from_its_bucket(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    """A change that stops being published (re-derived as technical) leaves the site:
    its page is gone from the new generation's bucket, the other document's group is
    reused, and the site equals a build from scratch."""
    other = two_documents(session, changes[1])
    out = tmp_path / "public"
    publish(session, out, BASE)
    before = inodes(out)
    first = changes[0]
    first.technical = True
    session.commit()
    publish(session, out, BASE)
    assert not (out / f"changes/{first.id}.html").exists()
    assert inodes(out)[f"changes/{other.id}.html"] == before[f"changes/{other.id}.html"]
    assert tree(out) == tree(publish(session, tmp_path / "scratch", BASE).out_dir)


def test_a_group_whose_entries_cannot_be_read_is_rendered_again(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    other = two_documents(session, changes[1])
    out = tmp_path / "public"
    publish(session, out, BASE)
    path = out.resolve() / incremental.MANIFEST
    manifest = json.loads(path.read_bytes())
    group = manifest["grouped"]["document ig"]
    group["in"] = {bucket: "{not json" for bucket in group["in"]}
    manifest["groups"]["document ig"] = "another key"  # not reused as a group either
    path.write_text(json.dumps(manifest))
    add_third_change(session, changes[1])
    result = publish(session, out, BASE)
    assert result.outcome == "published"
    assert (out / f"changes/{other.id}.html").is_file()
    assert tree(out) == tree(publish(session, tmp_path / "scratch", BASE).out_dir)
