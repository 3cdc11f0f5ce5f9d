"""What a failed fetch was, as the type ``Fetch.error`` stores: mapped from the exception
classes Scrapy and Twisted raise; substrings of the message only for the browser path
(Playwright reports every failure as one error class with a ``net::ERR_...`` message)."""

from __future__ import annotations

from enum import StrEnum

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from twisted.internet import error as tx


class FetchError(StrEnum):
    """Why a fetch has no usable body (stored in ``Fetch.error``)."""

    TIMEOUT = "timeout"
    TOO_LARGE = "too-large"  # cut at [crawl] max_bytes
    DNS = "dns"
    CONNECTION = "connection"  # refused, reset or lost
    TRUNCATED = "truncated"  # the body ended before its announced length
    HTTP_4XX = "http-4xx"
    HTTP_5XX = "http-5xx"
    OFFSITE_REDIRECT = "offsite-redirect"  # to a host sources.toml does not name
    REDIRECT_LOOP = "redirect-loop"
    ERROR = "error"  # anything else; the detail says what


#: Exception classes, most specific first. Scrapy wraps Twisted's errors in its own
#: (scrapy.utils._download_handlers.wrap_twisted_exceptions); the Twisted ones are listed
#: for the paths that do not wrap them.
BY_CLASS: tuple[tuple[type[BaseException], FetchError], ...] = (
    (DownloadTimeoutError, FetchError.TIMEOUT),
    (tx.TimeoutError, FetchError.TIMEOUT),
    (tx.TCPTimedOutError, FetchError.TIMEOUT),
    (DownloadCancelledError, FetchError.TOO_LARGE),  # Scrapy cancels a body over DOWNLOAD_MAXSIZE
    (CannotResolveHostError, FetchError.DNS),
    (tx.DNSLookupError, FetchError.DNS),
    (DownloadConnectionRefusedError, FetchError.CONNECTION),
    (tx.ConnectionRefusedError, FetchError.CONNECTION),
    (tx.ConnectionLost, FetchError.CONNECTION),
    (tx.ConnectionDone, FetchError.CONNECTION),
    (ResponseDataLossError, FetchError.TRUNCATED),
)


def fetch_error(exc: BaseException) -> FetchError:
    """The type of a download failure: by its class, else (browser path, and Scrapy's
    catch-all DownloadFailedError) by words of its message."""
    for cls, kind in BY_CLASS:
        if isinstance(exc, cls):
            return kind
    return _by_message(exc)


def _by_message(exc: BaseException) -> FetchError:
    name = type(exc).__name__
    text = f"{name} {exc}".lower()
    if "timeout" in text or "timedout" in text:
        return FetchError.TIMEOUT
    if "max size" in text:
        return FetchError.TOO_LARGE
    if "dns" in text or "resolve" in text:
        return FetchError.DNS
    if "refused" in text or "connection" in text or "lost" in text:
        return FetchError.CONNECTION
    if "dataloss" in text:
        return FetchError.TRUNCATED
    return FetchError.ERROR
