"""`policywatch add`: try a new document once, show what a crawl would keep, then append
it to sources.toml.

The entry is checked by the sources parser (on the whole file as it would be) before
anything is fetched; the page is fetched once through the real spider, in a subprocess,
with a sources file naming only that document, so only that URL's host can be fetched;
its text is extracted with the entry's ``select``/``remove`` rules and judged as a crawl
would (login wall, consent wall, anti-bot page, too few words...). The entry is appended
as text, so the file's comments and layout stay as they were.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cssselect import SelectorError
from lxml.cssselect import CSSSelector
from w3lib.encoding import html_to_unicode

from changes.extract import extract, word_count
from changes.quality import page_failure
from config.sources import Sources, SourcesError, parse_sources
from storage.blobs import get_blob
from storage.db import open_db
from storage.repo import last_fetch, sync_documents

__all__ = ["AddError", "Trial", "append_entry", "entry_toml", "new_entry_text", "try_entry"]

ROOT = Path(__file__).resolve().parent.parent
_SPACES = re.compile(r"\s+")


class AddError(ValueError):
    """The entry cannot be added (bad input): one line that says why."""


@dataclass
class Trial:
    """What one fetch of the new document gave."""

    url: str
    final_url: str | None = None
    http_status: int | None = None
    failure: str | None = None  # a fetch error or a page failure type, None if fine
    detail: str | None = None
    words: int = 0
    selector_matched: bool = True
    lines: list[str] = field(default_factory=list)  # the first lines of the kept text
    page_title: str | None = None


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # a TOML basic string: JSON's escapes are TOML's too
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def entry_toml(entry: dict[str, Any]) -> str:
    """A ``[[document]]`` table for ``entry`` (strings and lists of strings)."""
    lines = ["[[document]]"]
    for key, value in entry.items():
        if value is None or value == [] or value == ():
            continue
        lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def new_entry_text(current: str, entry: dict[str, Any]) -> str:
    """The sources file with ``entry`` appended, comments and all kept."""
    text = current if current.endswith("\n") or not current else current + "\n"
    return f"{text}\n{entry_toml(entry)}"


def service_of(url: str) -> str:
    """A guess at the service from the host: ``privacycenter.instagram.com`` -> Instagram."""
    host = (urlsplit(url).hostname or "").lower()
    try:
        ipaddress.ip_address(host)
        return "Web"
    except ValueError:
        pass
    labels = [label for label in host.split(".") if label]
    name = labels[-2] if len(labels) >= 2 else (labels[0] if labels else "Web")
    return name[:1].upper() + name[1:]


def check_entry(path: Path, entry: dict[str, Any]) -> tuple[str, Sources]:
    """The new file text and what it parses to; AddError if the entry does not fit."""
    try:
        current = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AddError(f"{path}: cannot read ({exc.strerror})") from exc
    for selector in [*entry.get("select", []), *entry.get("remove", [])]:
        try:
            CSSSelector(selector)  # the extractor's own selector engine (changes/extract.py)
        except SelectorError as exc:
            raise AddError(f"{selector!r} is not a valid CSS selector") from exc
    text = new_entry_text(current, entry)
    try:
        sources = parse_sources(text, path)
    except SourcesError as exc:
        raise AddError(f"{path}: {exc}") from exc
    return text, sources


def _sources_for_trial(sources: Sources, doc_id: str) -> str:
    """A sources file with the crawl settings and this one document only."""
    crawl = sources.crawl
    lines = ["[crawl]"]
    lines.append(f"contact_url = {_toml_value(crawl.contact_url)}")
    lines += [
        "download_delay = 0.0",
        f"timeout = {float(crawl.timeout)}",
        f"max_bytes = {int(crawl.max_bytes)}",
        f"min_words = {int(crawl.min_words)}",
        "",
    ]
    doc = next(d for d in sources.documents if d.id == doc_id)
    entry = {
        "id": doc.id, "service": doc.service, "title": doc.title, "kind": doc.kind,
        "url": doc.url, "locale": doc.locale, "render": doc.render,
        "select": list(doc.select), "remove": list(doc.remove),
    }  # fmt: skip
    if doc.kind == "newsroom":
        feed = sources.feeds[doc.id]
        entry["keywords"] = list(feed.keywords)
    return "\n".join(lines) + "\n" + entry_toml(entry)


def try_entry(sources: Sources, doc_id: str, timeout: float = 300.0) -> Trial:
    """Fetch the document ``doc_id`` of ``sources`` once, through the spider, and judge it."""
    doc = next(d for d in sources.documents if d.id == doc_id)
    trial = Trial(url=doc.url)
    with tempfile.TemporaryDirectory(prefix="policywatch-add-") as tmp:
        trial_sources = Path(tmp) / "sources.toml"
        trial_sources.write_text(_sources_for_trial(sources, doc_id), encoding="utf-8")
        db_url = f"sqlite:///{Path(tmp) / 'trial.db'}"
        with open_db(db_url).begin() as session:  # the spider stores its fetch here
            sync_documents(session, [doc])
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": path}
        cmd = [sys.executable, "-m", "spiders.crawl", "--db", db_url]
        cmd += ["--sources", str(trial_sources), "--doc", doc_id]
        done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
        with open_db(db_url)() as session:
            fetch = last_fetch(session, doc_id)
            if fetch is None:
                tail = (done.stderr or "").strip().splitlines()[-1:] or ["no fetch was recorded"]
                trial.failure, trial.detail = "error", tail[0][:300]
                return trial
            trial.final_url, trial.http_status = fetch.final_url, fetch.http_status
            if fetch.error or fetch.blob_hash is None:
                trial.failure = fetch.error or "error"
                trial.detail = fetch.error_detail
                return trial
            body = get_blob(session, fetch.blob_hash)
            content_type = (fetch.headers or {}).get("content-type")
    _encoding, html = html_to_unicode(content_type, body)
    ext = extract(html, trial.final_url or doc.url, doc.select, doc.remove)
    trial.words = word_count(ext.text)
    trial.selector_matched = ext.selector_matched
    trial.failure = page_failure(trial.final_url, html, trial.words, sources.crawl.min_words)
    if not ext.selector_matched and doc.select:
        trial.failure = trial.failure or "selector-not-found"
        trial.detail = f"nothing matches {', '.join(doc.select)}"
    elif trial.failure:
        trial.detail = f"{trial.words} words of text after extraction"
    trial.lines = [line for line in ext.text.splitlines() if line.strip()]
    if ext.title:
        trial.page_title = _SPACES.sub(" ", ext.title).strip()[:200] or None
    return trial


def append_entry(path: Path, text: str) -> None:
    """Write the new sources text in place of the old, atomically (same folder, rename)."""
    tmp = path.with_name(f".{path.name}.add-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    try:
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
