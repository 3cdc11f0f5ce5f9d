"""The `policywatch` command line: crawl now, serve on a schedule, publish, status, replay,
demo."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from config import defaults
from config.run import RunConfig
from config.sources import SourcesError, load_sources
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
    Path, typer.Option("--out", envvar="POLICYWATCH_OUT", help="Folder for feeds and site.")
]
BaseOpt = Annotated[
    str,
    typer.Option("--base-url", envvar="POLICYWATCH_BASE_URL", help="Public URL of --out."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


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


def _publish(db: str | None, out: Path, base_url: str) -> dict[str, Any]:
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
    out: OutOpt = defaults.OUT_DIR,
    base_url: BaseOpt = defaults.BASE_URL,
    as_json: JsonOpt = False,
) -> None:
    """Run the monitor flow now (the manual trigger): fetch, diff, publish.

    Example: [bold]policywatch crawl facebook-privacy-policy --db sqlite:///var/pw.db[/]
    """
    _check_sources(sources, documents)
    result = run_monitor(
        documents or [], db or defaults.db_url(), sources, out, base_url, "manual", not as_json
    )
    if as_json:
        print(json.dumps(result))
        return
    keys = ("fetched", "failures", "new", "same", "held", "confirmed", "changes")
    _print_counts(f"run {result['run_id']}", {k: result.get(k, 0) for k in keys})
    console.print(f"feeds and site: {result['out_dir']}")


@app.command()
def publish(
    db: DbOpt = None,
    out: OutOpt = defaults.OUT_DIR,
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
    out: OutOpt = defaults.OUT_DIR,
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
    """Documents, their last fetch and its outcome, versions, held versions and changes.

    Example: [bold]policywatch status --json | jq '.[] | select(.last_error)'[/]
    """
    from flows.report import status_rows

    rows = status_rows(db or defaults.db_url())
    if as_json:
        print(json.dumps(rows))
        return
    table = Table(title="policywatch status")
    # ids are what people copy: fold them onto more lines, never cut them
    table.add_column("document", overflow="fold", ratio=3)
    for col in ("kind", "last fetch (UTC)", "outcome"):
        table.add_column(col, overflow="fold", ratio=1)
    for col in ("versions", "held", "changes"):
        table.add_column(col, justify="right", no_wrap=True)
    for r in rows:
        table.add_row(
            r["document"],
            r["kind"],
            r["last_fetch"][:16].replace("T", " ") if r["last_fetch"] else "never",
            r["outcome"] or "",
            str(r["versions"]),
            str(r["held"]),
            str(r["changes"]),
        )
    console.print(table)


@app.command()
def serve(
    cron: Annotated[str, typer.Option(help="When to run (cron, UTC).")] = defaults.CRON,
    name: Annotated[str, typer.Option(help="Deployment name.")] = "policywatch",
    db: DbOpt = None,
    sources: SourcesOpt = defaults.SOURCES_PATH,
    out: OutOpt = defaults.OUT_DIR,
    base_url: BaseOpt = defaults.BASE_URL,
) -> None:
    """Serve the monitor flow as a Prefect deployment on a cron schedule (default every 6 h).

    Needs a Prefect server (schedules never fire on Prefect's ephemeral server):

      prefect server start &
      export PREFECT_API_URL=http://127.0.0.1:4200/api
      policywatch serve --cron "0 */6 * * *"

    Start a run by hand from the Prefect UI or with
    [bold]prefect deployment run monitor/policywatch[/]. Stopping (Ctrl-C, SIGTERM)
    pauses the schedule.
    """
    if not os.environ.get("PREFECT_API_URL"):
        raise _fail(
            "PREFECT_API_URL is not set. Scheduled runs need a Prefect server:\n"
            "  prefect server start &\n"
            "  export PREFECT_API_URL=http://127.0.0.1:4200/api\n"
            "then run `policywatch serve` again."
        )
    _check_sources(sources)
    from flows.serving import serve as serve_deployment

    url = db or defaults.db_url()
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = f"sqlite:///{Path(url.removeprefix('sqlite:///')).resolve()}"
    params = {
        "db": url,
        "sources": str(sources.resolve()),
        "out": str(out.resolve()),
        "base_url": base_url,
        "trigger": "scheduled",
    }
    err.print(f"serving monitor/{name} on cron {cron!r}; Ctrl-C or SIGTERM stops and pauses it")
    # A SIGTERM that comes before Prefect's runner is up must still stop cleanly.
    signal.signal(signal.SIGTERM, _interrupt)
    serve_deployment(name, cron, params)


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
    out: OutOpt = defaults.OUT_DIR,
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
) -> None:
    """Replay real Facebook privacy-policy history through a local stand-in for Meta.

    Serves real recorded versions (2022-2026) as Meta-shaped pages on 127.0.0.1, crawls
    after each step through the real spider and flow, publishes, prints what it found.
    Uses its own database and output folder: your sources and database are untouched.

    Example: [bold]policywatch demo --dir /tmp/pw-demo[/]
    """
    from demo.run import run_demo

    sys.exit(run_demo(workdir, console, limit=steps_))


def main() -> None:
    app()
