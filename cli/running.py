"""Commands that run the pipeline now: `crawl`, `publish`, `check-links`."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer

from cli.common import (
    EXIT_ALL_FAILED,
    BaseOpt,
    DbOpt,
    JsonOpt,
    OutOpt,
    SourcesOpt,
    check_sources,
    console,
    err,
    fail,
    print_counts,
    publish_now,
)
from config import defaults
from config.run import RunConfig
from flows.crawl_now import run_monitor


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
    check_sources(sources, documents)
    db_url = db or defaults.db_url()
    result = run_monitor(documents or [], db_url, sources, out, base_url, "manual", not as_json)
    all_failed = result.get("fetches", 0) > 0 and result.get("failures") == result["fetches"]
    if as_json:
        print(json.dumps(result))
    else:
        keys = ("fetched", "failures", "new", "same", "held", "confirmed", "changes")
        print_counts(f"run {result['run_id']}", {k: result.get(k, 0) for k in keys})
        console.print(f"feeds and site: {result['out_dir']}")
    if all_failed:
        from cli.report import run_failures

        failures = run_failures(db_url, result["run_id"])
        for f in failures:
            status = f" HTTP {f['http_status']}" if f["http_status"] else ""
            detail = f": {f['detail']}" if f["detail"] else ""
            err.print(f"  {f['document']}: {f['error']}{status}{detail}", highlight=False)
        raise fail(
            f"every fetch failed ({len(failures)} of {result['fetches']}): nothing was "
            "checked (exit code 3)",
            EXIT_ALL_FAILED,
        )


def publish(
    db: DbOpt = None,
    out: OutOpt = str(defaults.OUT_DIR),
    base_url: BaseOpt = defaults.BASE_URL,
    as_json: JsonOpt = False,
) -> None:
    """Rebuild the feeds and the static site from the database (no fetching, no diffing).

    Example: [bold]policywatch publish --out public --base-url https://example.org/pw/[/]
    """
    result = publish_now(db, out, base_url)
    if as_json:
        print(json.dumps(result))
    else:
        console.print(
            f"published {result['changes']} changes, {result['pages']} pages to {result['out_dir']}"
        )


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
    check_sources(sources)
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from flows import temporary_api

    temporary_api.start()  # without a configured Prefect server: started while importing
    from flows.check_links import check_links as check_links_flow

    cfg = RunConfig(
        db_url=db or defaults.db_url(),
        sources_path=str(sources.resolve()),
        out_dir=str(out),
        base_url=base_url,
        trigger="check-links",
    )
    temporary_api.ready()
    with temporary_api.flow_settings():
        counts = check_links_flow(cfg)
    if as_json:
        print(json.dumps(counts))
        return
    keys = ("links", "checked", "skipped", "link_changes")
    print_counts(f"run {counts['run_id']}: link checks", {k: counts[k] for k in keys})
