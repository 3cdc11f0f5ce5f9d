"""Compiled templates kept on disk between processes (feeds/template_cache.py): a second
process compiles nothing and renders the same bytes; a cache that cannot be written or
read never fails a render."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Renders two pages in a fresh process and reports them with how many templates it compiled.
SCRIPT = r"""
import json, sys
from datetime import UTC, datetime
import jinja2
compiled = []
original = jinja2.Environment._compile
def counting(self, source, filename):
    compiled.append(filename)
    return original(self, source, filename)
jinja2.Environment._compile = counting
from feeds import render
from feeds.views import FeedLink
feeds = [FeedLink("feed.atom", "application/atom+xml", "All <changes> (Atom)")]
page = render.render(
    "links.html", root="", site_title="pw <b>&</b>", attribution="ODC-BY \x07 credit",
    feeds=feeds, links=[],
)
entry = render.environment().get_template("_head.html").render(
    root="../", feeds=feeds, site_title="<script>x</script>", assets={"css": "c", "js": "j"}
)
cache = render.environment().bytecode_cache
print(json.dumps({"page": page, "entry": entry, "compiled": len(compiled),
                  "cache": None if cache is None else cache.directory}))
"""


def render_in_process(tmp: Path, **env: str) -> dict:
    environ = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT), **env}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=environ, capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def cache_files(tmp: Path) -> list[Path]:
    return sorted(tmp.glob(f"_jinja2-cache-{os.getuid()}/policywatch-*.cache"))


def test_a_second_process_compiles_nothing_and_renders_the_same(tmp_path: Path) -> None:
    first = render_in_process(tmp_path)
    assert first["compiled"] >= 3  # links.html, base.html, _macros.html, _head.html
    files = cache_files(tmp_path)
    assert len(files) == first["compiled"]
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    second = render_in_process(tmp_path)
    assert second["compiled"] == 0
    assert (second["page"], second["entry"]) == (first["page"], first["entry"])
    off = render_in_process(tmp_path, POLICYWATCH_TEMPLATE_CACHE="0")
    assert off["cache"] is None and off["compiled"] == first["compiled"]
    assert (off["page"], off["entry"]) == (first["page"], first["entry"])
    # what a page prints from its inputs is still escaped and cleaned
    assert "pw &lt;b&gt;&amp;&lt;/b&gt;" in second["page"] and "\x07" not in second["page"]
    assert "&lt;script&gt;" in second["entry"]


def test_a_cache_that_cannot_be_read_or_written_fails_no_render(tmp_path: Path) -> None:
    first = render_in_process(tmp_path)
    for f in cache_files(tmp_path):
        f.write_bytes(f.read_bytes()[:40])  # cut short: compiled again
    again = render_in_process(tmp_path)
    assert again["compiled"] == first["compiled"]
    assert again["page"] == first["page"]
    folder = tmp_path / f"_jinja2-cache-{os.getuid()}"
    names = [f.name for f in cache_files(tmp_path)]
    for f in cache_files(tmp_path):
        f.unlink()
    folder.chmod(0o500)  # read-only: nothing can be written
    try:
        if os.access(folder, os.W_OK):  # root writes anyway: a file in the way instead
            folder.chmod(0o700)
            for name in names:
                (folder / name).mkdir()
        ro = render_in_process(tmp_path)
    finally:
        folder.chmod(0o700)
    assert ro["page"] == first["page"]
    assert ro["compiled"] == first["compiled"]  # nothing could be kept or loaded


def test_a_folder_another_user_could_write_is_not_used(tmp_path: Path) -> None:
    folder = tmp_path / f"_jinja2-cache-{os.getuid()}"
    folder.mkdir()
    folder.chmod(0o777)
    done = render_in_process(tmp_path)
    # Jinja2 makes its folder 0700 again or refuses it: never a world-writable cache
    assert done["cache"] is None or (os.stat(done["cache"]).st_mode & 0o077) == 0
