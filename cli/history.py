"""Histories in and out: `replay` an archive, `export` what was recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import (
    BaseOpt,
    DbOpt,
    JsonOpt,
    OutOpt,
    SourcesOpt,
    console,
    fail,
    print_counts,
    progress_bar,
    publish_now,
)
from config import defaults
from config.sources import SourcesError, load_sources


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
    from pipeline.archive import ArchiveError, read_archive
    from pipeline.replay import replay as run_replay

    spec = _replay_spec(doc, sources, title, url, locale, service)
    try:
        versions = read_archive(archive, file)
    except ArchiveError as exc:
        raise fail(str(exc)) from exc
    with progress_bar("replay", disable=as_json) as bar:
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
    published = publish_now(db, out, base_url) if publish_ else None
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
    print_counts(
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
            raise fail(str(exc)) from exc
        if doc in known and not (title or url):
            return known[doc]
    if not url or not title:
        raise fail(f"document {doc!r} is not in {sources}: give --title and --url to create it")
    if not url.startswith(("http://", "https://")):
        raise fail(f"--url must be an http(s) URL, not {url!r}")
    return DocumentSpec(doc, service, title, "policy", url, None, locale, "http", (), ())


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
        raise fail(f"--format must be git, jsonl or csv, not {fmt!r}")
    if out.exists() and not out.is_dir():
        raise fail(f"{out} is not a folder")
    url = db or defaults.db_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise fail(f"no database at {url.removeprefix('sqlite:///')}")
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
            raise fail(str(exc)) from exc
    if as_json:
        print(json.dumps(report))
        return
    print_counts(f"export ({fmt}) to {out}", {k: v for k, v in report.items() if k != "out_dir"})


def rederive(
    documents: Annotated[
        list[str] | None, typer.Argument(help="Document ids (default: every document).")
    ] = None,
    publish_: Annotated[
        bool, typer.Option("--publish/--no-publish", help="Rebuild feeds and site afterwards.")
    ] = True,
    db: DbOpt = None,
    sources: SourcesOpt = defaults.SOURCES_PATH,
    out: OutOpt = str(defaults.OUT_DIR),
    base_url: BaseOpt = defaults.BASE_URL,
    as_json: JsonOpt = False,
) -> None:
    """Extract each document's current text again from its stored raw body, after an
    extractor upgrade or an edit of a document's select/remove rules.

    A text that comes out different becomes a new version and a [bold]technical[/] change,
    never an alert (the page did not change, the extraction did); the same text changes
    nothing, so running it twice is harmless. Published changes are never rewritten
    (docs/decisions/0015-rederive-moves-forward.md). Texts whose bodies were dropped by
    retention, and histories replayed from an archive, are skipped and listed.

    Example: [bold]policywatch rederive facebook-privacy-policy --db sqlite:///var/pw.db[/]
    """
    from pipeline.rederive import DocumentResult, UnknownDocuments
    from pipeline.rederive import rederive as run_rederive

    db_url = db or defaults.db_url()
    try:
        load_sources(sources)
    except SourcesError as exc:
        raise fail(str(exc)) from exc
    with progress_bar("rederive", disable=as_json) as bar:
        task_id = bar.add_task("", total=None)

        def on_document(done: int, total: int, result: DocumentResult) -> None:
            bar.update(task_id, completed=done, total=total, description=result.document_id)

        try:
            report = run_rederive(db_url, str(sources), documents or [], progress=on_document)
        except UnknownDocuments as exc:
            raise fail(
                f"no document {exc} in the database: `policywatch status` lists them"
            ) from exc
    published = publish_now(db, out, base_url) if publish_ else None
    counts = report.counts()
    if as_json:
        rows = [
            {
                "document": r.document_id,
                "outcome": r.outcome,
                "detail": r.detail,
                "change_id": r.change_id,
            }  # fmt: skip
            for r in report.results
        ]
        print(json.dumps({"run_id": report.run_id, "extractor": report.extractor, **counts,
                          "results": rows,
                          "out_dir": published["out_dir"] if published else None}))  # fmt: skip
        return
    print_counts(
        f"rederive with extractor {report.extractor} (run {report.run_id})",
        {k.replace("_", " "): v for k, v in counts.items()},
    )
    for r in report.results:
        if r.outcome != "same":
            change = f" (change {r.change_id})" if r.change_id else ""
            console.print(f"  {r.document_id}: {r.outcome}{change}: {r.detail}", highlight=False)
    if counts["deferred"]:
        console.print("Some documents were busy: run `policywatch rederive` again for them.")
    if published:
        console.print(f"feeds and site: {published['out_dir']}")
