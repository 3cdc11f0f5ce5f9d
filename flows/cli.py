"""The `policywatch` command line: crawl now, serve on a schedule, publish, status, replay,
demo."""

from __future__ import annotations

import json
import os
import signal
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from config import defaults
from config.run import RunConfig
from config.sources import SourcesError, load_sources
from feeds.remote import is_remote
from flows.crawl_now import run_monitor

app = typer.Typer(
    help="Watch Meta's privacy and AI pages; diff, classify and publish their changes.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
console = Console()
err = Console(stderr=True)

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="POLICYWATCH_DB",
        help="SQLAlchemy URL [default: sqlite:///var/policywatch.db]",
    ),
]
SourcesOpt = Annotated[
    Path, typer.Option("--sources", envvar="POLICYWATCH_SOURCES", help="The sources file.")
]
OutOpt = Annotated[
    str,
    typer.Option(
        "--out",
        envvar="POLICYWATCH_OUT",
        help="Folder for feeds and site, or object storage (s3://bucket/prefix).",
    ),
]
BaseOpt = Annotated[
    str,
    typer.Option("--base-url", envvar="POLICYWATCH_BASE_URL", help="Public URL of --out."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

EXIT_ALL_FAILED = 3  # `crawl`: every fetch of the run failed (README, "Exit codes")


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"policywatch {version('policywatch')}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """Watch Meta's privacy and AI pages; diff, classify and publish their changes."""


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _print_counts(title: str, counts: dict[str, Any]) -> None:
    """A one-row table of counts: one right-aligned column per key, in order."""
    table = Table(title=title)
    for key in counts:
        table.add_column(key, justify="right")
    table.add_row(*(str(value) for value in counts.values()))
    console.print(table)


def _publish(db: str | None, out: str, base_url: str) -> dict[str, Any]:
    """Rebuild the feeds and the site from the database (no sources needed)."""
    from pipeline.publishing import publish

    return publish(
        RunConfig(
            db_url=db or defaults.db_url(), sources_path="", out_dir=str(out), base_url=base_url
        )
    )


def _check_sources(path: Path, documents: list[str] | None = None) -> None:
    try:
        load_sources(path).select(documents or None)
    except SourcesError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def crawl(
    documents: Annotated[
        list[str] | None, typer.Argument(help="Document ids to fetch (default: all).")
    ] = None,
    db: DbOpt = None,
    sources: SourcesOpt = defaults.SOURCES_PATH,
    out: OutOpt = str(defaults.OUT_DIR),
    base_url: BaseOpt = defaults.BASE_URL,
    as_json: JsonOpt = False,
) -> None:
    """Run the monitor flow now (the manual trigger): fetch, diff, publish.

    Example: [bold]policywatch crawl facebook-privacy-policy --db sqlite:///var/pw.db[/]
    """
    _check_sources(sources, documents)
    db_url = db or defaults.db_url()
    result = run_monitor(documents or [], db_url, sources, out, base_url, "manual", not as_json)
    all_failed = result.get("fetches", 0) > 0 and result.get("failures") == result["fetches"]
    if as_json:
        print(json.dumps(result))
    else:
        keys = ("fetched", "failures", "new", "same", "held", "confirmed", "changes")
        _print_counts(f"run {result['run_id']}", {k: result.get(k, 0) for k in keys})
        console.print(f"feeds and site: {result['out_dir']}")
    if all_failed:
        from flows.report import run_failures

        failures = run_failures(db_url, result["run_id"])
        for f in failures:
            status = f" HTTP {f['http_status']}" if f["http_status"] else ""
            detail = f": {f['detail']}" if f["detail"] else ""
            err.print(f"  {f['document']}: {f['error']}{status}{detail}", highlight=False)
        raise _fail(
            f"every fetch failed ({len(failures)} of {result['fetches']}): nothing was "
            "checked (exit code 3)",
            EXIT_ALL_FAILED,
        )


@app.command()
def publish(
    db: DbOpt = None,
    out: OutOpt = str(defaults.OUT_DIR),
    base_url: BaseOpt = defaults.BASE_URL,
    as_json: JsonOpt = False,
) -> None:
    """Rebuild the feeds and the static site from the database (no fetching, no diffing).

    Example: [bold]policywatch publish --out public --base-url https://example.org/pw/[/]
    """
    result = _publish(db, out, base_url)
    if as_json:
        print(json.dumps(result))
    else:
        console.print(
            f"published {result['changes']} changes, {result['pages']} pages to {result['out_dir']}"
        )


@app.command("check-links")
def check_links(
    db: DbOpt = None,
    sources: SourcesOpt = defaults.SOURCES_PATH,
    out: OutOpt = str(defaults.OUT_DIR),
    base_url: BaseOpt = defaults.BASE_URL,
    as_json: JsonOpt = False,
) -> None:
    """Check every opt-out/objection link and form now (logged out, in its locale), publish.

    Finds the links in the current text of every tracked document, plus the documents of
    kind form; fetches each once (hosts not in sources.toml are skipped, never fetched);
    a confirmed change of outcome becomes an opt-out-health change in the feeds.

    Example: [bold]policywatch check-links --json | jq .link_changes[/]
    """
    _check_sources(sources)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from flows.check_links import check_links as check_links_flow

    cfg = RunConfig(
        db_url=db or defaults.db_url(),
        sources_path=str(sources.resolve()),
        out_dir=str(out),
        base_url=base_url,
        trigger="check-links",
    )
    counts = check_links_flow(cfg)
    if as_json:
        print(json.dumps(counts))
        return
    keys = ("links", "checked", "skipped", "link_changes")
    _print_counts(f"run {counts['run_id']}: link checks", {k: counts[k] for k in keys})


@app.command()
def status(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Documents, their last fetch and its outcome, versions, held versions and changes; and
    when any process last sent a request to each host (kept with a crawl delay set).

    Example: [bold]policywatch status --json | jq '.[] | select(.last_error)'[/]
    """
    from flows.report import host_rows, status_rows

    rows = status_rows(db or defaults.db_url())
    if as_json:
        print(json.dumps(rows))
        return
    table = Table(title="policywatch status")
    # ids are what people copy: fold them onto more lines, never cut them
    table.add_column("document", overflow="fold", ratio=3)
    for col, ratio in (("kind", 1), ("last fetch (UTC)", 1), ("outcome", 3)):
        table.add_column(col, overflow="fold", ratio=ratio)
    for col in ("versions", "held", "changes"):
        table.add_column(col, justify="right", no_wrap=True)
    for r in rows:
        outcome = r["outcome"] or ""
        if r["failing_since"]:
            n = r["failed_fetches"]
            outcome += (
                f" since {r['failing_since'][:16].replace('T', ' ')}"
                f" ({n} failed fetch{'es' if n > 1 else ''})"
            )
        if r["error_detail"]:
            outcome += f": {r['error_detail']}"
        table.add_row(
            r["document"],
            r["kind"],
            r["last_fetch"][:16].replace("T", " ") if r["last_fetch"] else "never",
            outcome,
            str(r["versions"]),
            str(r["held"]),
            str(r["changes"]),
        )
    console.print(table)
    hosts = host_rows(db or defaults.db_url())
    if hosts:
        by_host = Table(title="politeness: last request per host, any process (UTC)")
        by_host.add_column("host", overflow="fold")
        by_host.add_column("last request (UTC)", no_wrap=True)
        for h in hosts:
            last = h["last_request"]
            by_host.add_row(h["host"], last[:19].replace("T", " ") if last else "never")
        console.print(by_host)
    _print_undelivered(db or defaults.db_url())


def _print_undelivered(db_url: str) -> None:
    """Notifications not delivered yet (pending, or given up), per target, if any."""
    from flows.report import undelivered_rows

    rows = undelivered_rows(db_url)
    if not rows:
        return
    table = Table(title="undelivered notifications")
    table.add_column("target", overflow="fold")
    table.add_column("pending", justify="right")
    table.add_column("failed", justify="right")
    table.add_column("oldest (UTC)", no_wrap=True)
    table.add_column("last error", overflow="fold", ratio=3)
    for r in rows:
        oldest = r["oldest"][:16].replace("T", " ") if r["oldest"] else ""
        table.add_row(
            r["target"], str(r["pending"]), str(r["failed"]), oldest, r["last_error"] or ""
        )
    console.print(table)


def _worker_settings(db: str | None, sources: Path, out: str, base_url: str) -> None:
    """Settings for the flow runs this process starts: its environment, with absolute paths
    (a deployment's parameters name no machine's paths; flows/serving.py)."""
    url = db or defaults.db_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = f"sqlite:///{Path(url.removeprefix('sqlite:///')).resolve()}"
    os.environ["POLICYWATCH_DB"] = url
    os.environ["POLICYWATCH_SOURCES"] = str(sources.resolve())
    # not resolve(): --out may be a symlink (feeds.atomic)
    os.environ["POLICYWATCH_OUT"] = out if is_remote(out) else os.path.abspath(out)
    os.environ["POLICYWATCH_BASE_URL"] = base_url


def _need_prefect_server(command: str) -> None:
    if not os.environ.get("PREFECT_API_URL"):
        raise _fail(
            "PREFECT_API_URL is not set. Scheduled runs need a Prefect server:\n"
            "  prefect server start &\n"
            "  export PREFECT_API_URL=http://127.0.0.1:4200/api\n"
            f"then run `policywatch {command}` again."
        )


@app.command()
def serve(
    cron: Annotated[str, typer.Option(help="When to run (cron, UTC).")] = defaults.CRON,
    name: Annotated[str, typer.Option(help="Deployment name.")] = "policywatch",
    db: DbOpt = None,
    sources: SourcesOpt = defaults.SOURCES_PATH,
    out: OutOpt = str(defaults.OUT_DIR),
    base_url: BaseOpt = defaults.BASE_URL,
) -> None:
    """Serve the monitor flow as a Prefect deployment on a cron schedule (default every 6 h).

    Needs a Prefect server (schedules never fire on Prefect's ephemeral server):

      prefect server start &
      export PREFECT_API_URL=http://127.0.0.1:4200/api
      policywatch serve --cron "0 */6 * * *"

    Start a run by hand from the Prefect UI or with
    [bold]prefect deployment run monitor/policywatch[/]. Several serve processes (on one
    machine or many) may serve the same deployment: the runs take --db, --sources, --out and
    --base-url from the process that runs them, one run at a time. Stopping one (Ctrl-C,
    SIGTERM) leaves the deployment scheduled; pause it with
    [bold]prefect deployment schedule pause monitor/policywatch <schedule id>[/].
    """
    _need_prefect_server("serve")
    _check_sources(sources)
    from flows.serving import serve as serve_deployment

    _worker_settings(db, sources, out, base_url)
    err.print(f"serving monitor/{name} on cron {cron!r}; Ctrl-C or SIGTERM stops this process")
    # A SIGTERM that comes before Prefect's runner is up must still stop cleanly.
    signal.signal(signal.SIGTERM, _interrupt)
    serve_deployment(name, cron)


@app.command()
def deploy(
    pool: Annotated[str, typer.Option("--pool", help="The Prefect work pool (type process).")],
    cron: Annotated[str, typer.Option(help="When to run (cron, UTC).")] = defaults.CRON,
    name: Annotated[str, typer.Option(help="Deployment name.")] = "policywatch",
) -> None:
    """Register the monitor flow for a Prefect work pool: workers on any machine run it.

    The deployment loads the flow from the installed package (flows.monitor), with no
    working directory of this machine; each worker takes its settings from its own
    environment: POLICYWATCH_DB, POLICYWATCH_SOURCES, POLICYWATCH_OUT, POLICYWATCH_BASE_URL.
    One run at a time (later ones wait).

      prefect work-pool create policywatch --type process
      policywatch deploy --pool policywatch
      POLICYWATCH_DB=postgresql+psycopg://... prefect worker start --pool policywatch
    """
    _need_prefect_server("deploy")
    from flows.serving import deploy as deploy_to_pool

    try:
        deployment_id = deploy_to_pool(name, cron, pool)
    except Exception as exc:  # Prefect's errors: no such pool, server unreachable...
        raise _fail(f"could not register monitor/{name} for pool {pool!r}: {exc}") from exc
    console.print(
        f"deployment monitor/{name} ({deployment_id}) for work pool {pool!r}, cron {cron!r}.\n"
        f"Start workers with: prefect worker start --pool {pool}"
    )


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@app.command()
def replay(
    archive: Annotated[
        Path,
        typer.Argument(
            help="A corpus .tar.xz (index.tsv + versions/), a folder of dated Markdown "
            "files, or a git repository (with --file).",
            show_default=False,
        ),
    ],
    doc: Annotated[str, typer.Option("--doc", help="Document id (from --sources, or new).")],
    file: Annotated[
        str | None, typer.Option("--file", help="The document's path in a git repository.")
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title, for a document not in sources.")] = None,
    url: Annotated[str | None, typer.Option(help="URL, for a document not in sources.")] = None,
    locale: Annotated[str, typer.Option(help="Locale, for a document not in sources.")] = "en_US",
    service: Annotated[str, typer.Option(help="Service, for a document not in sources.")] = "Meta",
    flap_window: Annotated[
        float, typer.Option(help="Days within which a text coming back is a page flipping.")
    ] = defaults.FLAP_WINDOW_DAYS,
    publish_: Annotated[
        bool, typer.Option("--publish/--no-publish", help="Rebuild feeds and site afterwards.")
    ] = True,
    db: DbOpt = None,
    sources: SourcesOpt = defaults.SOURCES_PATH,
    out: OutOpt = str(defaults.OUT_DIR),
    base_url: BaseOpt = defaults.BASE_URL,
    as_json: JsonOpt = False,
) -> None:
    """Import an archived history as versions of a document, dated as recorded.

    Every recorded text goes through the same steps as a crawled one (normalise, version,
    diff, classify), time-stamped with the recorded date, never now. Versions the archive
    marks as its own re-extractions (index.tsv kind=technical; Open Terms Archive commits
    "Apply technical or declaration upgrade on ..." or "Refilter ...") become technical
    changes: they never alert.

    Examples:

      [bold]policywatch replay demo/data/facebook-privacy-policy-en.tar.xz \\
        --doc facebook-privacy-policy[/]

      [bold]policywatch replay ../pga-versions --file "Facebook/Privacy Policy.md" \\
        --doc fb-pp --title "Facebook Privacy Policy" --url https://www.facebook.com/privacy/policy/[/]
    """
    from flows.archive import ArchiveError, read_archive
    from flows.replay import replay as run_replay

    spec = _replay_spec(doc, sources, title, url, locale, service)
    try:
        versions = read_archive(archive, file)
    except ArchiveError as exc:
        raise _fail(str(exc)) from exc
    with Progress(
        TextColumn("[bold]replay[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        disable=as_json,
        transient=True,
    ) as bar:
        task_id = bar.add_task(doc, total=len(versions))

        def on_version(i: int, version: Any) -> None:
            bar.update(task_id, completed=i + 1, description=version.recorded_at.date().isoformat())

        result = run_replay(
            db or defaults.db_url(),
            spec,
            versions,
            flap_window_days=flap_window,
            on_version=on_version,
        )
    published = _publish(db, out, base_url) if publish_ else None
    report = {
        "document": result.document_id,
        "run_id": result.run_id,
        "versions": result.versions,
        "distinct_texts": result.distinct_texts,
        **result.counts,
        "changes": result.changes,
        "alerts": result.alerts,
        "technical": result.technical,
        "seconds": round(result.seconds, 2),
        "out_dir": published["out_dir"] if published else None,
    }
    if as_json:
        print(json.dumps(report))
        return
    keys = ("versions", "distinct_texts", "new", "same", "held", "changes", "alerts", "technical")
    _print_counts(
        f"replay of {archive.name} into {doc} (run {result.run_id})",
        {k.replace("_", " "): report[k] for k in keys},
    )
    console.print(
        f"{result.seconds:.1f} s" + (f"; feeds and site: {report['out_dir']}" if published else "")
    )


def _replay_spec(
    doc: str, sources: Path, title: str | None, url: str | None, locale: str, service: str
) -> Any:
    """The document a replay writes to: from the sources file, else from the options."""
    from config.documents import DocumentSpec

    if sources.exists():
        try:
            known = {d.id: d for d in load_sources(sources).documents}
        except SourcesError as exc:
            raise _fail(str(exc)) from exc
        if doc in known and not (title or url):
            return known[doc]
    if not url or not title:
        raise _fail(f"document {doc!r} is not in {sources}: give --title and --url to create it")
    if not url.startswith(("http://", "https://")):
        raise _fail(f"--url must be an http(s) URL, not {url!r}")
    return DocumentSpec(doc, service, title, "policy", url, None, locale, "http", (), ())


@app.command()
def demo(
    workdir: Annotated[
        Path, typer.Option("--dir", help="Where the demo keeps its database and site.")
    ] = Path("demo-output"),
    steps_: Annotated[
        int | None, typer.Option("--steps", help="Only the first N recorded versions.")
    ] = None,
    base_url: Annotated[
        str, typer.Option("--base-url", help="Public URL the demo's site will be served from.")
    ] = defaults.BASE_URL,
) -> None:
    """Replay real Facebook privacy-policy history through a local stand-in for Meta.

    Serves real recorded versions (2022-2026) as Meta-shaped pages on 127.0.0.1, crawls
    after each step through the real spider and flow, publishes, prints what it found.
    Uses its own database and output folder: your sources and database are untouched.

    Example: [bold]policywatch demo --dir /tmp/pw-demo[/]
    """
    from demo.run import run_demo
    from feeds.feed import normalize_base_url

    try:
        base = normalize_base_url(base_url)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    sys.exit(run_demo(workdir, console, limit=steps_, base_url=base))


@app.command()
def notify(
    test: Annotated[
        bool, typer.Option("--test", help="Send a test message to each target now.")
    ] = False,
    db: DbOpt = None,
    sources: SourcesOpt = defaults.SOURCES_PATH,
    base_url: BaseOpt = defaults.BASE_URL,
    as_json: JsonOpt = False,
) -> None:
    """Send the notifications that are due now to the \\[\\[notify]] targets of sources.toml.

    Every crawl does this as its last step; run it by hand to retry now, or with --test to
    check that each target receives a message. Each target's apprise URL is read from the
    environment variable its entry names (url_env), never from the file.

    Examples:

      [bold]POLICYWATCH_NOTIFY_MAIL='mailtos://user:pass@example.org' policywatch notify --test[/]

      [bold]policywatch notify --json[/]
    """
    try:
        targets = load_sources(sources).notify
    except SourcesError as exc:
        raise _fail(escape(str(exc))) from exc
    if not targets:
        raise _fail(escape(f"{sources} has no [[notify]] entries"))
    if test:
        from notify.deliver import send_tests

        results = send_tests(targets, base_url)
        if as_json:
            print(
                json.dumps(
                    {
                        "sent": [t for t, e in results.items() if e is None],
                        "failed": {t: e for t, e in results.items() if e},
                    }
                )
            )
        else:
            for target_id, error in results.items():
                mark = "[green]sent[/]" if error is None else f"[red]failed:[/] {error}"
                console.print(f"{target_id}: {mark}", highlight=False)
        if any(results.values()):
            raise typer.Exit(1)
        return
    from notify.deliver import deliver

    report = deliver(db or defaults.db_url(), targets, base_url)
    counts = {
        "queued": report.queued,
        "sent": report.sent,
        "failed": report.failed,
        "waiting": report.deferred,
        "released": report.released,
    }
    if as_json:
        print(json.dumps({**counts, "errors": report.errors}))
        return
    _print_counts("notifications", counts)
    for target_id, error in report.errors.items():
        err.print(f"{target_id}: {error}", highlight=False)


@app.command()
def export(
    out: Annotated[Path, typer.Argument(help="The folder to write (new or empty for git).")],
    fmt: Annotated[
        str, typer.Option("--format", help="git, jsonl or csv.", show_default=True)
    ] = "git",
    with_text: Annotated[
        bool, typer.Option("--with-text", help="jsonl/csv: put each version's text in.")
    ] = False,
    db: DbOpt = None,
    base_url: BaseOpt = defaults.BASE_URL,
    as_json: JsonOpt = False,
) -> None:
    """Export the history: a git repository in Open Terms Archive's layout, or tables.

    --format git: one file per document, [bold]<Service>/<Document type>.md[/], one commit
    per version dated when it was recorded; technical changes in commits named "Apply
    technical or declaration upgrade on ..." (policywatch replay reads them back as such).
    --format jsonl|csv: changes.* (categories, summary, claims, dates) and versions.*.

    Examples:

      [bold]policywatch export --format git ../pw-versions && git -C ../pw-versions log -p[/]

      [bold]policywatch export --format csv out/ --base-url https://example.org/pw/[/]
    """
    from export.git import ExportError, export_git
    from export.tables import FORMATS, export_tables
    from storage.db import open_db

    if fmt not in ("git", *FORMATS):
        raise _fail(f"--format must be git, jsonl or csv, not {fmt!r}")
    if out.exists() and not out.is_dir():
        raise _fail(f"{out} is not a folder")
    url = db or defaults.db_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise _fail(f"no database at {url.removeprefix('sqlite:///')}")
    with open_db(url)() as session:
        try:
            if fmt == "git":
                done = export_git(session, out)
                report: dict[str, Any] = {
                    "out_dir": str(out),
                    "documents": done.documents,
                    "commits": done.commits,
                }
            else:
                report = {
                    "out_dir": str(out),
                    **export_tables(session, out, fmt, base_url, with_text),
                }
        except ExportError as exc:
            raise _fail(str(exc)) from exc
    if as_json:
        print(json.dumps(report))
        return
    _print_counts(f"export ({fmt}) to {out}", {k: v for k, v in report.items() if k != "out_dir"})


@app.command()
def add(
    url: Annotated[str, typer.Argument(help="The page to watch (http or https).")],
    doc_id: Annotated[str, typer.Option("--id", help="The new document's id (a-z 0-9 - _ .).")],
    select: Annotated[
        list[str] | None,
        typer.Option("--select", help="CSS selector of the text to keep (repeatable)."),
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="CSS selector to drop (repeatable).")
    ] = None,
    render: Annotated[str, typer.Option(help="http, or browser for JavaScript pages.")] = "http",
    title: Annotated[str | None, typer.Option(help="Title [default: the page's title].")] = None,
    service: Annotated[str | None, typer.Option(help="Service [default: from the host].")] = None,
    kind: Annotated[str, typer.Option(help="policy, genai, help or form.")] = "policy",
    locale: Annotated[str, typer.Option(help="The page's locale, like fr_FR.")] = "en_US",
    force: Annotated[
        bool, typer.Option("--force", help="Add it even if the fetch failed.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Fetch and show, add nothing.")
    ] = False,
    sources: SourcesOpt = defaults.SOURCES_PATH,
    as_json: JsonOpt = False,
) -> None:
    """Try a page once, show the text a crawl would keep, and add it to sources.toml.

    Fetches URL once (from its host only, as a crawl would: refused redirects elsewhere,
    browser mode with --render browser), shows the first lines and the word count of the
    text the --select rule keeps, or the failure (login-wall, consent-wall, blocked, empty,
    selector-not-found, http-4xx...), then appends a \\[\\[document]] entry to the sources file:
    its comments and layout stay as they were. Nothing is added after a failure (exit 1)
    unless --force.

    Example:

      [bold]policywatch add https://www.facebook.com/privacy/genai --id fb-genai --select "#root"[/]
    """
    from flows.add import AddError, append_entry, check_entry, service_of, try_entry

    entry: dict[str, Any] = {
        "id": doc_id,
        "service": service or service_of(url),
        "title": title or doc_id,
        "kind": kind,
        "url": url,
        "locale": locale,
        "render": render,
        "select": list(select or []),
        "remove": list(remove or []),
    }
    try:
        text, parsed = check_entry(sources, entry)
    except AddError as exc:
        raise _fail(escape(str(exc))) from exc
    trial = try_entry(parsed, doc_id)
    if title is None and trial.page_title:
        entry["title"] = trial.page_title
        try:
            text, parsed = check_entry(sources, entry)
        except AddError:
            entry["title"] = doc_id
            text, parsed = check_entry(sources, entry)
    added = (trial.failure is None or force) and not dry_run
    if added:
        append_entry(sources, text)
    if as_json:
        print(json.dumps({**asdict(trial), "entry": entry, "added": added}))
    else:
        _show_trial(trial)
        if added:
            console.print(f"added {doc_id} to {sources}", highlight=False)
        elif dry_run:
            console.print("dry run: nothing added", highlight=False)
        else:
            err.print(
                f"not added: {trial.failure}; change --select/--render, or add it with --force",
                highlight=False,
            )
    if trial.failure is not None and not force:
        raise typer.Exit(1)


def _show_trial(trial: Any) -> None:
    """What one fetch gave: outcome, words, the first lines of the text (crawled: escaped)."""
    from notify.message import sanitise

    status = f"HTTP {trial.http_status}" if trial.http_status else "no answer"
    console.print(escape(f"{trial.url}: {status}"), highlight=False)
    if trial.final_url and trial.final_url != trial.url:
        console.print(escape(f"  redirected to {trial.final_url}"), highlight=False)
    if trial.failure:
        detail = f" ({sanitise(trial.detail, 200)})" if trial.detail else ""
        console.print(f"[red]failure:[/] {escape(trial.failure + detail)}", highlight=False)
    console.print(f"{trial.words} words of text", highlight=False)
    for line in trial.lines[:12]:
        console.print("  " + escape(sanitise(line, 160)), highlight=False)
    if len(trial.lines) > 12:
        console.print(f"  … {len(trial.lines) - 12} more lines", highlight=False)


@app.command("sources")
def list_sources(sources: SourcesOpt = defaults.SOURCES_PATH, as_json: JsonOpt = False) -> None:
    """List the documents and notification targets of sources.toml.

    Example: [bold]policywatch sources --json | jq -r '.documents[].id'[/]
    """
    try:
        loaded = load_sources(sources)
    except SourcesError as exc:
        raise _fail(escape(str(exc))) from exc
    docs = [
        {
            "id": d.id,
            "service": d.service,
            "kind": d.kind,
            "render": d.render,
            "locale": d.locale,
            "url": d.url,
            "select": list(d.select),
        }
        for d in loaded.documents
    ]
    targets = [
        {
            "id": t.id,
            "mode": t.mode + (f" at {t.hour:02d}:00 UTC" if t.mode == "daily" else ""),
            "url_env": t.url_env,
            "url_set": bool(os.environ.get(t.url_env)),
            "categories": list(t.categories),
            "documents": list(t.documents),
        }
        for t in loaded.notify
    ]
    if as_json:
        print(json.dumps({"documents": docs, "notify": targets}))
        return
    table = Table(title=f"documents in {sources}")
    for col in ("id", "kind", "render", "locale", "url", "select"):
        table.add_column(col, overflow="fold")
    for d in docs:
        cells = (d["id"], d["kind"], d["render"], d["locale"], d["url"], ", ".join(d["select"]))
        table.add_row(*(escape(c) for c in cells))
    console.print(table)
    if targets:
        table = Table(title="notification targets")
        for col in ("id", "mode", "url from", "filters"):
            table.add_column(col, overflow="fold")
        for t in targets:
            env = t["url_env"] + ("" if t["url_set"] else " (not set)")
            filters = ", ".join([*t["categories"], *t["documents"]]) or "all changes"
            table.add_row(*(escape(c) for c in (t["id"], t["mode"], env, filters)))
        console.print(table)


def main() -> None:
    app()
