"""One run's bookkeeping, the same for every command: ``with run(...) as current:`` starts a
Run row (after syncing the configured documents), and finishes it ``completed`` with
``current.counts`` when the block ends, or ``failed`` when it raises."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from config.documents import DocumentSpec
from storage import runs as liveness
from storage.db import open_db
from storage.repo import finish_run, start_run, sync_documents
from storage.runs import close_dead_runs, heartbeat


@dataclass
class CurrentRun:
    """The run a block works in: its id, and the counts to record when it finishes."""

    id: int
    counts: dict[str, int] = field(default_factory=dict)


def start(db_url: str, trigger: str, documents: Iterable[DocumentSpec] = ()) -> int:
    """Insert or update ``documents``, close runs whose process died (as ``crashed``: their
    unprocessed fetches are derived by the runs that follow, ``pipeline.derive``) and open a
    Run, in one transaction; its id."""
    with open_db(db_url).begin() as session:
        sync_documents(session, documents)
        close_dead_runs(session)
        return start_run(session, trigger).id


def finish(db_url: str, run_id: int, status: str, counts: dict[str, int]) -> None:
    with open_db(db_url).begin() as session:
        finish_run(session, run_id, status, counts)


class Heartbeat:
    """A thread that refreshes a run's ``heartbeat_at`` every ``every`` seconds while the run
    works, so that no run starting meanwhile takes it for dead (storage.runs.is_dead). A
    beat that cannot be written (the database busy) is skipped: the next one comes."""

    def __init__(self, db_url: str, run_id: int, every: float | None = None) -> None:
        self.db_url, self.run_id = db_url, run_id
        self.every = every if every is not None else liveness.HEARTBEAT_EVERY.total_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat, name=f"policywatch-run-{run_id}-heartbeat", daemon=True
        )

    def _beat(self) -> None:
        sessions = open_db(self.db_url)
        while not self._stop.wait(self.every):
            try:
                with sessions.begin() as session:
                    heartbeat(session, self.run_id)
            except Exception:  # locked past the timeout, a connection lost: next beat
                continue

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def run(db_url: str, trigger: str, documents: Iterable[DocumentSpec] = ()) -> Iterator[CurrentRun]:
    """A Run from start to finish, its heartbeat refreshed all along; whatever the block
    raises marks it failed and goes on."""
    current = CurrentRun(start(db_url, trigger, documents))
    try:
        with Heartbeat(db_url, current.id):
            yield current
    except BaseException:
        finish(db_url, current.id, "failed", current.counts)
        raise
    finish(db_url, current.id, "completed", current.counts)
