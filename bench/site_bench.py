"""Benchmark the static site: full and incremental publish, on real history and at scale.

    .venv/bin/python bench/site_bench.py                  # both, default sizes
    .venv/bin/python bench/site_bench.py --versions 120 --synthetic 2000

(a) The real recorded history of the Facebook Privacy Policy (demo/data, ODC-BY 1.0) is
replayed into a temporary SQLite database with the helpers the flow uses (normalised text,
``add_or_touch_version``, ``word_diff`` + ``ops_to_json``, ``classify``, ``add_change``);
all but the last version are published from scratch (full), republished with nothing new
(no news), then the last version arrives and is published again (incremental: one change).
(b) The same for 10,000 synthetic changes over 20 documents.
Only publishing is timed; building the databases is reported apart.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session  # noqa: E402

from changes.classify import classify  # noqa: E402
from changes.diff import diff_stats, ops_to_json, word_diff  # noqa: E402
from changes.extract import normalise_markdown, word_count  # noqa: E402
from config.documents import DocumentSpec  # noqa: E402
from demo.corpus import load_history  # noqa: E402
from feeds.publish import PublishResult, publish  # noqa: E402
from storage.db import open_db  # noqa: E402
from storage.history import add_change, add_or_touch_version, set_current  # noqa: E402
from storage.models import Change, Document, Version  # noqa: E402
from storage.repo import sync_documents  # noqa: E402

BASE = "https://example.org/policywatch/"
HISTORY = "facebook-privacy-policy-en"


@contextmanager
def timer(label: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    print(f"  {label}: {time.perf_counter() - started:.2f} s", flush=True)


def spec(doc_id: str, title: str, locale: str = "en_US") -> DocumentSpec:
    url = f"https://www.facebook.com/privacy/{doc_id}/"
    return DocumentSpec(doc_id, "Facebook", title, "policy", url, None, locale, "http", (), ())


def record(session: Session, doc_id: str, text: str, at: datetime) -> bool:
    """Store ``text`` as the document's next version the way the flow does; True if a change."""
    doc = session.get(Document, doc_id)
    assert doc is not None
    current: Version | None = doc.current_version
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if current is not None and current.text_hash == digest:
        current.last_seen = at
        return False
    from changes.dates import stated_date

    new = add_or_touch_version(
        session,
        doc_id,
        text,
        digest,
        word_count(text),
        at,
        None,
        "1",
        stated_date(text),
        "accepted",
    )
    set_current(session, doc_id, new.id)
    session.expire(doc, ["current_version"])
    if current is None:
        return False
    from storage.blobs import get_text

    old_text = get_text(session, current.text_blob)
    ops = word_diff(old_text, text)
    stats = diff_stats(ops)
    desc = classify(
        old_text,
        text,
        document=doc.title,
        lang=doc.locale,
        words_added=stats.words_added,
        words_removed=stats.words_removed,
    )
    add_change(
        session,
        doc_id,
        current.id,
        new.id,
        at,
        None,
        ops_to_json(ops),
        stats.words_added,
        stats.words_removed,
        desc.title,
        desc.categories,
        desc.summary,
    )
    return True


def measure(
    name: str,
    db_url: str,
    work: Path,
    last_step: Callable[[Session], None],
    targets: tuple[float, float] | None = None,
) -> None:
    """Full publish, publish with no news, then one new change and an incremental publish."""
    out = work / "public"
    sessions = open_db(db_url)

    def run(label: str) -> tuple[float, PublishResult]:
        with sessions() as session:
            started, cpu = time.perf_counter(), time.process_time()
            result = publish(session, out, BASE)
            took, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"  {label:<28} {took:6.2f} s ({cpu:5.2f} s CPU) {result.written:6d} files written, "
            f"{result.reused:6d} reused, {result.pages} pages, {result.changes} changes",
            flush=True,
        )
        return took, result

    full, _ = run("full (empty folder)")
    same, _ = run("no news (nothing changed)")
    with sessions.begin() as session:
        last_step(session)
    incremental, _ = run("incremental (one change)")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"  site size: {size / 1e6:.1f} MB")
    print(
        f"  {name}: full {full:.2f} s, incremental {incremental:.2f} s, "
        f"ratio full/incremental {full / incremental:.1f}x (no news: {same:.2f} s)"
    )
    if targets:
        print(
            f"  targets: full < {targets[0]} s ({full / targets[0]:.2f}x of it), "
            f"incremental < {targets[1]} s ({incremental / targets[1]:.2f}x of it)"
        )


