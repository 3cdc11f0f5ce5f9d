"""Scale: parallel derive against a serial one, and two runs at once against one run.

Run: ``python bench/scale.py [--pages 50,200,1000] [--docs 10,100] [--workers 1,2,4]
[--runners thread,process] [--words 1500] [--only recheck,derive,overlap]``; on PostgreSQL
as well:
``bash scripts/install-postgres.sh .venv/bin/python bench/scale.py``
(POLICYWATCH_TEST_DB names the server; each case gets a database of its own, dropped after).

Everything runs on this machine: a local stand-in for Meta serves N policy-sized pages
(``--words`` each), and one real Prefect server (``prefect server start``, started here) is
shared by every run, as several serve processes or workers share one.

0. **Re-check of N unchanged real-size pages** (``--pages``; issue #14, target 4): the
   local server of bench/compare_peers.py serves N copies of the recorded Facebook policy
   page (about 254 KB, every link's token drawn anew per request); the pages are recorded
   and published once (and their slot limits made, as an installation does once), then
   each case re-checks them from a copy of that database and site: the baseline runs the
   monitor flow's steps one after the other without Prefect (crawl, derive, retention,
   source health, link checks, publish, notify), then the monitor flow runs with 1, 2, 4...
   threads on its task runner (``crawl_and_derive``: the crawl task takes one of them, the
   derive batches the others, meanwhile). Printed: seconds, pages/s, ms per page, the
   ratio against the baseline, the derive's ms per page (time inside
   ``derive_one_document``, summed over threads, divided by N) and the load average.
1. **Derive**: each of the N pages is crawled and derived once, then edited and crawled
   again (fetch only), once per N; every case starts from a copy of that database (a file
   copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL). Deriving those N fetches
   (a diff and a classification each) is timed serially (``pipeline.derive.derive_versions``,
   no Prefect: the baseline) and on the monitor flow's task runner with 1, 2, 4... threads or
   processes (``flows.monitor.derive_all``: documents in batches, one task per batch holding
   its documents' Prefect slots). The documents' slot limits are made before the first case
   (a one-time cost of a new installation, printed apart). Printed: seconds, documents/s, ms
   per document, the ratio against the baseline, the same with the flow run's own start and
   end (``flow s``: what a flow made only to derive costs), and whether the stored changes
   are the baseline's (text transitions compared). Every case starts with the project's
   in-process caches empty, as a run's new process does. The serial case runs first and again
   last: on a shared machine, the difference between the two is the noise to read into.
2. **Two runs at once**: after an edit of every page, one ``policywatch crawl`` (the
   baseline), then after the next edit two ``policywatch crawl`` started together, all on
   the shared Prefect server. Printed: wall time against the single run, changes stored
   (target: N, one per document), and the audit of the database against a serial
   re-derivation of every stored body (``pipeline.audit``): transitions lost and stored
   twice (targets 0 and 0).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
os.environ.setdefault("DO_NOT_TRACK", "1")

import httpx  # noqa: E402

from config.run import RunConfig, tracked_documents  # noqa: E402
from demo.server import FakeMeta  # noqa: E402

BIN = Path(sys.executable).parent
VOCABULARY = (
    "we collect use share information data account device location partners advertising "
    "services products content messages contacts settings choices request access delete "
    "retain protect security law authorities research safety integrity features improve"
).split()


def policy_page(doc: int, words: int, edition: int) -> str:
    """A policy-sized page: ``words`` words in paragraphs, one sentence per edition."""
    body = []
    for p in range(words // 60):
        text = " ".join(VOCABULARY[(doc * 7 + p * 13 + i) % len(VOCABULARY)] for i in range(60))
        body.append(f"<p>{text}.</p>")
    edits = [
        "We use your information to show you ads.",
        "We use your information to show you ads and to train AI at Meta.",
        "We use your information to show you ads; our legal basis is legitimate interests.",
        "We no longer use your information to show you ads.",
    ]
    body.insert(len(body) // 2, f"<p>{edits[edition % len(edits)]}</p>")
    nav = "<nav><a href='/'>Home</a> <a href='/help'>Help</a></nav>"
    return (
        f"<html><head><title>Policy {doc}</title></head><body>{nav}"
        f"<div id='root'><h1>Policy {doc}</h1>{''.join(body)}</div></body></html>"
    )


def write_sources(path: Path, site: FakeMeta, n: int) -> Path:
    lines = ["[crawl]", "download_delay = 0.0", "timeout = 30.0", "min_words = 30", ""]
    for i in range(n):
        lines += [
            "[[document]]",
            f'id = "policy-{i}"',
            'service = "Meta"',
            f'title = "Policy {i}"',
            'kind = "policy"',
            f'url = "{site.url(f"/policy-{i}")}"',
            'select = ["#root"]',
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def serve_edition(site: FakeMeta, n: int, words: int, edition: int) -> None:
    for i in range(n):
        site.page(f"/policy-{i}", policy_page(i, words, edition))


def is_postgresql() -> bool:
    return os.environ.get("POLICYWATCH_TEST_DB", "").startswith("postgresql")


@contextmanager
def database(folder: Path, name: str, template: str | None = None) -> Iterator[str]:
    """A new database: a SQLite file, or one on the POLICYWATCH_TEST_DB server (dropped);
    a copy of ``template`` (a database of the same kind, nobody connected) if given."""
    if not is_postgresql():
        path = folder / (name + ".db")
        if template is not None:  # the database file and its blob folder (storage.blobstore)
            source = template.removeprefix("sqlite:///")
            shutil.copyfile(source, path)
            if Path(source + ".blobs").is_dir():
                shutil.copytree(source + ".blobs", str(path) + ".blobs")
        try:
            yield f"sqlite:///{path}"
        finally:
            from storage.db import close_db

            close_db(f"sqlite:///{path}")
            if template is not None:  # a copy: gone once timed (the disk is shared)
                path.unlink(missing_ok=True)
                shutil.rmtree(str(path) + ".blobs", ignore_errors=True)
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from storage.db import close_db

    server = make_url(os.environ["POLICYWATCH_TEST_DB"])
    db = f"pw_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"{copy}'))
    url = server.set(database=db).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        close_db(url)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def prefect_server(folder: Path) -> Iterator[dict[str, str]]:
    """A real Prefect server for the whole bench; the environment that points at it."""
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(folder / "prefect-home")}
    env.pop("PREFECT_API_URL", None)
    log = (folder / "prefect-server.log").open("w")
    cmd = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{api}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit(f"the Prefect server did not start: see {log.name}")
            time.sleep(0.5)
        yield {**env, "PREFECT_API_URL": api}
    finally:
        server.terminate()
        try:
            server.wait(60)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def transitions(db_url: str) -> dict[str, list[tuple[str, str | None, str]]]:
    from pipeline.audit import transitions as of
    from storage.db import open_db

    with open_db(db_url)() as session:
        return of(session)


def fetch_only(cfg: RunConfig) -> None:
    from pipeline import runs, spider_process

    run_id = runs.start(cfg.db_url, "bench", tracked_documents(cfg))
    spider_process.crawl(cfg, run_id)


@contextmanager
def edited(folder: Path, site: FakeMeta, n: int, words: int) -> Iterator[RunConfig]:
    """A database where N pages were crawled and derived, then edited and crawled again
    (fetch only): N fetches to derive. Closed (no connection left) when yielded."""
    from pipeline import derive
    from storage.db import close_db

    sources = write_sources(folder / f"sources-{n}.toml", site, n)
    with database(folder, f"edited-{n}") as url:
        cfg = RunConfig(db_url=url, sources_path=str(sources))
        serve_edition(site, n, words, 0)
        fetch_only(cfg)
        derive.derive_versions(cfg, None)
        serve_edition(site, n, words, 1)
        fetch_only(cfg)
        close_db(url)
        yield cfg


def cold_caches() -> None:
    """Empty the in-process caches of the project (the classifier's and the diff's per-line
    ``lru_cache``s): every case starts as a run's new process does, not warmed by the case
    before it (a process pool's workers start cold anyway)."""
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in ("changes", "pipeline", "storage", "config"):
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


def make_limits(n: int, prefix: str = "policy-") -> float:
    """Seconds to make the N documents' slot limits on the Prefect server (once ever)."""
    from flows import slots

    started = time.perf_counter()
    slots.ensure_limits([slots.limit_name(f"{prefix}{i}") for i in range(n)])
    return time.perf_counter() - started


def derive_case(
    folder: Path, edited_cfg: RunConfig, label: str, runner: str | None, workers: int
) -> tuple[float, float, dict[str, int], Any]:
    """Seconds to derive the N edited pages of a copy of ``edited_cfg``'s database (serially
    if ``runner`` is None; else on a ``thread`` or ``process`` task runner of ``workers``,
    timed inside the running flow as the monitor flow's derive step), seconds with the flow
    run's own start and end, the counts, and the transitions stored."""
    from dataclasses import replace

    from prefect import flow
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

    from flows.monitor import derive_all
    from pipeline import derive

    task_runner: Any = (
        ProcessPoolTaskRunner(max_workers=workers)
        if runner == "process"
        else ThreadPoolTaskRunner(max_workers=workers)
    )

    @flow(name="bench-derive", task_runner=task_runner)
    def derive_on_task_runner(cfg: RunConfig) -> tuple[float, dict[str, int]]:
        started = time.perf_counter()  # the flow is running: what its derive step costs
        counts = derive_all(cfg, None, workers=workers)
        return time.perf_counter() - started, counts

    with database(folder, label, template=edited_cfg.db_url) as url:
        cfg = replace(edited_cfg, db_url=url)
        cold_caches()
        started = time.perf_counter()
        if runner is None:
            counts = derive.derive_versions(cfg, None)
            seconds = time.perf_counter() - started
        else:
            seconds, counts = derive_on_task_runner(cfg)
        whole = time.perf_counter() - started
        return seconds, whole, counts, transitions(url)


class DeriveClock:
    """Seconds spent inside ``derive_one_document`` (all threads), while installed."""

    def __init__(self) -> None:
        import threading

        self.seconds = 0.0
        self._lock = threading.Lock()

    @contextmanager
    def installed(self) -> Iterator[None]:
        from pipeline import derive

        real = derive.derive_one_document

        def timed(cfg: RunConfig, run_id: int | None, document_id: str) -> dict[str, int]:
            started = time.perf_counter()
            try:
                return real(cfg, run_id, document_id)
            finally:
                with self._lock:
                    self.seconds += time.perf_counter() - started

        derive.derive_one_document = timed  # type: ignore[assignment]
        try:
            yield
        finally:
            derive.derive_one_document = real  # type: ignore[assignment]


def serial_steps(cfg: RunConfig) -> dict[str, int]:
    """The monitor flow's steps one after the other in this process, without Prefect: the
    crawl, then deriving, retention, source health, link checks, publishing and notifying."""
    from config.run import sources_of
    from notify.deliver import notify_step
    from pipeline import derive, link_checks, publishing, retention, source_health, spider_process
    from pipeline.runs import run

    with run(cfg.db_url, "bench", tracked_documents(cfg)) as current:
        counts = current.counts
        counts["fetched"] = spider_process.crawl(cfg, current.id)
        derive_started = time.perf_counter()
        counts.update(derive.derive_versions(cfg, current.id))
        counts["derive_seconds"] = time.perf_counter() - derive_started  # type: ignore[assignment]
        counts["bodies_dropped"] = retention.drop_unchanged_bodies(cfg, current.id)
        counts["source_alerts"] = source_health.source_health(cfg, current.id)
        counts.update(link_checks.check_links(cfg, current.id))
        publishing.publish(cfg)
        counts.update(notify_step(cfg.db_url, sources_of(cfg).notify, cfg.base_url, current.id))
    return counts


def recheck_case(
    folder: Path, recorded: RunConfig, label: str, workers: int | None
) -> dict[str, Any]:
    """One re-check of the recorded pages from a copy of their database: the flow's steps
    one after the other without Prefect (``workers`` None), or the monitor flow on
    ``workers`` threads; each publishes to a copy of the recorded site."""
    from dataclasses import replace

    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.monitor import monitor

    with database(folder, label, template=recorded.db_url) as url:
        out = folder / f"out-{label}"
        shutil.copytree(recorded.out_dir, out, symlinks=True)
        cfg = replace(recorded, db_url=url, out_dir=str(out))
        cold_caches()
        clock = DeriveClock()
        started = time.perf_counter()
        with clock.installed():
            if workers is None:
                counts = serial_steps(cfg)
                clock.seconds = counts.pop("derive_seconds")
            else:
                flow = monitor.with_options(task_runner=ThreadPoolTaskRunner(max_workers=workers))
                counts = flow(db=url, sources=cfg.sources_path, out=cfg.out_dir)
        seconds = time.perf_counter() - started
        shutil.rmtree(out, ignore_errors=True)
    return {"seconds": seconds, "derive": clock.seconds, "counts": counts}


def recheck(folder: Path, sizes: list[int], workers: list[int]) -> None:
    """Part 0 (see the module's doc)."""
    from compare_peers import PAGE, RotatingServer, write_sources

    from demo.corpus import load_html
    from pipeline import derive, publishing, runs, spider_process

    server = RotatingServer(load_html(PAGE))
    print(f"\nre-check of N unchanged pages ({PAGE}, {server.tokens} rotating link tokens)")
    print(f"{'N':>5} {'case':>10} {'s':>7} {'pages/s':>7} {'ms/page':>7} {'x base':>7} "
          f"{'derive ms/page':>14} {'same':>5}  load")  # fmt: skip
    for n in sizes:
        sources = write_sources(folder / f"recheck-{n}.toml", server, n, timeout=60.0)
        with database(folder, f"recorded-{n}") as url:
            cfg = RunConfig(db_url=url, sources_path=str(sources), out_dir=str(folder / "out"))
            started = time.perf_counter()
            run_id = runs.start(url, "bench", tracked_documents(cfg))
            spider_process.crawl(cfg, run_id)
            derive.derive_versions(cfg, run_id)
            publishing.publish(cfg)
            from storage.db import close_db

            close_db(url)
            print(f"{n:>5} (recording and publishing the pages first took "
                  f"{time.perf_counter() - started:.1f} s; making their {n} slot limits, "
                  f"once per installation, {make_limits(n, 'page-'):.1f} s)")  # fmt: skip
            cases: list[tuple[str, int | None]] = [("serial", None)]
            cases += [(f"{k} thr", k) for k in workers]
            base = None
            for label, k in cases:
                r = recheck_case(folder, cfg, f"recheck-{n}-{label.replace(' ', '')}", k)
                base = base or r["seconds"]
                same = r["counts"].get("same", 0) == n and not r["counts"].get("changes")
                load = " ".join(f"{x:.1f}" for x in os.getloadavg())
                print(f"{n:>5} {label:>10} {r['seconds']:>7.2f} {n / r['seconds']:>7.1f} "
                      f"{1000 * r['seconds'] / n:>7.1f} {base / r['seconds']:>7.2f} "
                      f"{1000 * r['derive'] / n:>14.1f} {'yes' if same else 'NO':>5}  {load}",
                      flush=True)  # fmt: skip


def crawl(env: dict[str, str], url: str, sources: Path, out: Path) -> subprocess.Popen[str]:
    cmd = [str(BIN / "policywatch"), "crawl", "--json", "--db", url]
    cmd += ["--sources", str(sources), "--out", str(out)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> None:
    out, err = proc.communicate(timeout=1800)
    if proc.returncode != 0:
        raise SystemExit(f"policywatch crawl failed ({proc.returncode}):\n{err[-3000:]}")


def overlap_case(
    folder: Path, env: dict[str, str], site: FakeMeta, n: int, words: int
) -> dict[str, Any]:
    """One crawl after an edit (baseline), then two crawls together after the next edit."""
    from pipeline.audit import audit

    sources = write_sources(folder / f"sources-{n}.toml", site, n)
    with database(folder, f"overlap-{n}") as url:
        serve_edition(site, n, words, 0)
        finish(crawl(env, url, sources, folder / "out-first"))
        serve_edition(site, n, words, 1)
        started = time.perf_counter()
        finish(crawl(env, url, sources, folder / "out-one"))
        one = time.perf_counter() - started
        before = sum(len(t) for t in transitions(url).values())
        serve_edition(site, n, words, 2)
        started = time.perf_counter()
        a = crawl(env, url, sources, folder / "out-a")
        b = crawl(env, url, sources, folder / "out-b")
        finish(a)
        finish(b)
        two = time.perf_counter() - started
        stored = sum(len(t) for t in transitions(url).values()) - before
        report = audit(url, str(sources))
        return {
            "one": one,
            "two": two,
            "changes": stored,
            "lost": len(report.lost),
            "duplicated": len(report.duplicated),
            "unprocessed": report.unprocessed,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--pages", default="50,200,1000", help="unchanged real-size pages to re-check (part 0)"
    )
    parser.add_argument("--docs", default="10,100", help="document counts, comma-separated")
    parser.add_argument("--workers", default="1,2,4", help="task-runner workers to try")
    parser.add_argument(
        "--runners", default="thread", help="task runners to try: thread, process (comma-separated)"
    )
    parser.add_argument("--words", type=int, default=1500, help="words per page")
    parser.add_argument("--skip-overlap", action="store_true", help="leave out part 2")
    parser.add_argument(
        "--only", default="recheck,derive,overlap", help="parts to run (comma-separated)"
    )
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    if args.skip_overlap:
        parts.discard("overlap")
    try:
        pages = [int(x) for x in args.pages.split(",")]
        sizes = [int(x) for x in args.docs.split(",")]
        workers = [int(x) for x in args.workers.split(",")]
    except ValueError:
        print("scale.py: --docs and --workers take numbers, comma-separated", file=sys.stderr)
        return 2
    runners = args.runners.split(",")
    if not parts <= {"recheck", "derive", "overlap"}:
        print("scale.py: --only takes recheck, derive and/or overlap", file=sys.stderr)
        return 2
    if not set(runners) <= {"thread", "process"} or min(sizes + workers + pages) < 1:
        print("scale.py: --runners takes thread and/or process; counts are 1 or more",
              file=sys.stderr)  # fmt: skip
        return 2
    backend = "postgresql" if is_postgresql() else "sqlite"
    print(f"backend: {backend}; {args.words} words per page; {os.cpu_count()} cores; load "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="pw-scale-"))
    try:
        with FakeMeta() as site, prefect_server(folder) as env:
            os.environ["PREFECT_API_URL"] = env["PREFECT_API_URL"]
            if "recheck" in parts:
                recheck(folder, pages, workers)
            if "derive" in parts:
                print("\nderive N edited pages (a diff + a classification each)")
                print(f"{'N':>5} {'runner':>10} {'s':>7} {'docs/s':>7} {'ms/doc':>7} "
                      f"{'x serial':>8} {'flow s':>7} {'x ser.':>7} {'changes':>7}  "
                      "same as serial")  # fmt: skip
            for n in sizes if "derive" in parts else []:
                with edited(folder, site, n, args.words) as cfg:
                    print(f"{n:>5} (one-time: making {n} slot limits took {make_limits(n):.1f} s)")
                    base = derive_case(folder, cfg, f"{n}-serial", None, 1)
                    base_s, _, base_counts, base_t = base
                    rows: list[tuple[str, float, float, dict[str, int], bool]] = [
                        ("serial", base_s, base_s, base_counts, True)
                    ]
                    for runner in runners:
                        for k in workers:
                            label = f"{k} {'thr' if runner == 'thread' else 'proc'}"
                            s, whole, counts, t = derive_case(
                                folder, cfg, f"{n}-{runner}-{k}", runner, k
                            )
                            rows.append((label, s, whole, counts, t == base_t))
                    # the baseline again, last: how much the machine's load moved meanwhile
                    s, _, counts, t = derive_case(folder, cfg, f"{n}-serial-again", None, 1)
                    rows.append(("serial", s, s, counts, t == base_t))
                for label, s, whole, counts, same in rows:
                    verdict = "yes" if same else "NO"
                    print(f"{n:>5} {label:>10} {s:>7.2f} {n / s:>7.1f} {1000 * s / n:>7.1f} "
                          f"{base_s / s:>8.2f} {whole:>7.2f} {base_s / whole:>7.2f} "
                          f"{counts['changes']:>7}  {verdict}")  # fmt: skip
                print(f"{'':>5} load " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
            if "overlap" in parts:
                print("\none `policywatch crawl` after an edit, then two at once after the next")
                print(f"{'N':>5} {'one s':>7} {'two s':>7} {'x one':>6} {'changes':>7} "
                      f"{'lost':>4} {'dup':>4} {'left':>4}")  # fmt: skip
                for n in sizes:
                    r = overlap_case(folder, env, site, n, args.words)
                    print(f"{n:>5} {r['one']:>7.1f} {r['two']:>7.1f} {r['two'] / r['one']:>6.2f} "
                          f"{r['changes']:>7} {r['lost']:>4} {r['duplicated']:>4} "
                          f"{r['unprocessed']:>4}")  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
