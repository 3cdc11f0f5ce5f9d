"""One run's bookkeeping, the same for every command: ``with run(...) as current:`` starts a
Run row (after syncing the configured documents), and finishes it ``completed`` with
``current.counts`` when the block ends, or ``failed`` when it raises."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from config.documents import DocumentSpec
from storage.db import open_db
from storage.repo import finish_run, start_run, sync_documents


@dataclass
class CurrentRun:
    """The run a block works in: its id, and the counts to record when it finishes."""

    id: int
    counts: dict[str, int] = field(default_factory=dict)


def start(db_url: str, trigger: str, documents: Iterable[DocumentSpec] = ()) -> int:
    """Insert or update ``documents`` and open a Run, in one transaction; its id."""
    with open_db(db_url).begin() as session:
        sync_documents(session, documents)
        return start_run(session, trigger).id


def finish(db_url: str, run_id: int, status: str, counts: dict[str, int]) -> None:
    with open_db(db_url).begin() as session:
        finish_run(session, run_id, status, counts)


@contextmanager
def run(db_url: str, trigger: str, documents: Iterable[DocumentSpec] = ()) -> Iterator[CurrentRun]:
    """A Run from start to finish; whatever the block raises marks it failed and goes on."""
    current = CurrentRun(start(db_url, trigger, documents))
    try:
        yield current
    except BaseException:
        finish(db_url, current.id, "failed", current.counts)
        raise
    finish(db_url, current.id, "completed", current.counts)
