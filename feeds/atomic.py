"""Replace a folder all at once: build a sibling, then swap it in by rename."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MARKER = ".policywatch-site"  # only folders holding it (or empty ones) are ever replaced
STALE_SECONDS = 3600


def _check_replaceable(out_dir: Path) -> None:
    if not out_dir.exists() and not out_dir.is_symlink():
        return
    if not out_dir.is_dir():
        raise FileExistsError(f"{out_dir} exists and is not a folder")
    if any(out_dir.iterdir()) and not (out_dir / MARKER).is_file():
        raise FileExistsError(f"{out_dir} is not empty and was not written by policywatch")


def _sweep_stale(out_dir: Path) -> None:
    """Remove temp siblings a killed run left behind (old enough not to be another run's)."""
    cutoff = time.time() - STALE_SECONDS
    for pattern in (f".{out_dir.name}.new-*", f".{out_dir.name}.old-*"):
        for path in out_dir.parent.glob(pattern):
            try:
                if path.is_dir() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass


def swap(new: Path, out_dir: Path) -> None:
    """Put ``new`` in place of ``out_dir``: rename the old away, the new in, delete the old."""
    old: Path | None = None
    if out_dir.exists() or out_dir.is_symlink():
        old = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex}")
        os.rename(out_dir, old)
    try:
        os.rename(new, out_dir)
    except BaseException:
        if old is not None:
            os.rename(old, out_dir)
        raise
    if old is not None:
        if old.is_symlink():
            old.unlink()
        else:
            shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_dir(out_dir: Path) -> Iterator[Path]:
    """Yield an empty temp folder next to ``out_dir``; swap it in if the block succeeds.

    On any error the temp folder is deleted and ``out_dir`` is left as it was.
    """
    out_dir = Path(os.path.abspath(out_dir))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _check_replaceable(out_dir)
    _sweep_stale(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; a web server must read the site
        yield tmp
        (tmp / MARKER).write_text("Written by policywatch; replaced on each publish.\n")
        swap(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
