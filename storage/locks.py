"""The per-document lock: one writer at a time changes a document's history.

Every write to a document's versions, current version and text changes happens in a short
transaction that starts by taking this lock (docs/decisions/0012-durable-transitions.md):

* SQLite: ``BEGIN IMMEDIATE``, the database's write lock, taken before the transaction
  reads anything, so what it reads next is the latest committed state and no other writer
  can change it before the commit. Other writers wait (``busy_timeout``), for the length of
  one document's transaction, never for a whole run.
* PostgreSQL: ``SELECT ... FOR UPDATE`` on the document's row; writers of other documents
  run in parallel, writers of the same document wait for the commit.

The uniqueness rule on text transitions (``change.document_id, change.seq``) backs this
up: even a writer that forgot the lock cannot store a transition twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Document


class LockError(RuntimeError):
    """The lock was asked for inside a transaction that has already read or written."""


def lock_document(session: Session, document_id: str) -> None:
    """Take the write lock for ``document_id`` as the first statement of ``session``'s
    transaction; held until it commits or rolls back."""
    bind = session.connection()
    if bind.dialect.name == "sqlite":
        driver = bind.connection.dbapi_connection
        if driver is not None and getattr(driver, "in_transaction", False):
            raise LockError("lock_document must open the transaction (it has begun already)")
        bind.exec_driver_sql("BEGIN IMMEDIATE")
        return
    session.execute(select(Document.id).where(Document.id == document_id).with_for_update())


@contextmanager
def document_transaction(sessions: sessionmaker[Session], document_id: str) -> Iterator[Session]:
    """A session whose transaction holds ``document_id``'s lock; commits on success, rolls
    back on any exception (the lock goes with it)."""
    with sessions() as session:
        try:
            lock_document(session, document_id)
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
