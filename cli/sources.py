"""The sources file: `add` a page after one trial fetch, list the `sources`."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from cli.common import JsonOpt, SourcesOpt, console, err, fail, load_checked_sources
from config import defaults


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
    profile: Annotated[
        str | None,
        typer.Option(help="Noise profile (config/profiles/<name>.toml) [default: default]."),
    ] = None,
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
    from pipeline.add import AddError, append_entry, check_entry, service_of, try_entry

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
    if profile is not None:
        entry["profile"] = profile
    try:
        text, parsed = check_entry(sources, entry)
    except AddError as exc:
        raise fail(str(exc)) from exc
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


def list_sources(sources: SourcesOpt = defaults.SOURCES_PATH, as_json: JsonOpt = False) -> None:
    """List the documents and notification targets of sources.toml.

    Example: [bold]policywatch sources --json | jq -r '.documents[].id'[/]
    """
    loaded = load_checked_sources(sources)
    docs = [
        {
            "id": d.id,
            "service": d.service,
            "kind": d.kind,
            "render": d.render,
            "locale": d.locale,
            "url": d.url,
            "select": list(d.select),
            "profile": d.profile,
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
    for col in ("id", "kind", "render", "locale", "url", "select", "profile"):
        table.add_column(col, overflow="fold")
    for d in docs:
        cells = (
            d["id"], d["kind"], d["render"], d["locale"], d["url"], ", ".join(d["select"]),
            d["profile"],
        )  # fmt: skip
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
