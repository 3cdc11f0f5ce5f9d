"""Browser mode (``render = "browser"``): headless Chromium driven by scrapy-playwright.

Only requests of documents with ``render = "browser"`` go through the browser; plain HTTP
stays the default. Hosts that sources.toml does not name are never fetched in the browser
either: their requests are aborted (route abort), and since Chromium follows redirects
without asking the route again, its resolver is told that every other host does not exist.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import Page
from playwright.async_api import Request as BrowserRequest
from playwright.async_api import TimeoutError as BrowserTimeout

HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
# As the project's machines need them: no sandbox (root), no GPU, no calls home.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
SYSTEM_CHROMIUMS = ("chromium", "chromium-browser", "google-chrome")
_HAS_TEXT = """selectors => selectors.some(s => Array.from(document.querySelectorAll(s))
    .some(e => (e.innerText || e.textContent || '').trim().length > 0))"""


def chromium_executable() -> str | None:
    """The Chromium to launch: ``POLICYWATCH_CHROMIUM``, else Playwright's own browser if
    ``playwright install chromium`` put one there (None), else a system Chromium."""
    if path := os.environ.get("POLICYWATCH_CHROMIUM"):
        return path
    cache = os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or str(Path.home() / ".cache/ms-playwright")
    if any(Path(cache).glob("chromium*")):
        return None
    for name in SYSTEM_CHROMIUMS:
        if found := shutil.which(name):
            return found
    return None


def allowed(url: str, hosts: frozenset[str]) -> bool:
    """True for URLs on a named host, and for in-page URLs (data:, blob:, about:)."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return (parts.hostname or "").lower() in hosts


class Offsite:
    """PLAYWRIGHT_ABORT_REQUEST: abort every browser request to a host not named."""

    def __init__(self, hosts: frozenset[str]) -> None:
        self.hosts = hosts

    def __call__(self, request: BrowserRequest) -> bool:
        return not allowed(request.url, self.hosts)


def settings(hosts: frozenset[str], timeout: float) -> dict[str, Any]:
    """Scrapy settings that send ``meta["playwright"]`` requests through Chromium."""
    rules = ", ".join(["MAP * ~NOTFOUND", *(f"EXCLUDE {h}" for h in sorted(hosts))])
    launch: dict[str, Any] = {
        "headless": True,
        "args": [*CHROMIUM_ARGS, f"--host-resolver-rules={rules}"],
    }
    if executable := chromium_executable():
        launch["executable_path"] = executable
    return {
        "DOWNLOAD_HANDLERS": {"http": HANDLER, "https": HANDLER},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch,
        "PLAYWRIGHT_ABORT_REQUEST": Offsite(hosts),
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout * 1000,
    }


async def wait_for_text(page: Page, selectors: list[str], timeout_ms: float) -> None:
    """Wait until one of ``selectors`` holds text; a page that never gets it is kept as is
    (an empty or login page is then recorded as that failure, not as a timeout)."""
    try:
        await page.wait_for_function(_HAS_TEXT, arg=selectors, timeout=timeout_ms)
    except BrowserTimeout:
        pass


def request_meta(
    selectors: tuple[str, ...], locale: str, timeout: float, on_request: Any
) -> dict[str, Any]:
    """The meta of a browser-mode request: one context per locale, wait for the text."""
    from scrapy_playwright.page import PageMethod

    return {
        "playwright": True,
        "playwright_context": f"locale-{locale}",
        "playwright_context_kwargs": {
            "locale": locale.replace("_", "-"),
            "service_workers": "block",  # a service worker's requests would bypass the abort
        },
        "playwright_page_methods": [
            PageMethod(wait_for_text, list(selectors) or ["body"], timeout * 1000)
        ],
        "playwright_page_event_handlers": {"request": on_request},
    }
