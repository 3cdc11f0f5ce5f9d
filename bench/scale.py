"""Scale: parallel derive against a serial one, and two runs at once against one run.

Run: ``python bench/scale.py [--docs 10,100] [--workers 1,2,4] [--words 1500]``; on
PostgreSQL as well: ``bash scripts/install-postgres.sh .venv/bin/python bench/scale.py``
(POLICYWATCH_TEST_DB names the server; each case gets a database of its own, dropped after).

Everything runs on this machine: a local stand-in for Meta serves N policy-sized pages
(``--words`` each), and one real Prefect server (``prefect server start``, started here) is
shared by every run, as several serve processes or workers share one.

1. **Derive**: each of the N pages is crawled and derived once, then edited and crawled
   again (fetch only); deriving those N fetches (a diff and a classification each) is timed
   serially (``pipeline.derive.derive_versions``, no Prefect: the baseline) and on the
   monitor flow's task runner with 1, 2, 4... threads (``flows.monitor.derive_all``: one
   task per document holding its Prefect slot). Printed: seconds, documents/s, ms per
   document, the ratio against the baseline, and whether the stored changes are the
   baseline's (text transitions compared).
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


@contextmanager
def database(folder: Path, name: str) -> Iterator[str]:
    """A new database: a SQLite file, or one on the POLICYWATCH_TEST_DB server (dropped)."""
    server_url = os.environ.get("POLICYWATCH_TEST_DB", "")
    if not server_url.startswith("postgresql"):
        yield f"sqlite:///{folder / (name + '.db')}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from storage.db import close_db

    server = make_url(server_url)
    db = f"pw_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
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


def derive_case(
    folder: Path, site: FakeMeta, n: int, words: int, threads: int | None
) -> tuple[float, dict[str, int], Any]:
    """Seconds to derive N edited pages (serially if ``threads`` is None), the counts, and
    the transitions stored."""
    from prefect import flow
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.monitor import derive_all
    from pipeline import derive

    @flow(name="bench-derive", task_runner=ThreadPoolTaskRunner(max_workers=threads or 1))
    def derive_on_task_runner(cfg: RunConfig) -> dict[str, int]:
        return derive_all(cfg, None)

    sources = write_sources(folder / f"sources-{n}.toml", site, n)
    with database(folder, f"derive-{n}-{threads}") as url:
        cfg = RunConfig(db_url=url, sources_path=str(sources))
        serve_edition(site, n, words, 0)
        fetch_only(cfg)
        derive.derive_versions(cfg, None)
        serve_edition(site, n, words, 1)
        fetch_only(cfg)
        started = time.perf_counter()
        if threads is None:
            counts = derive.derive_versions(cfg, None)
        else:
            counts = derive_on_task_runner(cfg)
        seconds = time.perf_counter() - started
        return seconds, counts, transitions(url)


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
    parser.add_argument("--docs", default="10,100", help="document counts, comma-separated")
    parser.add_argument("--workers", default="1,2,4", help="task-runner threads to try")
    parser.add_argument("--words", type=int, default=1500, help="words per page")
    parser.add_argument("--skip-overlap", action="store_true", help="only the derive part")
    args = parser.parse_args(argv)
    try:
        sizes = [int(x) for x in args.docs.split(",")]
        workers = [int(x) for x in args.workers.split(",")]
    except ValueError:
        print("scale.py: --docs and --workers take numbers, comma-separated", file=sys.stderr)
        return 2
    backend = os.environ.get("POLICYWATCH_TEST_DB", "").split(":")[0] or "sqlite"
    backend = "postgresql" if backend.startswith("postgresql") else "sqlite"
    print(f"backend: {backend}; {args.words} words per page; {os.cpu_count()} cores")
    folder = Path(tempfile.mkdtemp(prefix="pw-scale-"))
    try:
        with FakeMeta() as site, prefect_server(folder) as env:
            os.environ["PREFECT_API_URL"] = env["PREFECT_API_URL"]
            print("\nderive N edited pages (a diff + a classification each)")
            print(f"{'N':>5} {'runner':>10} {'s':>7} {'docs/s':>7} {'ms/doc':>7} "
                  f"{'x serial':>8} {'changes':>7}  same as serial")  # fmt: skip
            for n in sizes:
                base_s, base_counts, base_t = derive_case(folder, site, n, args.words, None)
                rows: list[tuple[str, float, dict[str, int], bool]] = [
                    ("serial", base_s, base_counts, True)
                ]
                for k in workers:
                    s, counts, t = derive_case(folder, site, n, args.words, k)
                    rows.append((f"{k} thr", s, counts, t == base_t))
                for label, s, counts, same in rows:
                    verdict = "yes" if same else "NO"
                    print(f"{n:>5} {label:>10} {s:>7.2f} {n / s:>7.1f} {1000 * s / n:>7.1f} "
                          f"{base_s / s:>8.2f} {counts['changes']:>7}  {verdict}")  # fmt: skip
            if not args.skip_overlap:
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
