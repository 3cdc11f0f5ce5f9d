"""policywatch next to urlwatch: a re-check of N unchanged real-size pages on one machine.

    .venv/bin/python bench/compare_peers.py                 # N = 10 and 100
    .venv/bin/python bench/compare_peers.py --pages 10 100 500 --runs 3
    .venv/bin/python bench/compare_peers.py --profile 100   # policywatch's steps, timed

Installs nothing: urlwatch is compared when it is installed (``pip install -e '.[bench]'``),
else only policywatch is measured. A local server (127.0.0.1) serves N copies of the real
recorded Facebook privacy policy page (demo/data/html, ODC-BY 1.0, about 254 KB) with
every link's ``h=`` token drawn anew on every request, as Meta's link shim does. Each tool
first records the pages once (not timed), then re-checks them ``--runs`` times with
nothing changed (timed, interleaved); the table shows the median wall time, the CPU time
and peak resident memory of all the tool's processes together, and policywatch / urlwatch
ratios. policywatch runs as a user runs it: ``policywatch crawl`` (Prefect flow in
ephemeral mode unless ``PREFECT_API_URL`` points at a server). urlwatch selects
``#root`` (``css`` filter) and converts it with its ``html2text`` filter. Each tool is
also checked not to report a change (tokens are noise).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from demo.corpus import load_html  # noqa: E402

PAGE = "facebook-privacy-policy"
_HREF = re.compile(r'href="(https?://[^"]*)"')


def tokenised(html: str) -> tuple[list[str], int]:
    """The page split around a token slot in each absolute link (``h=`` parameter)."""
    parts: list[str] = []
    last = 0
    for match in _HREF.finditer(html):
        end = match.end(1)
        joiner = "&amp;" if "?" in match.group(1) else "?"
        parts.append(html[last:end] + joiner + "h=")
        last = end
    parts.append(html[last:])
    return parts, len(parts) - 1


class RotatingServer:
    """Serves ``/p/<n>/`` for any n: the page with fresh tokens on every request."""

    def __init__(self, html: str) -> None:
        parts, self.tokens = tokenised(html)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                rng = random.Random()
                body = "".join(
                    part + (f"{rng.getrandbits(64):016x}" if i < len(parts) - 1 else "")
                    for i, part in enumerate(parts)
                ).encode("utf-8")
                self.send_response(200 if self.path.startswith("/p/") else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/p/{n}/"


@dataclass
class Run:
    wall: float
    cpu: float
    peak_mb: float
    output: str


def _tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        parents[int(entry)] = int(fields.get("PPid", "0").strip() or 0)
        rss[int(entry)] = int((fields.get("VmRSS", "0 kB").split() or ["0"])[0])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(rss.get(pid, 0) for pid in tree)


def measure(cmd: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Run ``cmd``; wall time, CPU of it and its children, peak RSS of its process tree."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak = 0
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.read() if proc.stdout else ""))
    reader.start()
    while True:
        try:
            done, status, usage = os.wait4(proc.pid, os.WNOHANG)
        except ChildProcessError:
            break
        if done:
            proc.returncode = os.waitstatus_to_exitcode(status)
            break
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.05)
    wall = time.perf_counter() - started
    reader.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}):\n{''.join(out)[-2000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, peak / 1024, "".join(out))


class Policywatch:
    name = "policywatch"

    def __init__(self, work: Path, server: RotatingServer, n: int) -> None:
        self.work = work
        lines = ["[crawl]", "download_delay = 0.0", "timeout = 30", ""]
        for i in range(n):
            lines += [
                "[[document]]",
                f'id = "page-{i}"',
                'service = "Facebook"',
                f'title = "Page {i}"',
                'kind = "policy"',
                f'url = "{server.url(i)}"',
                'select = ["#root"]',
                "",
            ]
        (work / "sources.toml").write_text("\n".join(lines), encoding="utf-8")
        exe = Path(sys.executable).with_name("policywatch")
        self.cmd = [str(exe), "crawl", "--json", "--db", f"sqlite:///{work / 'pw.db'}"]
        self.cmd += ["--sources", str(work / "sources.toml"), "--out", str(work / "public")]
        self.env = dict(
            os.environ,
            PREFECT_HOME=str(work / "prefect"),
            HOME=str(work),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            # a loaded machine can take longer than Prefect's 20 s default to start it
            PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
        )

    def run(self) -> Run:
        return measure(self.cmd, self.env, self.work)

    def changed(self, run: Run) -> bool:
        counts = json.loads(run.output.strip().splitlines()[-1])
        return bool(counts.get("changes") or counts.get("new"))


class Urlwatch:
    name = "urlwatch"

    def __init__(self, work: Path, server: RotatingServer, n: int, exe: str) -> None:
        self.work = work
        jobs = [
            f"name: page-{i}\nurl: {server.url(i)}\nfilter:\n  - css: '#root'\n  - html2text\n"
            for i in range(n)
        ]
        (work / "urls.yaml").write_text("---\n".join(jobs), encoding="utf-8")
        self.cmd = [exe, "--urls", str(work / "urls.yaml"), "--cache", str(work / "cache.db")]
        self.cmd += ["--config", str(work / "urlwatch.yaml"), "--hooks", str(work / "hooks.py")]
        self.env = dict(os.environ, HOME=str(work), XDG_CONFIG_HOME=str(work / "config"))

    def run(self) -> Run:
        return measure(self.cmd, self.env, self.work)

    def changed(self, run: Run) -> bool:
        return "CHANGED:" in run.output or "NEW:" in run.output


def median(runs: list[Run], key: Callable[[Run], float]) -> float:
    return statistics.median(key(r) for r in runs)


def compare(n: int, runs: int, server: RotatingServer, urlwatch: str | None) -> None:
    with tempfile.TemporaryDirectory(prefix="pw-peers-") as tmp:
        tools: list[Policywatch | Urlwatch] = []
        (Path(tmp) / "pw").mkdir()
        tools.append(Policywatch(Path(tmp) / "pw", server, n))
        if urlwatch:
            (Path(tmp) / "uw").mkdir()
            tools.append(Urlwatch(Path(tmp) / "uw", server, n, urlwatch))
        for tool in tools:
            tool.run()  # the first visit records the pages: not timed
        results: dict[str, list[Run]] = {t.name: [] for t in tools}
        false_alerts: dict[str, int] = {t.name: 0 for t in tools}
        for _ in range(runs):
            for tool in tools:  # interleaved: both see the same machine load
                run = tool.run()
                results[tool.name].append(run)
                false_alerts[tool.name] += tool.changed(run)
    row = [f"N = {n:<4}"]
    for name, rs in results.items():
        row.append(
            f"{name}: {median(rs, lambda r: r.wall):6.2f} s wall, "
            f"{median(rs, lambda r: r.cpu):6.2f} s CPU, {median(rs, lambda r: r.peak_mb):5.0f} MB"
            f" ({false_alerts[name]} false alerts)"
        )
    if len(results) == 2:
        pw, uw = results["policywatch"], results["urlwatch"]
        wall = median(pw, lambda r: r.wall) / median(uw, lambda r: r.wall)
        cpu = median(pw, lambda r: r.cpu) / max(median(uw, lambda r: r.cpu), 1e-3)
        memory = median(pw, lambda r: r.peak_mb) / max(median(uw, lambda r: r.peak_mb), 1)
        row.append(
            f"ratio policywatch/urlwatch: wall {wall:.1f}x, CPU {cpu:.1f}x, memory {memory:.1f}x"
        )
    print("\n    ".join(row), flush=True)


def _timed_run(cfg: Any, timings: dict[str, tuple[float, float]]) -> dict[str, int]:
    """One run, step by step as tests/factories.run_steps does; (wall, CPU) per step."""
    from config.run import tracked_documents
    from pipeline import detect, publishing, runs, spider_process, versions

    def step(name: str, fn: Callable[[], Any]) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        value = fn()
        timings[name] = (time.perf_counter() - started, time.process_time() - cpu)
        return value

    docs = tracked_documents(cfg)
    run_id = step("start run", lambda: runs.start(cfg.db_url, "manual", docs))
    step("crawl (spider subprocess)", lambda: spider_process.crawl(cfg, run_id))
    counts, transitions = step("derive versions", lambda: versions.derive_versions(cfg, run_id))
    counts["changes"] = step(
        "detect changes", lambda: detect.detect_changes(cfg, run_id, transitions)
    )
    step("publish", lambda: publishing.publish(cfg))
    return counts


def profile(n: int, server: RotatingServer) -> None:
    """One re-check of ``n`` unchanged pages run step by step in this process (no
    Prefect): where the time goes."""
    from config.run import RunConfig

    with tempfile.TemporaryDirectory(prefix="pw-profile-") as tmp:
        work = Path(tmp)
        Policywatch(work, server, n)  # writes sources.toml
        cfg = RunConfig(
            f"sqlite:///{work / 'pw.db'}", str(work / "sources.toml"), str(work / "public")
        )
        timings: dict[str, tuple[float, float]] = {}
        _timed_run(cfg, timings)  # the first visit records the pages
        timings.clear()
        counts = _timed_run(cfg, timings)
    total = sum(wall for wall, _ in timings.values())
    print(
        f"\nprofile: one re-check of {n} unchanged pages, step by step, no Prefect: "
        f"{total:.2f} s {counts}"
    )
    for name, (wall, cpu) in timings.items():
        print(f"  {name:<28} {wall:6.2f} s {100 * wall / total:4.0f}%   (CPU here {cpu:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--runs", type=int, default=3, help="timed re-checks per tool")
    parser.add_argument("--profile", type=int, default=0, help="also profile one N-page run")
    args = parser.parse_args()
    urlwatch = shutil.which("urlwatch") or shutil.which(
        "urlwatch", path=str(Path(sys.executable).parent)
    )
    server = RotatingServer(load_html(PAGE))
    print(
        f"re-check of N unchanged pages ({PAGE}, {len(load_html(PAGE).encode()) // 1024} KB, "
        f"{server.tokens} link tokens drawn anew per request), median of {args.runs}"
    )
    if not urlwatch:
        print("urlwatch is not installed (pip install -e '.[bench]'): policywatch alone")
    for n in args.pages:
        compare(n, args.runs, server, urlwatch)
    if args.profile:
        profile(args.profile, server)


if __name__ == "__main__":
    main()
