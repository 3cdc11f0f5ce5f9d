"""What keeps a crawl's command small (decision 0018): big blocks given back to the
system when freed while the spider's process is alive, kept in the heap after."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="glibc's malloc only",
)

#: In a fresh interpreter: big blocks freed after a run's worth of them, small ones left
#: between them (as a page's body, its text and parser buffers are, among the objects that
#: stay); prints the resident memory given back when the big ones are freed, in KB.
FREED = """
import sys
from pipeline.processes import keep_big_blocks, return_big_blocks

def rss():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))

if sys.argv[1] in ("on", "kept"):
    return_big_blocks()
if sys.argv[1] == "kept":  # after the crawl: from the heap again
    keep_big_blocks()
first = bytearray(400_000)  # freed: glibc's own threshold rises above the next blocks
del first
big, small = [], []
for _ in range(60):
    big.append(bytearray(300_000))
    small.append(bytearray(1_000))  # stays, right after each big block
before = rss()
del big
print(before - rss())
"""


def _given_back_kb(setting: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", FREED, setting],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


@glibc
def test_big_blocks_go_back_to_the_system_when_freed() -> None:
    blocks_kb = 60 * 300_000 // 1024
    assert _given_back_kb("on") > 0.9 * blocks_kb
    assert _given_back_kb("off") < 0.5 * blocks_kb  # glibc's default: they stay resident
    assert _given_back_kb("kept") < 0.5 * blocks_kb


def test_the_command_gives_big_blocks_back(tmp_path: Path) -> None:
    """`policywatch` sets it before it runs a command (checked on `--version`)."""
    probe = (
        "import sys\n"
        "import pipeline.processes as p\n"
        "calls = []\n"
        "p.return_big_blocks = lambda: calls.append(1)\n"
        "from cli.main import main\n"
        "sys.argv = ['policywatch', '--version']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(len(calls))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == 1
