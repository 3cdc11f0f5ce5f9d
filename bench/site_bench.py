"""Benchmark the static site: full and incremental publish, on real history and at scale.

    .venv/bin/python bench/site_bench.py                  # both, default sizes
    .venv/bin/python bench/site_bench.py --versions 120 --synthetic 2000
    .venv/bin/python bench/site_bench.py --skip-real --db DIR/synthetic.db --compare OLD
        # OLD: another checkout (git worktree add OLD main): its code, then this one's,
        # on the same database, one after the other; prints new / old
        # (--rounds 3: each side three times, the order alternating; the medians)

(a) The real recorded history of the Facebook Privacy Policy (demo/data, ODC-BY 1.0) is
replayed into a temporary SQLite database with the helpers the flow uses (normalised text,
``add_or_touch_version``, ``word_diff`` + ``ops_to_json``, ``classify``, ``add_change``);
all but the last version are published from scratch (full), republished with nothing new
(no news), then the last version arrives and is published again (incremental: one change).
(b) The same for 10,000 synthetic changes over 20 documents (building them takes minutes:
``--keep DIR`` keeps the database, ``--db DIR/synthetic.db`` reuses it from another run).
Only publishing is timed (wall, and CPU seconds of the process and of the workers a full
build forks, feeds/parallel.py); building the databases is reported apart. An incremental
publish runs twice: the second one's sweep removes a whole older generation.

Baselines, measured in the same run on the same tree: hard-linking every file of the site
(``cp -al``: what a new generation holding a link to every file costs, as generations did
before the pages of changes and versions went into shared buckets) and copying it. The
ratios printed are full / copy, incremental / hard-link, and both against the targets
(full < 5 s, incremental < 0.5 s at 10,000 changes). Profile a run with the ``bench``
extra's py-spy: ``.venv/bin/py-spy record -f raw -o prof.txt -- .venv/bin/python
bench/site_bench.py --skip-real --db ...``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _code_root() -> Path:
    """The checkout whose code is measured: ``--code DIR`` (given by ``--compare``), else
    this one."""
    for i, arg in enumerate(sys.argv):
        if arg.startswith("--code="):
            return Path(arg.partition("=")[2])
        if arg == "--code" and i + 1 < len(sys.argv):
            return Path(sys.argv[i + 1])
    return ROOT


sys.path.insert(0, str(_code_root()))

from sqlalchemy.orm import Session  # noqa: E402

from changes.classify import classify  # noqa: E402
from changes.diff import diff_stats, ops_to_json, word_diff  # noqa: E402
from changes.extract import normalise_markdown, word_count  # noqa: E402
from config.documents import DocumentSpec  # noqa: E402
from demo.corpus import load_history  # noqa: E402
from feeds.atomic import site_files, wait_for_sweeps  # noqa: E402
from feeds.publish import PublishResult, publish  # noqa: E402
from storage.db import open_db  # noqa: E402
from storage.history import add_change, add_or_touch_version, set_current  # noqa: E402
from storage.models import Change, Document, Version  # noqa: E402
from storage.repo import sync_documents  # noqa: E402

BASE = "https://example.org/policywatch/"
RESULTS: dict[str, dict[str, float]] = {}  # by measurement: seconds, wall and CPU
RESULT_LINE = "site_bench result: "
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


def _place_tree(files: dict[str, Path], dst: Path, place: Callable[[Path, Path], object]) -> int:
    """Put every file of the site into a new ``dst`` with ``place(source, target)``."""
    made: set[Path] = set()
    for rel, path in files.items():
        target = dst / rel
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        place(path, target)
    return len(files)


def link_tree(files: dict[str, Path], dst: Path) -> int:
    """Hard-link every file of the site (``site_files``: the pages of changes and versions
    through their buckets) into a new ``dst``, as ``cp -al`` of a plain tree would: what a
    new generation holding a link to every file costs. Returns the files linked."""
    return _place_tree(files, dst, os.link)


def copy_tree(files: dict[str, Path], dst: Path) -> None:
    """Copy every file of the site into a new ``dst``."""
    _place_tree(files, dst, shutil.copy2)


def baselines(site: Path, work: Path) -> tuple[float, float]:
    """Seconds to hard-link every file of the live site and to copy it, in this same run.

    The two trees stay in ``work``, removed with it at the end of the bench: removing
    their 60,000 files here slowed down the next full build measured (see
    :func:`compare`), that of the other side of a ``--compare``."""
    tree = site_files(site)
    started = time.perf_counter()
    files = link_tree(tree, work / "baseline-links")
    linked = time.perf_counter() - started
    started = time.perf_counter()
    copy_tree(tree, work / "baseline-copy")
    copied = time.perf_counter() - started
    print(
        f"  baseline, same machine now: hard-link the tree ({files} files) {linked:.2f} s, "
        f"copy it {copied:.2f} s",
        flush=True,
    )
    return linked, copied


def measure(
    name: str,
    db_url: str,
    work: Path,
    last_step: Callable[[Session, int], None],
    targets: tuple[float, float] | None = None,
) -> None:
    """Full publish, publish with no news, then one new change and an incremental publish,
    twice (the second one's sweep removes a whole generation: the steady state).

    Times are until ``publish`` returns (the new site is live); the sweep of old
    generations runs in a background thread after that and is shown apart ("+ sweep")."""
    out = work / "public"
    sessions = open_db(db_url)
    cpus: dict[str, float] = {}

    def run(label: str) -> tuple[float, PublishResult]:
        with sessions() as session:
            started, before = time.perf_counter(), os.times()
            result = publish(session, out, BASE)
            took, after = time.perf_counter() - started, os.times()
        cpu = after.user + after.system - before.user - before.system
        workers = (
            after.children_user
            + after.children_system
            - before.children_user
            - before.children_system
        )
        # the kernel's share: file creation is where a busy or freshly emptied disk shows
        system = after.system + after.children_system - before.system - before.children_system
        cpus[label] = cpu + workers
        started = time.perf_counter()
        wait_for_sweeps()
        swept = time.perf_counter() - started
        print(
            f"  {label:<28} {took:6.2f} s ({cpu:5.2f} s CPU + {workers:5.2f} s in workers, "
            f"{system:5.2f} s of it system, + sweep {swept:4.2f} s) "
            f"{result.written:6d} files written, {result.reused:6d} reused, "
            f"{result.pages} pages, {result.changes} changes",
            flush=True,
        )
        return took, result

    full, _ = run("full (empty folder)")
    same, _ = run("no news (nothing changed)")
    incremental = []
    for n in range(2):
        with sessions.begin() as session:
            last_step(session, n)
        took, _ = run(f"incremental (one change) #{n + 1}")
        incremental.append(took)
    labels = list(cpus)
    RESULTS[name] = {
        "full": full,
        "full CPU": cpus[labels[0]],
        "no news": same,
        "no news CPU": cpus[labels[1]],
        "incremental": max(incremental),
        "incremental CPU": max(cpus[labels[2]], cpus[labels[3]]),
    }
    size = sum(p.stat().st_size for p in site_files(out).values())
    print(f"  site size: {size / 1e6:.1f} MB")
    linked, copied = baselines(out, work)
    worst = max(incremental)
    print(
        f"  {name}: full {full:.2f} s, incremental {worst:.2f} s (the slower of two), "
        f"ratio full/incremental {full / worst:.1f}x (no news: {same:.2f} s)"
    )
    print(
        f"  against the baselines: full = {full / copied:.2f}x copying the tree, "
        f"incremental = {worst / linked:.2f}x hard-linking it"
    )
    if targets:
        print(
            f"  targets: full < {targets[0]} s ({full / targets[0]:.2f}x of it), "
            f"incremental < {targets[1]} s ({worst / targets[1]:.2f}x of it)"
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

    def last(session: Session, n: int) -> None:
        at, text = texts[-1]
        if n or not record(session, HISTORY, text, at):  # it repeats: make it differ
            added = f"\nA sentence added for the benchmark ({n}).\n"
            record(session, HISTORY, text + added, at + timedelta(hours=n))

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
        blobs = reuse.with_name(reuse.name + ".blobs")  # the texts and diffs it refers to
        if blobs.is_dir():
            shutil.copytree(blobs, work / "synthetic.db.blobs", copy_function=os.link)
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
        lambda s, n: step(s, total + n),
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
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="CHECKOUT",
        help="also run the same measurements with the code of another checkout (e.g. a "
        "`git worktree add /tmp/before main`), one after the other, and print new / old",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with --compare: run each side this many times, the order alternating, and "
        "print the medians' ratios",
    )
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)  # run this checkout's
    args = parser.parse_args()
    if args.compare is not None:
        compare(args)
        return
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
    print(RESULT_LINE + json.dumps(RESULTS), flush=True)


def compare(args: argparse.Namespace) -> None:
    """Run this bench with the code of ``args.compare`` and with this checkout's, one after
    the other, in fresh processes on the same databases; print the ratios new / old."""
    checkout = args.compare.resolve()
    if not (checkout / "feeds" / "publish.py").is_file():
        print(f"--compare {checkout}: not a policywatch checkout", file=sys.stderr)
        sys.exit(2)
    same = [f"--synthetic={args.synthetic}"]
    same += [flag for flag, on in (("--skip-real", args.skip_real),) if on]
    same += [flag for flag, on in (("--skip-synthetic", args.skip_synthetic),) if on]
    if args.versions is not None:
        same.append(f"--versions={args.versions}")
    if args.db is not None:
        same.append(f"--db={args.db.resolve()}")
    runs: dict[str, list[dict[str, dict[str, float]]]] = {"old": [], "new": []}
    # Each side's folders are removed after all ran, not between: on ext4 without a
    # journal (these machines), a new inode skips those freed in the last minutes
    # (``recently_deleted``), so files made right after tens of thousands were removed
    # cost several times more, and the next side would pay for the last one's clean-up.
    # With --rounds, the order alternates (old new, new old, ...): whatever the machine
    # does meanwhile falls on both sides.
    kept = Path(tempfile.mkdtemp(prefix="policywatch-bench-compare-"))
    try:
        for n in range(args.rounds):
            order = [("old", checkout), ("new", ROOT)]
            for side, code in order if n % 2 == 0 else order[::-1]:
                print(f"== {side} code, round {n + 1}: {code}", flush=True)
                runs[side].append(_run_side(same, code, kept / f"{side}-{n + 1}"))
    finally:
        shutil.rmtree(kept, ignore_errors=True)
    rounds = f"median of {args.rounds} rounds, " if args.rounds > 1 else ""
    print(f"== new / old ({rounds}same machine; wall and CPU seconds incl. workers)")
    for name, new in _medians(runs["new"]).items():
        old = _medians(runs["old"]).get(name, {})
        cells = [
            f"{what} {old[what]:.2f} -> {value:.2f} ({value / old[what]:.2f}x)"
            for what, value in new.items()
            if old.get(what)
        ]
        print(f"  {name}: " + "; ".join(cells))


def _run_side(same: list[str], code: Path, keep: Path) -> dict[str, dict[str, float]]:
    """This bench with the code of ``code`` in a fresh process, its sites kept in ``keep``:
    its results (RESULTS) as it printed them."""
    command = [sys.executable, str(Path(__file__).resolve()), *same, f"--code={code}"]
    command.append(f"--keep={keep}")
    lines = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    if child.returncode:
        sys.exit(child.returncode)
    found = [ln for ln in lines if ln.startswith(RESULT_LINE)]
    result: dict[str, dict[str, float]] = json.loads(found[-1][len(RESULT_LINE) :]) if found else {}
    return result


def _medians(runs: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Each measurement's median over the runs of one side (the lower middle of an even
    number of runs)."""
    found: dict[str, dict[str, float]] = {}
    for name in runs[0] if runs else {}:
        for what in runs[0][name]:
            values = sorted(run[name][what] for run in runs if what in run.get(name, {}))
            found.setdefault(name, {})[what] = values[(len(values) - 1) // 2]
    return found


if __name__ == "__main__":
    main()
