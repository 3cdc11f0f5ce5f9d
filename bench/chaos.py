"""Chaos: kill `policywatch crawl` at random points, many times; count what was lost or doubled.

Run: ``python bench/chaos.py [--runs N] [--seed S] [--keep DIR] [--cli]`` (N >= 50 for the
figures in the README). By default each run is ``python bench/chaos.py --child``: one run of
the pipeline's steps (``pipeline.runs``, the spider subprocess, ``pipeline.derive``) without
Prefect, a few seconds each; ``--cli`` runs the whole ``policywatch crawl`` instead (Prefect
flow, publish), slower but the command itself. Everything runs on this machine: the local
stand-in for Meta serves real recorded pages (the Facebook privacy policy in English and
French, WhatsApp's privacy policy, demo/data) and moves each, between runs, to its next
recorded version at random.

Each of the N runs is a real process, killed at a random moment with
``kill -9`` or SIGTERM (or left alone, one time in five); every tenth run is two crawls at
once. After a kill, the processes it started must be gone, and a clean crawl follows; the
time from the kill until that crawl has finished is the time to recover. At the end the
database is compared with a re-derivation of every stored body (pipeline.audit): the
transitions lost and stored twice (targets: 0 and 0).
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")

from demo.corpus import load_history  # noqa: E402
from demo.pages import meta_page  # noqa: E402
from demo.server import FakeMeta, Reply  # noqa: E402
from pipeline.audit import audit  # noqa: E402

POLICYWATCH = Path(sys.executable).with_name("policywatch")
HISTORIES = {
    "fb-privacy": "facebook-privacy-policy-en",
    "fb-privacy-fr": "facebook-privacy-policy-fr",
    "wa-privacy": "whatsapp-privacy-policy-en",
}


def sources_toml(site: FakeMeta) -> str:
    lines = ["[crawl]", "download_delay = 0.0", "timeout = 20.0", ""]
    for doc in HISTORIES:
        lines += [
            "[[document]]",
            f'id = "{doc}"',
            'service = "Meta"',
            f'title = "{doc}"',
            'kind = "policy"',
            f'url = "{site.url("/" + doc)}"',
            'select = ["#root"]',
            "",
        ]
    return "\n".join(lines)


class Pages:
    """Each document walks through its recorded versions (distinct texts only)."""

    def __init__(self, site: FakeMeta, rng: random.Random) -> None:
        self.site, self.rng = site, rng
        self.texts: dict[str, list[str]] = {}
        for doc, name in HISTORIES.items():
            texts: list[str] = []
            for version in load_history(name):
                if not texts or version.text != texts[-1]:
                    texts.append(version.text)
            self.texts[doc] = texts
        self.at = dict.fromkeys(HISTORIES, 0)
        for doc in HISTORIES:
            self.serve(doc)

    def serve(self, doc: str) -> None:
        page = meta_page(self.texts[doc][self.at[doc] % len(self.texts[doc])])
        delay = self.rng.uniform(0.0, 1.5)  # spreads the moments a kill can land on
        self.site.set("/" + doc, Reply(200, page.encode("utf-8"), delay=delay))

    def move(self) -> int:
        moved = 0
        for doc in HISTORIES:
            if self.rng.random() < 0.5:
                self.at[doc] += 1
                moved += 1
            self.serve(doc)
        return moved


def descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def child(db: str, sources: Path) -> int:
    """One run of the pipeline's steps, as a crawl runs them, without Prefect."""
    from config.run import RunConfig
    from config.sources import load_sources
    from pipeline import derive, runs, spider_process
    from pipeline.processes import Terminated, stop_on_signals

    cfg = RunConfig(db_url=db, sources_path=str(sources))
    try:
        with stop_on_signals(), runs.run(db, "chaos", load_sources(sources).documents) as run:
            spider_process.crawl(cfg, run.id)
            run.counts = derive.derive_versions(cfg, run.id)
    except Terminated as exc:
        return exc.exit_code
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="killed runs (default 50)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="keep the database and logs in this folder")
    parser.add_argument("--cli", action="store_true", help="run `policywatch crawl` each time")
    parser.add_argument("--child", nargs=2, metavar=("DB", "SOURCES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], Path(args.child[1]))
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    from pipeline.processes import Terminated, stop_on_signals

    try:
        with stop_on_signals():
            return bench(args)
    except Terminated as exc:
        print(f"chaos: {exc}", file=sys.stderr)
        return exc.exit_code


def bench(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    from prefect.settings import get_current_settings
    from prefect.testing.utilities import prefect_test_harness

    work = args.keep or Path(tempfile.mkdtemp(prefix="pw-chaos-"))
    work.mkdir(parents=True, exist_ok=True)
    db = f"sqlite:///{work / 'chaos.db'}"
    started = time.monotonic()
    mode = "policywatch crawl" if args.cli else "pipeline steps without Prefect"
    print(f"chaos: {args.runs} runs ({mode}), seed {args.seed}, in {work}", flush=True)
    harness = prefect_test_harness(server_startup_timeout=180) if args.cli else nullcontext()
    running: list[subprocess.Popen[bytes]] = []
    with harness, FakeMeta() as site:
        env = dict(os.environ)
        if args.cli:
            env["PREFECT_API_URL"] = str(get_current_settings().api.url)
        sources = work / "sources.toml"
        sources.write_text(sources_toml(site), encoding="utf-8")
        pages = Pages(site, rng)
        log = (work / "runs.log").open("ab")

        def crawl() -> subprocess.Popen[bytes]:
            if args.cli:
                cmd = [str(POLICYWATCH), "crawl", "--db", db, "--sources", str(sources)]
                cmd += ["--out", str(work / "public"), "--json"]
            else:
                cmd = [sys.executable, __file__, "--child", db, str(sources)]
            proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=env)
            running.append(proc)
            return proc

        try:
            figures = _chaos(args, rng, crawl, pages)
        finally:  # stopped early: no crawl of ours is left behind
            for proc in running:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            log.close()
        kills, recover, orphans, failed = figures
        report = audit(db, str(sources))
    return _print(args, report, kills, recover, orphans, failed, time.monotonic() - started)


def _chaos(
    args: argparse.Namespace, rng: random.Random, crawl: Any, pages: Pages
) -> tuple[dict[str, int], list[float], int, int]:
    """The N runs; the kills by kind, the recovery times, orphans found, clean runs failed."""
    first = crawl()  # the first versions, unharmed
    first.wait()
    kills = {"kill -9": 0, "SIGTERM": 0, "none": 0, "two at once": 0}
    recover: list[float] = []
    orphans = failed = 0
    for n in range(1, args.runs + 1):
        if n % 5 == 0:
            print(f"  run {n}/{args.runs}: {dict(kills)}", flush=True)
        pages.move()
        if n % 10 == 0:
            pair = [crawl(), crawl()]
            failed += sum(p.wait() != 0 for p in pair)
            kills["two at once"] += 1
            continue
        proc = crawl()
        mode = rng.choices(["kill -9", "SIGTERM", "none"], [0.45, 0.35, 0.2])[0]
        moment = rng.uniform(0.5, 9.0)
        deadline = time.monotonic() + moment
        below: set[int] = set()
        while time.monotonic() < deadline and proc.poll() is None:
            below |= descendants(proc.pid)
            time.sleep(0.05)
        if mode == "none" or proc.poll() is not None:
            failed += proc.wait() != 0
            kills["none"] += 1
            continue
        below |= descendants(proc.pid)
        os.kill(proc.pid, signal.SIGKILL if mode == "kill -9" else signal.SIGTERM)
        killed_at = time.monotonic()
        kills[mode] += 1
        proc.wait()
        grace = time.monotonic() + 10
        while any(alive(p) for p in below) and time.monotonic() < grace:
            time.sleep(0.1)
        orphans += sum(alive(p) for p in below)
        for p in below:  # never leave one behind, even if the bench finds one
            if alive(p):
                os.kill(p, signal.SIGKILL)
        again = crawl()
        failed += again.wait() != 0
        recover.append(time.monotonic() - killed_at)
    last = crawl()  # one clean run at the end: every fetch derived
    failed += last.wait() != 0
    return kills, recover, orphans, failed


def _print(
    args: argparse.Namespace,
    report: Any,
    kills: dict[str, int],
    recover: list[float],
    orphans: int,
    failed: int,
    seconds: float,
) -> int:
    print()
    print(f"runs: {args.runs} ({', '.join(f'{k}: {v}' for k, v in kills.items())})")
    print(f"transitions expected (re-derived from stored bodies): {report.expected}")
    print(f"transitions stored: {report.stored}")
    print(f"lost: {len(report.lost)}")
    print(f"duplicated: {len(report.duplicated)}")
    print(f"out of order: {len(report.out_of_order)}; fetches left unprocessed: "
          f"{report.unprocessed}; runs left running: {report.running}")  # fmt: skip
    print(f"orphan processes after a kill: {orphans}; clean runs that failed: {failed}")
    if recover:
        print(
            f"time to recover (kill -> next run finished): median {statistics.median(recover):.1f}"
            f" s, max {max(recover):.1f} s over {len(recover)} kills"
        )
    print(f"total {seconds:.0f} s")
    return 0 if report.ok and not orphans and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
