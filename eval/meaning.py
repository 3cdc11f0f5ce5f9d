"""Measure what policywatch says about real histories against gold labels read by people.

Every history with a gold file (``eval/gold/<archive stem>.toml``, format in the module
docstring of :mod:`eval.gold`) is replayed through :func:`pipeline.replay.replay` (the steps a
crawl uses) into a fresh database, and its stored changes are compared with the labels,
grouped by recorded day (the ``at`` of a label is the day of the version a change leads to):

- per category (``legal-basis``, ``opt-out``, ``dates``, ``ai``): precision and recall over
  alerting changes (a category on a quiet change reaches nobody's feed as news);
- false claims: a legal-basis claim ("now relies on", "no longer relies on", "announced",
  "now states the basis") that no gold claim of that day supports;
- noise alerts: alerts on a day the gold says nobody should be alerted;
- vague titles: alerts titled only with word counts ("text changed (+n/-m words)").

Archives: demo/data (Meta) and eval/corpus (other platforms); Platform Governance Archive,
ODC-BY 1.0, see demo/data/ATTRIBUTION.md and eval/corpus/ATTRIBUTION.md.
"""

from __future__ import annotations

import re
import tempfile
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from changes.legalbasis import BASES, basis_name
from pipeline.archive import read_archive
from pipeline.replay import replay
from storage.db import open_db
from storage.models import Change
from storage.repo import DocumentSpec

__all__ = [
    "CATEGORIES",
    "Claim",
    "DocumentScore",
    "GoldChange",
    "Score",
    "evaluate",
    "gold_documents",
    "is_vague",
    "score_document",
]

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "eval" / "gold"
ARCHIVES = (ROOT / "demo" / "data", ROOT / "eval" / "corpus")

#: Categories the gold labels, in the order the table prints them.
CATEGORIES: tuple[str, ...] = ("legal-basis", "opt-out", "dates", "ai")

# Where each history was published (the base its relative links resolve against) and the
# title a reader would know it by. Meta's pages as in demo/replays.py.
_PAGES: dict[str, tuple[str, str]] = {
    "facebook-privacy-policy-en": (
        "Facebook Privacy Policy",
        "https://mbasic.facebook.com/privacy/policy/printable/",
    ),
    "facebook-privacy-policy-fr": (
        "Facebook Politique d'utilisation des données",
        "https://www.facebook.com/about/privacy/update",
    ),
    "facebook-privacy-policy-and-genai-en": (
        "Facebook Privacy Policy and generative AI page",
        "https://mbasic.facebook.com/privacy/policy/printable/",
    ),
    "facebook-terms-of-service-en": (
        "Facebook Terms of Service",
        "https://www.facebook.com/legal/terms",
    ),
    "whatsapp-privacy-policy-en": (
        "WhatsApp Privacy Policy (EEA)",
        "https://www.whatsapp.com/legal/privacy-policy-eea?lang=en",
    ),
    "whatsapp-terms-of-service-en": (
        "WhatsApp Terms of Service (EEA)",
        "https://www.whatsapp.com/legal/terms-of-service-eea?lang=en",
    ),
    "instagram-terms-of-service-en": (
        "Instagram Terms of Use",
        "https://help.instagram.com/581066165581870",
    ),
    "tiktok-privacy-policy-en": (
        "TikTok Privacy Policy (EEA)",
        "https://www.tiktok.com/legal/page/eea/privacy-policy/en",
    ),
    "pinterest-privacy-policy-en": (
        "Pinterest Privacy Policy",
        "https://policy.pinterest.com/en/privacy-policy",
    ),
    "reddit-privacy-policy-en": (
        "Reddit Privacy Policy",
        "https://www.reddit.com/policies/privacy-policy",
    ),
    "youtube-privacy-policy-en": (
        "Google Privacy Policy",
        "https://policies.google.com/privacy?hl=en",
    ),
    "bluesky-privacy-policy-en": (
        "Bluesky Privacy Policy",
        "https://bsky.social/about/support/privacy-policy",
    ),
}

_LOCALES = {"en": "en_US", "fr": "fr_FR", "de": "de_DE"}

