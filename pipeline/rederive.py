"""Re-derivation (``policywatch rederive``): texts extracted again from the stored bodies.

After an extractor upgrade (``changes.extract.EXTRACTOR_VERSION``) or an edit of a
document's ``select``/``remove`` rules, the stored raw bodies give other texts. For each
document (all, or the ones named):

1. fetches not derived yet are derived first (``pipeline.derive``), so the document shows
   its latest text;
2. the body of its current version (the newest fetch that showed it and still has its
   body; retention never drops the body that produced a version) is read and extracted
   again outside any write lock (``pipeline.derive.read_page``);
3. in one transaction holding the document's lock (``pipeline.reextract``): the same text
   marks the version as this extractor's (nothing else changes, so a second rederive does
   nothing); another text becomes a new version and a **technical** change, never an
   alert: the body is the same, only the extraction differs.

Published changes are never rewritten: feed entry ids must not change (decision 0009) and
their alerts went out (decision 0010). A text the page showed in the past stays what was
seen then; the next change is diffed against the re-extracted text. Documents replayed from
an archive have no stored bodies and are skipped, as are versions whose bodies retention
dropped (``body_pruned``); both are said in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from config.run import RunConfig
from config.sources import Sources, load_sources
from pipeline import runs
from pipeline.derive import PageText, derive_versions, read_page, seen_at
from pipeline.reextract import (
    Reextracted,
    apply_reextracted,
    body_fetch,
    replayed,
    running_extractor,
)
from storage.blobs import get_blob
from storage.db import open_db
from storage.locks import document_transaction
from storage.models import Document, Fetch, Version

#: What happened to one document; ``technical``: a technical change was stored.
OUTCOMES = ("technical", "same", "no-version", "archive", "no-body", "failed", "deferred")


class UnknownDocuments(ValueError):
    """Documents named that the database does not hold."""


@dataclass(frozen=True)
class DocumentResult:
    document_id: str
    outcome: str  # one of OUTCOMES
    detail: str = ""
    change_id: int | None = None


@dataclass
class RederiveReport:
    extractor: str
    run_id: int = 0
    derived: dict[str, int] = field(default_factory=dict)  # step 1's counts
    results: list[DocumentResult] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    def counts(self) -> dict[str, int]:
        out = {"documents": len(self.results), "pending_fetches": self.derived.get("fetches", 0)}
        out.update({o.replace("-", "_"): self.count(o) for o in OUTCOMES})
        return out


def rederive(
    db_url: str,
    sources_path: str,
    documents: Iterable[str] = (),
    progress: Callable[[int, int, DocumentResult], None] | None = None,
) -> RederiveReport:
    """Extract the current text of ``documents`` (all when empty) again from their stored
    bodies, in a run of its own (trigger ``rederive``); ``progress(done, total, result)``
    after each document. Raises :class:`UnknownDocuments` for a name the database lacks."""
    sources = load_sources(Path(sources_path))
    wanted = list(dict.fromkeys(documents))
    report = RederiveReport(extractor=running_extractor())
    sessions = open_db(db_url)
    with sessions() as session:  # a name neither stored nor configured: before any run
        document_ids(session, wanted, also=[d.id for d in sources.documents])
    with runs.run(db_url, "rederive", sources.documents) as current:
        report.run_id = current.id
        with sessions() as session:
            ids = document_ids(session, wanted)
        cfg = RunConfig(db_url=db_url, sources_path=sources_path, documents=[])
        report.derived = derive_versions(cfg, current.id, only=ids)
        for n, doc_id in enumerate(ids, 1):
            result = rederive_document(sessions, doc_id, sources, current.id)
            report.results.append(result)
            if progress:
                progress(n, len(ids), result)
        current.counts = report.counts()
    return report


def document_ids(session: Session, wanted: list[str], also: Iterable[str] = ()) -> list[str]:
    """``wanted`` (checked to exist, in the database or in ``also``), or every document of
    the database, by id."""
    known = list(session.scalars(select(Document.id).order_by(Document.id)))
    missing = [d for d in wanted if d not in {*known, *also}]
    if missing:
        raise UnknownDocuments(", ".join(missing))
    return wanted or known


def rederive_document(
    sessions: sessionmaker[Session],
    document_id: str,
    sources: Sources,
    run_id: int | None,
) -> DocumentResult:
    """One document: its current version's body extracted again and applied (see module)."""
    with sessions() as session:  # read side: no write lock while parsing
        doc = session.get(Document, document_id)
        assert doc is not None
        version = session.get(Version, doc.current_version_id) if doc.current_version_id else None
        if version is None:
            return DocumentResult(document_id, "no-version", "no text derived yet")
        if replayed(version):
            return DocumentResult(document_id, "archive", "replayed from an archive: no body")
        fetch = body_fetch(session, version.id)
        if fetch is None:
            pruned = pruned_fetches(session, version.id)
            why = f"all {pruned} bodies of its text were dropped by retention" if pruned else ""
            return DocumentResult(document_id, "no-body", why or "no stored body for its text")
        pruned = pruned_fetches(session, version.id)
        body = get_blob(session, fetch.blob_hash) if fetch.blob_hash else None
        page = read_page(fetch, body, doc, sources)
        was = version.extractor_version
        if not isinstance(page, PageText):
            kind = getattr(page, "kind", "feed")
            return DocumentResult(document_id, "failed", f"its body no longer extracts: {kind}")
        again = Reextracted(version.id, fetch.id, page.text, seen_at(fetch))
    try:
        with document_transaction(sessions, document_id) as session:
            doc = session.get(Document, document_id)
            assert doc is not None
            session.refresh(doc)
            outcome, change_id = apply_reextracted(session, doc, again, run_id)
    except (OperationalError, IntegrityError) as exc:  # locked past the timeout, disk full
        return DocumentResult(document_id, "deferred", f"not committed: {type(exc.orig).__name__}")
    if outcome == "moved":  # a crawl moved it meanwhile: its text is this extractor's
        return DocumentResult(document_id, "same", "a crawl moved it meanwhile")
    now = running_extractor()
    detail = f"extractor {was} -> {now}" if was != now else f"extractor {now}"
    detail += f", from fetch {again.fetch_id}"
    if pruned:
        detail += f" ({pruned} pruned bodies of the same text skipped)"
    return DocumentResult(document_id, outcome, detail, change_id)


def pruned_fetches(session: Session, version_id: int) -> int:
    stmt = select(func.count()).where(Fetch.version_id == version_id, Fetch.body_pruned)
    return session.scalar(stmt) or 0
