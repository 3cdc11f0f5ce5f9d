"""policywatch next to urlwatch: a re-check of N unchanged real-size pages on one machine.

    .venv/bin/python bench/compare_peers.py                 # N = 10 and 100
    .venv/bin/python bench/compare_peers.py --pages 10 100 500 --runs 3
    .venv/bin/python bench/compare_peers.py --profile 100   # policywatch's steps, timed
    .venv/bin/python bench/compare_peers.py --prefect server  # only with a running server
    .venv/bin/python bench/compare_peers.py --before /tmp/old  # and an older checkout, interleaved

Installs nothing: urlwatch is compared when it is installed (``pip install -e '.[bench]'``),
else only policywatch is measured. A local server (127.0.0.1) serves N copies of the real
recorded Facebook privacy policy page (demo/data/html, ODC-BY 1.0, about 254 KB) with
every link's ``h=`` token drawn anew on every request, as Meta's link shim does. Each tool
first records the pages once (not timed), then re-checks them ``--runs`` times with
nothing changed (timed, interleaved); the table shows the median wall time, the CPU time
and peak resident memory of all the tool's processes together, and policywatch / urlwatch
ratios. policywatch runs as a user runs it: ``policywatch crawl``, twice by default
(``--prefect both``): without a Prefect server (``temporary``: the command runs the steps
without Prefect since decision 0018; before, it started Prefect's temporary API server,
whose memory counted with the command's), and with a
running one (``server``: ``prefect server start``, started by the bench before timing
anything, as a scheduled installation has one; its memory is printed apart, not in the
command's). urlwatch selects
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


def write_sources(path: Path, server: RotatingServer, n: int, timeout: float) -> Path:
    """A sources file naming the server's first ``n`` pages, no politeness delay."""
    lines = ["[crawl]", "download_delay = 0.0", f"timeout = {timeout}", ""]
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
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


class Policywatch:
    name = "policywatch"

    def __init__(
        self,
        work: Path,
        server: RotatingServer,
        n: int,
        api_url: str | None = None,
        before: Path | None = None,
    ) -> None:
        self.work = work
        if api_url:
            self.name = "policywatch, Prefect server"
        if before is not None:
            self.name += " (before)"
        write_sources(work / "sources.toml", server, n, timeout=30.0)
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
        self.env.pop("PREFECT_API_URL", None)
        if api_url:
            self.env["PREFECT_API_URL"] = api_url
        if before is not None:  # that checkout's code first, this installation's packages
            self.env["PYTHONPATH"] = str(before)

    def run(self) -> Run:
        return measure(self.cmd, self.env, self.work)

    def changed(self, run: Run) -> bool:
        """Whether the run's counts (its JSON line; stderr may follow it) show a change."""
        lines = run.output.strip().splitlines()
        line = next((x for x in reversed(lines) if x.startswith('{"run_id"')), None)
        if line is None:
            raise RuntimeError(f"policywatch printed no counts:\n{run.output[-2000:]}")
        if line != lines[-1]:
            tail = "\n    ".join(lines[lines.index(line) + 1 :][-5:])
            print(f"  ({self.name} printed after its counts:\n    {tail})", flush=True)
        counts = json.loads(line)
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


class PrefectServer:
    """``prefect server start`` on a free local port, for the whole bench (not timed)."""

    def __init__(self, folder: Path) -> None:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env = dict(os.environ, PREFECT_HOME=str(folder / "prefect-server-home"))
        env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
        env.pop("PREFECT_API_URL", None)
        exe = Path(sys.executable).with_name("prefect")
        cmd = [str(exe), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
        self.log = (folder / "prefect-server.log").open("w")
        self.process = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.api_url = f"http://127.0.0.1:{port}/api"
        import httpx

        deadline = time.monotonic() + 300
        while True:
            try:
                if httpx.get(f"{self.api_url}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit(f"the Prefect server did not start: see {self.log.name}")
            time.sleep(0.5)

    def rss_mb(self) -> float:
        return _tree_rss_kb(self.process.pid) / 1024

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def compare(
    n: int,
    runs: int,
    server: RotatingServer,
    urlwatch: str | None,
    modes: list[str | None],
    prefect: PrefectServer | None,
    before: Path | None = None,
) -> None:
    """``modes``: None for no Prefect server, else the running server's API URL; ``before``:
    a checkout of older code, run the same way, interleaved with this one."""
    with tempfile.TemporaryDirectory(prefix="pw-peers-") as tmp:
        tools: list[Policywatch | Urlwatch] = []
        for i, api_url in enumerate(modes):
            for code in (None, before) if before is not None else (None,):
                folder = Path(tmp) / f"pw{i}{'b' if code else ''}"
                folder.mkdir()
                tools.append(Policywatch(folder, server, n, api_url, code))
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
    if "urlwatch" in results:
        uw = results["urlwatch"]
        for name, pw in results.items():
            if name == "urlwatch":
                continue
            wall = median(pw, lambda r: r.wall) / median(uw, lambda r: r.wall)
            cpu = median(pw, lambda r: r.cpu) / max(median(uw, lambda r: r.cpu), 1e-3)
            memory = median(pw, lambda r: r.peak_mb) / max(median(uw, lambda r: r.peak_mb), 1)
            row.append(
                f"ratio {name}/urlwatch: wall {wall:.1f}x, CPU {cpu:.1f}x, memory {memory:.1f}x"
            )
    if prefect is not None:
        row.append(f"(the running Prefect server itself: {prefect.rss_mb():.0f} MB, not counted)")
    row.append("load " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print("\n    ".join(row), flush=True)


def _timed_run(cfg: Any, timings: dict[str, tuple[float, float]]) -> dict[str, int]:
    """One run, step by step as tests/factories.run_steps does; (wall, CPU) per step."""
    from config.run import tracked_documents
    from pipeline import derive, publishing, runs, spider_process

    def step(name: str, fn: Callable[[], Any]) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        value = fn()
        timings[name] = (time.perf_counter() - started, time.process_time() - cpu)
        return value

    docs = tracked_documents(cfg)
    run_id = step("start run", lambda: runs.start(cfg.db_url, "manual", docs))
    step("crawl (spider subprocess)", lambda: spider_process.crawl(cfg, run_id))
    counts = step("derive versions and changes", lambda: derive.derive_versions(cfg, run_id))
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
    parser.add_argument(
        "--prefect",
        choices=("temporary", "server", "both"),
        default="both",
        help="policywatch without a Prefect server, with a running one, or both",
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="also run the code of this checkout (e.g. `git worktree add /tmp/old <commit>`), "
        "interleaved, as 'policywatch (before)'",
    )
    args = parser.parse_args()
    if args.before is not None and not (args.before / "flows" / "monitor.py").is_file():
        parser.error(f"--before: {args.before} is not a checkout of policywatch")
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
    print("load " + " ".join(f"{x:.2f}" for x in os.getloadavg()), flush=True)
    prefect: PrefectServer | None = None
    with tempfile.TemporaryDirectory(prefix="pw-peers-prefect-") as home:
        try:
            modes: list[str | None] = []
            if args.prefect in ("temporary", "both"):
                modes.append(None)
            if args.prefect in ("server", "both"):
                prefect = PrefectServer(Path(home))
                modes.append(prefect.api_url)
            for n in args.pages:
                compare(n, args.runs, server, urlwatch, modes, prefect, args.before)
        finally:
            if prefect is not None:
                prefect.stop()
    if args.profile:
        profile(args.profile, server)


if __name__ == "__main__":
    main()
