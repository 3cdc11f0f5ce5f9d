"""Compiled templates kept on disk between processes: Jinja2's own bytecode cache.

Every publish runs in a new process (``policywatch crawl``, a Prefect flow run, a forked
process rendering the index and the feeds), and each compiled the templates it used
again: 60-70 ms of CPU for the site's, 20-30 ms in the forked process for the index page
alone. Jinja2 keeps a compiled template's code (``marshal``) in a file named by the
template's name and path, checked against the source's checksum; loading it costs well
under a millisecond. See docs/decisions/0004-incremental-publish.md.

The files are in Jinja2's default folder for this user (``<tmp>/_jinja2-cache-<uid>``,
which Jinja2 makes mode 0700 and refuses if another user owns it), and their names carry
Jinja2's version and :func:`feeds.incremental.code_salt` (the code of ``feeds/``, the
environment's settings included): code that compiles templates differently never loads
another code's files (Jinja2 adds Python's version and the source's checksum).
A cache that cannot be made, read or written is no cache: templates are compiled as
before, never a failed publish.
"""

from __future__ import annotations

import os
import pickle

import jinja2
from jinja2.bccache import Bucket, BytecodeCache, FileSystemBytecodeCache

from feeds.incremental import code_salt

#: Set to "0" in the environment to compile every template in every process.
SWITCH = "POLICYWATCH_TEMPLATE_CACHE"


class QuietCache(FileSystemBytecodeCache):
    """Jinja2's file cache, which never fails a render: a file that cannot be written
    (read-only or full disk) is skipped, one that cannot be read is compiled again."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):
            # cut short or garbled: compiled again (and written again)
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass  # the next process compiles it again


def template_cache(directory: str | None = None) -> BytecodeCache | None:
    """The bytecode cache of this code's templates (in ``directory``, or Jinja2's default
    folder for this user); None when it is switched off or its folder is unsafe or
    cannot be made."""
    if os.environ.get(SWITCH, "1") == "0":
        return None
    try:
        salt = f"{jinja2.__version__}-{code_salt()[:20]}"
        return QuietCache(directory, f"policywatch-{salt}-%s.cache")
    except (OSError, RuntimeError):  # RuntimeError: Jinja2 found the folder unsafe
        return None