def real_history(work: Path, limit: int | None) -> None:
    versions = load_history(HISTORY)[:limit]
    print(f"(a) real history: {len(versions)} recorded versions of {HISTORY} (ODC-BY 1.0)")
    db_url = f"sqlite:///{work / 'real.db'}"
    texts = [(v.recorded_at, normalise_markdown(v.text)) for v in versions]
    with timer("replaying into SQLite (diffing each change once)"):
        with open_db(db_url).begin() as session:
            sync_documents(session, [spec(HISTORY, "Facebook Privacy Policy")])
            changes = sum(record(session, HISTORY, text, at) for at, text in texts[:-1])
    print(f"  {changes} changes before the last version")

    def last(session: Session) -> None:
        at, text = texts[-1]
        if not record(session, HISTORY, text, at):  # the last one repeats: make it differ
            record(session, HISTORY, text + "\nA sentence added for the benchmark.\n", at)

    measure("real history", db_url, work / "real", last)


WORDS = (
    "we process information legal basis legitimate interests consent contract object "
    "right form settings artificial intelligence models train improve products people "
    "share content public posts data protection meta services provide personalise"
).split()
CATEGORIES = ("text", "dates", "legal-basis", "opt-out-links", "ai")


def synthetic_text(rng: random.Random, paragraphs: int = 40) -> list[str]:
    return [" ".join(rng.choice(WORDS) for _ in range(25)) + "." for _ in range(paragraphs)]


def synthetic(work: Path, total: int, reuse: Path | None = None, documents: int = 20) -> None:
    print(f"(b) synthetic: {total} changes over {documents} documents")
    rng = random.Random(5)
    db_url = f"sqlite:///{work / 'synthetic.db'}"
    start = datetime(2024, 1, 1, tzinfo=UTC)
    doc_ids = [f"doc-{i:02d}" for i in range(documents)]
    texts = {d: synthetic_text(rng) for d in doc_ids}

    def step(session: Session, n: int) -> None:
        doc_id = doc_ids[n % documents]
        paras = texts[doc_id]
        i = rng.randrange(len(paras))
        words = paras[i].split()
        words[rng.randrange(len(words) - 1)] = rng.choice(WORDS) + f"{n}"
        paras[i] = " ".join(words)
        record(session, doc_id, "\n\n".join(paras) + "\n", start + timedelta(minutes=10 * n))

    def classify(session: Session) -> None:
        """Give the changes categories and summaries like the classifier will."""
        from sqlalchemy import select

        from storage.models import Change

        for change in session.scalars(select(Change)):
            cats = ["text", *rng.sample(CATEGORIES[1:], rng.randrange(3))]
            change.categories = cats
            summary = dict(change.summary or {})
            if "legal-basis" in cats:
                summary["bases"] = [
                    {"purpose": "AI at Meta", "basis": "legitimate interests", "action": "added"}
                ]
            if "opt-out-links" in cats:
                url = f"https://www.facebook.com/help/contact/{change.id}"
                summary["links"] = {"added": [{"url": url, "text": "Object"}]}
            if "ai" in cats:
                summary["ai"] = True
            change.summary = summary

    if reuse is not None:  # a database an earlier run built (--keep): copy, don't rebuild
        shutil.copyfile(reuse, work / "synthetic.db")
        with open_db(db_url)() as session:
            total = session.query(Change).count()
        rng.seed(total)
        print(f"  reusing {reuse}: {total} changes")
    else:
        build_synthetic(db_url, total, doc_ids, texts, start, step, classify, rng)
    measure(
        "10k synthetic" if total >= 10_000 else "synthetic",
        db_url,
        work / "syn",
        lambda s: step(s, total),
        targets=(5.0, 0.5) if total >= 10_000 else None,
    )


def build_synthetic(
    db_url: str,
    total: int,
    doc_ids: list[str],
    texts: dict[str, list[str]],
    start: datetime,
    step: Callable[[Session, int], None],
    classify: Callable[[Session], None],
    rng: random.Random,
) -> None:
    with timer(f"building {total} changes in SQLite"):
        with open_db(db_url).begin() as session:
            sync_documents(session, [spec(d, f"Synthetic policy {d}") for d in doc_ids])
            for d in doc_ids:
                record(session, d, "\n\n".join(texts[d]) + "\n", start - timedelta(days=1))
            for n in range(total - 1):
                step(session, n)
            classify(session)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--versions", type=int, default=None, help="real versions to replay (default: all)"
    )
    parser.add_argument("--synthetic", type=int, default=10_000, help="synthetic changes")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--skip-synthetic", action="store_true")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the sites")
    parser.add_argument(
        "--db", type=Path, help="reuse the synthetic.db a --keep run left (skips building it)"
    )
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="policywatch-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if not args.skip_real:
            real_history(work, args.versions)
        if not args.skip_synthetic:
            synthetic(work, args.synthetic, args.db)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
