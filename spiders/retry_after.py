"""429 Too Many Requests / 503 with ``Retry-After``: wait as asked (up to a cap), once.

``retry_after_seconds`` reads the header (seconds or an HTTP date); the spider asks for one
more attempt with ``meta["wait_before"]`` set, and :class:`WaitBeforeMiddleware` sleeps that
long before the request goes to the download queue (other requests go on meanwhile). A wait
longer than the cap is not honoured by waiting: the attempt is recorded as failed and the
next run tries again.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from scrapy.http import Request

#: Statuses whose Retry-After is honoured.
RETRY_STATUSES = (429, 503)
#: The longest wait honoured, in seconds, and how many times one fetch is retried.
MAX_WAIT = 60.0
MAX_RETRIES = 1


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` value asks to wait (never negative), or None if unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class WaitBeforeMiddleware:
    """Downloader middleware: a request with ``meta["wait_before"]`` waits that many seconds."""

    async def process_request(self, request: Request) -> None:
        wait = float(request.meta.get("wait_before") or 0)
        if wait > 0:
            await asyncio.sleep(wait)
