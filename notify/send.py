"""Send one message to one target through apprise; failures come back as one line of text.

The apprise URL comes from the environment variable the target names and is never
printed or stored: errors are apprise's own log lines with the URL's secrets redacted.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise

from config.notify import NotifyTarget
from notify.message import Message

__all__ = ["DeliveryError", "send", "target_url"]

_MAX_ERROR = 500


class DeliveryError(RuntimeError):
    """The target did not take the message; the text says why, without secrets."""


def target_url(target: NotifyTarget, environ: Mapping[str, str] | None = None) -> str:
    """The apprise URL of ``target``, from its environment variable."""
    env = os.environ if environ is None else environ
    url = (env.get(target.url_env) or "").strip()
    if not url:
        raise DeliveryError(f"environment variable {target.url_env} is not set")
    return url


def _secrets(url: str) -> list[str]:
    """The parts of an apprise URL that may be secret: itself, user info, path segments and
    query values that look like tokens."""
    found = [url]
    try:
        parts = urlsplit(url)
        found += [p for p in (parts.password, parts.username) if p]
        found += [unquote(s) for s in parts.path.split("/") if len(s) >= 8]
        found += [v for _, v in parse_qsl(parts.query) if len(v) >= 6]
        if parts.hostname and "@" not in parts.netloc and parts.scheme not in ("json", "jsons"):
            found.append(parts.hostname)  # some services carry a token as the "host"
    except ValueError:
        pass
    return sorted({s for s in found if s}, key=len, reverse=True)


def redact(text: str, url: str) -> str:
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return text


def _reason(log: str, url: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    reason = " / ".join(lines[-3:]) or "apprise reported a failure without a reason"
    reason = re.sub(r"\s+", " ", redact(reason, url))
    return reason[:_MAX_ERROR]


def send(target: NotifyTarget, message: Message, environ: Mapping[str, str] | None = None) -> None:
    """Deliver ``message`` to ``target``; raise DeliveryError if it was not taken."""
    url = target_url(target, environ)
    client = apprise.Apprise()
    if not client.add(url) or len(client) != 1:
        raise DeliveryError(
            f"the value of {target.url_env} is not an apprise URL apprise can use "
            "(see https://github.com/caronc/apprise/wiki)"
        )
    markdown = client[0].notify_format == apprise.NotifyFormat.MARKDOWN
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as log:
        ok = client.notify(
            body=message.body(markdown=markdown),
            title=message.title,
            body_format=apprise.NotifyFormat.MARKDOWN if markdown else apprise.NotifyFormat.TEXT,
        )
        captured = log.getvalue()
    if not ok:
        raise DeliveryError(_reason(captured, url))