# A title that says only that words changed, and how many.
_VAGUE = re.compile(
    r"^(?:text|words?|the text|content) (?:changed|moved|edited|updated)"
    r"(?: \(\+\d+/-\d+ words?\))?\.?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Claim:
    """A legal-basis claim: the purpose (as labelled or as published), basis and kind."""

    purpose: str
    basis: str
    kind: str  # added | removed | announced
    date: str | None = None


@dataclass(frozen=True)
class GoldChange:
    at: str
    alert: bool
    categories: frozenset[str]
    why: str
    claims: tuple[Claim, ...] = ()


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    false_hits: list[str] = field(default_factory=list)  # "<document> <day>: ..." per fp
    misses: list[str] = field(default_factory=list)  # per fn

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.false_hits += other.false_hits
        self.misses += other.misses

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


@dataclass
class Score:
    """Counts that add up over documents."""

    changes: int = 0  # stored text changes
    alerts: int = 0
    labelled_days: int = 0
    unlabelled_days: list[str] = field(default_factory=list)  # stored changes with no label
    categories: dict[str, Counts] = field(default_factory=lambda: {c: Counts() for c in CATEGORIES})
    claims: int = 0  # legal-basis claims published (in alerting changes)
    false_claims: list[str] = field(default_factory=list)
    gold_claims: int = 0
    found_claims: int = 0
    noise_alerts: list[str] = field(default_factory=list)
    missed_alerts: list[str] = field(default_factory=list)
    vague_titles: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: Score) -> None:
        self.changes += other.changes
        self.alerts += other.alerts
        self.labelled_days += other.labelled_days
        self.unlabelled_days += other.unlabelled_days
        for name, counts in other.categories.items():
            self.categories[name].add(counts)
        self.claims += other.claims
        self.false_claims += other.false_claims
        self.gold_claims += other.gold_claims
        self.found_claims += other.found_claims
        self.noise_alerts += other.noise_alerts
        self.missed_alerts += other.missed_alerts
        self.vague_titles += other.vague_titles
        self.seconds += other.seconds

    @property
    def noise_share(self) -> float:
        return len(self.noise_alerts) / self.alerts if self.alerts else 0.0

    @property
    def vague_share(self) -> float:
        return len(self.vague_titles) / self.alerts if self.alerts else 0.0


@dataclass
class DocumentScore:
    document: str
    score: Score


def gold_documents(gold_dir: Path = GOLD) -> list[str]:
    """Archive stems that have a gold file, sorted."""
    return sorted(p.stem for p in gold_dir.glob("*.toml"))


def archive_path(stem: str) -> Path:
    for folder in ARCHIVES:
        path = folder / f"{stem}.tar.xz"
        if path.is_file():
            return path
    raise FileNotFoundError(f"{stem}.tar.xz is in none of {', '.join(map(str, ARCHIVES))}")


def read_gold(path: Path) -> tuple[str, list[GoldChange]]:
    """The language and labelled changes of one gold file."""
    data = tomllib.loads(path.read_text("utf-8"))
    changes = [
        GoldChange(
            at=str(entry["at"]),
            alert=bool(entry["alert"]),
            categories=frozenset(entry.get("categories", [])),
            why=str(entry.get("why", "")),
            claims=tuple(
                Claim(
                    str(c["purpose"]),
                    str(c["basis"]),
                    str(c["kind"]),
                    str(c["date"]) if c.get("date") else None,
                )
                for c in entry.get("claim", [])
            ),
        )
        for entry in data.get("change", [])
    ]
    return str(data.get("language", "en")), changes


#: Histories of Meta's pages: sources.toml names the ``meta`` noise profile for those.
_META = ("facebook-", "instagram-", "whatsapp-", "meta-")


def spec_for(stem: str, language: str) -> DocumentSpec:
    """The document a history is replayed into, as sources.toml would describe it (Meta's
    pages with the ``meta`` noise profile, config/profiles/meta.toml)."""
    title, url = _PAGES.get(stem, (stem, f"https://example.invalid/{stem}"))
    locale = _LOCALES.get(language, "en_US")
    profile = "meta" if stem.startswith(_META) else "default"
    return DocumentSpec(
        stem, title.split()[0], title, "policy", url, None, locale, "http", (), (), profile=profile
    )


def is_vague(title: str) -> bool:
    """Does the title say only that words changed (the document name set aside)?"""
    _, _, rest = title.partition(": ")
    rest = rest or title
    return bool(_VAGUE.match(rest.strip()))


def basis_id(name: str) -> str:
    """``"legitimate interests"`` (as summaries write it) or ``"legitimate-interests"`` ->
    ``"legitimate-interests"``."""
    for basis in BASES:
        if name in (basis, basis_name(basis)):
            return basis
    return name


def published_claims(summary: dict[str, Any]) -> list[Claim]:
    """The legal-basis claims a change's summary makes (what a reader would quote)."""
    claims = []
    for item in summary.get("bases", []) or []:
        kind = "announced" if item.get("announced") else str(item.get("action"))
        date = (
            item.get("announced", {}).get("date")
            if isinstance(item.get("announced"), dict)
            else None
        )
        claims.append(
            Claim(str(item.get("purpose", "")), basis_id(str(item.get("basis"))), kind, date)
        )
    stated = summary.get("bases_stated") or {}
    for action in ("added", "removed"):
        for basis in stated.get(action, []) or []:
            claims.append(Claim("", basis_id(str(basis)), action))
    return claims


def published_steps(summary: dict[str, Any]) -> list[Claim]:
    """The processing steps a change's summary says a purpose gained or lost under its
    bases ("'Conduct age verification ...' added to 'To make and keep Pinterest safe'
    (legitimate interests)"): each one a (step, basis, added/removed) statement. They count
    towards the labelled claims a change states, never as claims of their own (the false
    claims are those of ``bases``)."""
    out = []
    for entry in summary.get("processing", []) or []:
        for action in ("added", "removed"):
            for step in entry.get(action, []) or []:
                for basis in entry.get("bases", []) or []:
                    out.append(Claim(str(step), basis_id(str(basis)), action))
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def supports(gold: Claim, claim: Claim) -> bool:
    """Does the labelled claim support the published one? Same basis, same kind, and the
    labelled purpose's words all in the published purpose."""
    if gold.basis != claim.basis or gold.kind != claim.kind:
        return False
    if not claim.purpose:  # "the text now states B": any labelled purpose gaining B
        return True
    if gold.purpose.lower() in claim.purpose.lower():
        return True
    have = set(_words(claim.purpose))
    return bool(have) and all(w in have for w in _words(gold.purpose))


