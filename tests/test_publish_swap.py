"""Publishing swaps generations behind a symlink: never missing, never older over newer,
no stale folders. Real processes race on a real SQLite file."""

from __future__ import annotations

import fcntl
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from feeds import atomic
from feeds.publish import publish
from storage.db import open_db
from storage.models import Change
from tests import factories, site_helpers
from tests.site_helpers import BASE, add_third_change

session = factories.session  # a real database (the db_url fixture) with two changes
changes = site_helpers.changes

POLLER = """
import json, os, sys, time
out, ready, stop = sys.argv[1:4]
polls = missing = partial = 0
open(ready, "w").close()
while not os.path.exists(stop):
    polls += 1
    try:
        with open(os.path.join(out, "index.html"), "rb") as f:
            if not f.read().rstrip().endswith(b"</html>"):
                partial += 1
    except FileNotFoundError:
        missing += 1
print(json.dumps({"polls": polls, "missing": missing, "partial": partial}))
"""


def _gated_publish(db_url: str, out: str, have_read: Any, go: Any, outcome: Any) -> None:
    """Publish, but wait for ``go`` once the data is read (a spawned process)."""
    from feeds import publish as pub
    from feeds import site

    original = site.write_site

    def gated(*args: Any, **kwargs: Any) -> int:
        have_read.set()
        if not go.wait(120):
            raise TimeoutError("never released")
        return original(*args, **kwargs)

    site.write_site = gated  # type: ignore[assignment]
    with open_db(db_url)() as s:
        outcome.put(pub.publish(s, Path(out), BASE).outcome)


def test_an_older_publish_finishing_last_does_not_replace_a_newer_site(
    changes: tuple[Change, Change], session: Session, tmp_path: Path, db_url: str
) -> None:
    out = tmp_path / "public"
    publish(session, out, BASE)
    ctx = multiprocessing.get_context("spawn")
    have_read, go, outcome = ctx.Event(), ctx.Event(), ctx.Queue()
    slow = ctx.Process(target=_gated_publish, args=(db_url, str(out), have_read, go, outcome))
    slow.start()
    try:
        assert have_read.wait(120), "the slow publish never read the database"
        third = add_third_change(session, changes[1])  # news after the slow one read
        assert publish(session, out, BASE).outcome == "published"
        newer = atomic.live(out)
        assert (out / "changes" / f"{third.id}.html").is_file()
    finally:
        go.set()  # the barrier: now the older build finishes
        slow.join(120)
    assert slow.exitcode == 0
    assert outcome.get(timeout=5) == "superseded"
    assert atomic.live(out) == newer
    assert (out / "changes" / f"{third.id}.html").is_file()
    names = atomic.describe(out)["generations"]
    assert not [n for n in names if n.startswith("new-")]  # the dropped build is gone


def test_a_newer_publish_finishing_last_replaces_the_site(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    old = atomic.Stamp("db", (5, 5, 5, 0), 1)
    assert old.older_than(atomic.Stamp("db", (6, 5, 5, 0), 0))
    assert old.older_than(atomic.Stamp("db", (5, 5, 5, 0), 2))  # same rows, read later
    assert not old.older_than(atomic.Stamp("other db", (9, 9, 9, 9), 2))
    assert not old.older_than(None)
    publish(session, out, BASE)
    third = add_third_change(session, changes[1])
    assert publish(session, out, BASE).outcome == "published"
    assert (out / "changes" / f"{third.id}.html").is_file()


def test_a_reader_polling_the_site_never_finds_it_missing(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    legacy = out  # a site as older policywatch left it: a plain folder
    legacy.mkdir()
    (legacy / atomic.MARKER).write_text("older policywatch\n")
    (legacy / "index.html").write_text("<html>old</html>\n")
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    poller = subprocess.Popen(
        [sys.executable, "-c", POLLER, str(out), str(ready), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        for n in range(8):  # the first replaces the plain folder; each one flips the link
            result = publish(session, out, BASE if n % 2 else "https://elsewhere.example/")
            assert result.outcome == "published" and out.is_symlink()
    finally:
        stop.touch()
        report, _ = poller.communicate(timeout=60)
    atomic.wait_for_sweeps(60)
    seen = json.loads(report)
    assert seen["polls"] > 100, seen  # it really read the site while it was swapped
    assert seen["missing"] == 0 and seen["partial"] == 0, seen
    assert len(atomic.describe(out)["generations"]) == 2  # the live one and the one it replaced


def test_stale_folders_go_at_the_next_publish_but_a_live_build_stays(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    publish(session, out, BASE)
    atomic.wait_for_sweeps(60)  # its own sweep is done: what follows is for the next one
    sites = atomic.sites_dir(out)
    dead = sites / "new-killed"  # a build whose process died
    (dead / "changes").mkdir(parents=True)
    (dead / "changes" / "1.html").write_text("half written")
    legacy = tmp_path / ".public.new-abc123"  # left by an older policywatch
    legacy.mkdir()
    building = sites / "new-building"  # another publish, still writing (holds its lock)
    building.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
            "fcntl.flock(fd, fcntl.LOCK_SH); print('held', flush=True); sys.stdin.read()",
            str(building),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        publish(session, out, "https://elsewhere.example/")
        atomic.wait_for_sweeps(60)
        assert not dead.exists() and not legacy.exists()
        assert building.is_dir()
    finally:
        holder.communicate(input="", timeout=30)
    fd = os.open(building, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free now: the next sweep may take it
    finally:
        os.close(fd)
    publish(session, out, BASE)
    atomic.wait_for_sweeps(60)
    assert not building.exists()


def test_publishing_into_a_generation_is_refused(
    changes: tuple[Change, Change], session: Session, tmp_path: Path
) -> None:
    out = tmp_path / "public"
    publish(session, out, BASE)
    generation = atomic.live(out)
    assert generation is not None
    with pytest.raises(FileExistsError, match="publish to"):
        publish(session, generation, BASE)


def test_a_sweep_running_while_a_build_starts_leaves_its_folder_alone(
    changes: tuple[Change, Change],
    session: Session,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The previous publish's sweep may run just as the next build creates its ``new-*``
    folder, before the build has locked it: the sweep must not take it for a dead run's."""
    out = tmp_path / "public"
    publish(session, out, BASE)
    atomic.wait_for_sweeps(60)
    made = atomic.tempfile.mkdtemp
    racers: list[threading.Thread] = []

    def mkdtemp_then_sweep(*args: Any, **kwargs: Any) -> str:
        folder = made(*args, **kwargs)
        racer = threading.Thread(target=atomic.sweep, args=(out,))
        racer.start()
        racers.append(racer)
        racer.join(0.5)  # a sweep that does not wait for the builder's lock runs to the end
        return folder

    monkeypatch.setattr(atomic.tempfile, "mkdtemp", mkdtemp_then_sweep)
    result = publish(session, out, "https://elsewhere.example/")
    monkeypatch.undo()
    atomic.wait_for_sweeps(60)
    for racer in racers:
        racer.join(60)
    assert result.outcome == "published"
    assert (out / "index.html").is_file()
