"""The real histories in demo/data as documents to replay, what is known to have happened
in them, and a report of what policywatch made of a replay (bench/replay_corpus.py and
tests/test_replay_corpus.py share it). Texts: Platform Governance Archive, ODC-BY 1.0,
see demo/data/ATTRIBUTION.md."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from changes.classify import CATEGORIES, same_words
from changes.dates import iso_date
from changes.legalbasis import legal_bases
from config.documents import DocumentSpec
from demo.corpus import DATA
from pipeline.archive import read_archive
from pipeline.replay import ReplayResult, replay
from storage.blobs import get_text
from storage.db import open_db
from storage.history import changes_by_id
from storage.models import Change, Version

__all__ = ["CORPUS", "CorpusDocument", "DocumentReport", "KnownEvent", "replay_document"]


@dataclass(frozen=True)
class KnownEvent:
    """Something that happened on a recorded day, and the categories it must be flagged with."""

    day: str  # recorded date, YYYY-MM-DD
    categories: tuple[str, ...]
    what: str


@dataclass(frozen=True)
class CorpusDocument:
    archive: str  # demo/data/<archive>.tar.xz
    spec: DocumentSpec
    events: tuple[KnownEvent, ...] = ()
    partial_renders: tuple[str, ...] = ()  # recorded days a partial render arrived

    @property
    def path(self) -> Path:
        return DATA / f"{self.archive}.tar.xz"


def _spec(doc_id: str, service: str, title: str, url: str, locale: str = "en_US") -> DocumentSpec:
    return DocumentSpec(doc_id, service, title, "policy", url, None, locale, "http", (), ())


_FB_PRINTABLE = "https://mbasic.facebook.com/privacy/policy/printable/"

CORPUS: tuple[CorpusDocument, ...] = (
    CorpusDocument(
        "facebook-privacy-policy-en",
        _spec("facebook-privacy-policy", "Facebook", "Facebook Privacy Policy", _FB_PRINTABLE),
        events=(
            KnownEvent(
                "2024-06-26",
                ("legal-basis", "ai", "dates"),
                "June 2024: 'Provide and curate artificial intelligence technology' enters "
                "the legal-basis table",
            ),
            KnownEvent(
                "2025-05-28",
                ("legal-basis", "ai", "dates"),
                "May 2025: 'Develop and improve AI at Meta' enters the Legitimate interests table",
            ),
        ),
        partial_renders=("2025-12-17", "2026-07-24"),
    ),
    CorpusDocument(
        "facebook-privacy-policy-fr",
        _spec(
            "facebook-privacy-policy-fr",
            "Facebook",
            "Facebook Politique d'utilisation des données",
            "https://www.facebook.com/about/privacy/update",
            "fr_FR",
        ),
    ),
    CorpusDocument(
        "whatsapp-privacy-policy-en",
        _spec(
            "whatsapp-privacy-policy-eea",
            "WhatsApp",
            "WhatsApp Privacy Policy (EEA)",
            "https://www.whatsapp.com/legal/privacy-policy-eea?lang=en",
        ),
        events=(
            KnownEvent(
                "2026-03-27",
                ("legal-basis", "ai"),
                "March 2026: optional AI at Meta features through WhatsApp enter the tables",
            ),
        ),
    ),
    CorpusDocument(
        "facebook-privacy-policy-and-genai-en",
        _spec(
            "facebook-privacy-policy-and-genai",
            "Facebook",
            "Facebook Privacy Policy and generative AI page",
            _FB_PRINTABLE,
        ),
    ),
    CorpusDocument(
        "facebook-terms-of-service-en",
        _spec(
            "facebook-terms-of-service",
            "Facebook",
            "Facebook Terms of Service",
            "https://www.facebook.com/legal/terms",
        ),
    ),
)


@dataclass
class DocumentReport:
    """What a replay of one corpus document produced, against what is known."""

    document: CorpusDocument
    result: ReplayResult
    by_category: dict[str, int] = field(default_factory=dict)  # alerting changes only
    token_only_versions: int = 0  # recorded texts differing from the last in link targets only
    token_only_alerts: int = 0  # ... of which raised an alert (must be 0)
    held_partial_renders: list[str] = field(default_factory=list)  # days
    quiet: Counter[str] = field(default_factory=Counter)  # changes kept without alert, by why
    date_moves: int = 0  # changes whose stated date moved
    date_moves_flagged: int = 0  # ... flagged "dates"
    events: list[tuple[KnownEvent, bool, list[str]]] = field(default_factory=list)
    partial_render_alerts: list[tuple[str, bool, bool]] = field(default_factory=list)
    stated_bases: list[frozenset[str]] = field(default_factory=list)  # per recorded version


def replay_document(db_url: str, doc: CorpusDocument) -> DocumentReport:
    """Replay one corpus document into ``db_url`` and report on it."""
    versions = read_archive(doc.path)
    result = replay(db_url, doc.spec, versions)
    report = DocumentReport(doc, result)
    lang = doc.spec.locale
    with open_db(db_url)() as session:
        texts: dict[int, str] = {}

        def text(version_id: int) -> str:
            if version_id not in texts:
                version = session.get(Version, version_id)
                assert version is not None
                texts[version_id] = get_text(session, version.text_blob)
            return texts[version_id]

        changes = changes_by_id(session, result.change_ids)
        for before, step in zip(result.steps, result.steps[1:], strict=False):
            if step.raw_hash == before.raw_hash:
                continue
            if step.version_id == before.version_id or same_words(
                text(before.version_id), text(step.version_id)
            ):
                report.token_only_versions += 1
                change = changes.get(step.change_id) if step.change_id else None
                if change is not None and change.alert:
                    report.token_only_alerts += 1
        bases = {}
        for step in result.steps:
            if step.version_id not in bases:
                bases[step.version_id] = legal_bases(text(step.version_id), lang).stated
            report.stated_bases.append(bases[step.version_id])
        _judge(report, list(changes.values()), session)
    return report


def _judge(report: DocumentReport, changes: list[Change], session: object) -> None:
    doc = report.document
    by_category: Counter[str] = Counter()
    for change in changes:
        day = change.detected_at.date().isoformat()
        if change.alert:
            by_category.update(change.categories)
        else:
            report.quiet[_why(change)] += 1
        if "held" in change.summary:
            report.held_partial_renders.append(day)
        old, new = change.from_version, change.to_version
        if not change.technical and old is not None and new is not None:
            before, after = iso_date(old.effective_date), iso_date(new.effective_date)
            if after and before != after:
                report.date_moves += 1
                report.date_moves_flagged += "dates" in change.categories
    report.by_category = {c: by_category[c] for c in CATEGORIES if by_category[c]}
    for event in doc.events:
        found = [c for c in changes if c.detected_at.date().isoformat() == event.day]
        ok = any(c.alert and set(event.categories) <= set(c.categories) for c in found)
        report.events.append((event, ok, sorted({x for c in found for x in c.categories})))
    for day in doc.partial_renders:
        found = [c for c in changes if c.detected_at.date().isoformat() == day]
        held = any("held" in c.summary for c in found)
        as_removal = any(c.alert and _reports_removal(c) for c in found)
        report.partial_render_alerts.append((day, held, as_removal))


def _why(change: Change) -> str:
    if change.technical:
        return "technical"
    reason = str(change.summary.get("no_alert", ""))
    if reason.startswith("the text returns"):
        return "flipping back"
    if "partial render" in reason:
        return "partial render"
    if "came back" in reason:
        return "restored"
    return "link targets only"


def _reports_removal(change: Change) -> bool:
    """Would a reader take this alert for the held blocks being removed?"""
    title = change.title.lower()
    return "vanished" in title or "removed" in title and "held" not in change.summary