def score_document(stem: str, db_url: str, gold_dir: Path = GOLD) -> tuple[Score, list[Change]]:
    """Replay one history into ``db_url`` and score its changes against its gold file."""
    language, gold = read_gold(gold_dir / f"{stem}.toml")
    spec = spec_for(stem, language)
    result = replay(db_url, spec, read_archive(archive_path(stem)))
    with open_db(db_url)() as session:
        changes = list(
            session.scalars(
                select(Change)
                .where(Change.id.in_(result.change_ids), Change.kind == "text")
                .order_by(Change.detected_at, Change.id)
            )
        )
        for change in changes:  # load what scoring reads before the session closes
            _ = (change.title, change.summary, change.categories)
        session.expunge_all()
    score = score_changes(stem, changes, gold)
    score.seconds = result.seconds
    return score, changes


def score_changes(stem: str, changes: Iterable[Change], gold: list[GoldChange]) -> Score:
    score = Score()
    stored: dict[str, list[Change]] = defaultdict(list)
    for change in changes:
        if change.technical:
            continue
        stored[change.detected_at.date().isoformat()].append(change)
        score.changes += 1
        score.alerts += int(change.alert)
    labels: dict[str, list[GoldChange]] = defaultdict(list)
    for entry in gold:
        labels[entry.at].append(entry)
    for day in sorted(set(stored) | set(labels)):
        found, expected = stored.get(day, []), labels.get(day, [])
        alerts = [c for c in found if c.alert]
        if not expected:
            score.unlabelled_days.append(f"{stem} {day}")
            continue
        score.labelled_days += 1
        should_alert = any(e.alert for e in expected)
        want = {c for e in expected if e.alert for c in e.categories}
        got = {c for change in alerts for c in change.categories if c in CATEGORIES}
        for name in CATEGORIES:
            counts = score.categories[name]
            counts.tp += int(name in want and name in got)
            counts.fp += int(name in got and name not in want)
            counts.fn += int(name in want and name not in got)
            if name in got and name not in want:
                why = "; ".join(e.why for e in expected)
                hits = [c.title for c in alerts if name in c.categories]
                counts.false_hits.append(f"{stem} {day}: found in {hits}; gold: {why[:300]}")
            if name in want and name not in got:
                why = "; ".join(e.why for e in expected if e.alert and name in e.categories)
                titles = [c.title for c in alerts] or ["(no alert)"]
                counts.misses.append(f"{stem} {day}: gold: {why[:300]}; titles: {titles}")
        if alerts and not should_alert:
            score.noise_alerts += [f"{stem} {day}: {c.title}" for c in alerts]
        if should_alert and not alerts:
            why = next(e.why for e in expected if e.alert)
            score.missed_alerts.append(f"{stem} {day}: {why[:100]}")
        gold_claims = [claim for e in expected for claim in e.claims]
        score.gold_claims += len(gold_claims)
        published = [claim for change in alerts for claim in published_claims(change.summary)]
        score.claims += len(published)
        for claim in published:
            if not any(supports(g, claim) for g in gold_claims):
                score.false_claims.append(
                    f"{stem} {day}: {claim.kind} {claim.basis} for '{claim.purpose[:80]}'"
                )
        stated = published + [s for change in alerts for s in published_steps(change.summary)]
        score.found_claims += sum(
            1 for g in gold_claims if any(supports(g, claim) for claim in stated)
        )
        score.vague_titles += [f"{stem} {day}: {c.title}" for c in alerts if is_vague(c.title)]
    return score


def _score_in_tmp(stem: str) -> DocumentScore:
    with tempfile.TemporaryDirectory() as tmp:
        score, _ = score_document(stem, f"sqlite:///{Path(tmp) / 'eval.db'}")
    return DocumentScore(stem, score)


def evaluate(stems: Iterable[str] | None = None, jobs: int = 2) -> list[DocumentScore]:
    """Score every history with a gold file (or ``stems``), each replayed into its own
    temporary SQLite file, ``jobs`` histories at a time (longest first)."""
    todo = list(stems) if stems is not None else gold_documents()
    order = sorted(todo, key=lambda s: -archive_path(s).stat().st_size)
    if jobs <= 1:
        done = {s.document: s for s in map(_score_in_tmp, order)}
    else:
        with ProcessPoolExecutor(jobs) as pool:
            done = {s.document: s for s in pool.map(_score_in_tmp, order)}
    return [done[stem] for stem in todo]


def total(scores: Iterable[DocumentScore]) -> Score:
    out = Score()
    for s in scores:
        out.add(s.score)
    return out
