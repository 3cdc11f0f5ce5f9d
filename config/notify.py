"""``[[notify]]`` entries of sources.toml: where alerts go, validated (pure, no I/O).

An entry names the environment variable that holds the apprise URL, never the URL itself:
apprise URLs carry passwords and tokens, and sources.toml is meant to be committed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["MODES", "NotifyConfigError", "NotifyTarget", "parse_targets", "unknown_categories"]

MODES = ("each", "daily")
_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,99}")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: What a category name looks like. Which names exist is for changes/categories/ to say
#: (this layer imports nothing above it): config.sources.Sources.check_categories.
_CATEGORY = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_FIELDS = {"id", "url_env", "mode", "hour", "categories", "documents", "alerts_only"}


class NotifyConfigError(ValueError):
    """A ``[[notify]]`` entry that cannot be used; the message names the entry and field."""


@dataclass(frozen=True)
class NotifyTarget:
    """One place alerts go: ``each`` change as it is found, or a ``daily`` digest at
    ``hour`` (UTC). Empty ``categories`` / ``documents`` mean all; ``alerts_only`` leaves
    out the changes policywatch keeps quiet (a page flipping back, technical ones)."""

    id: str
    url_env: str
    mode: str = "each"
    hour: int = 8
    categories: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    alerts_only: bool = True

    def wants(
        self, document_id: str, categories: Iterable[str], alert: bool, technical: bool
    ) -> bool:
        """Whether a change of ``document_id`` with these categories is for this target.

        A document id also names its other locales (``<id>.fr_FR``) and, for a newsroom
        feed, its posts (``<id>.<post>``).
        """
        if self.alerts_only and (technical or not alert):
            return False
        if self.categories and not set(self.categories) & set(categories):
            return False
        if self.documents and not any(
            document_id == d or document_id.startswith(f"{d}.") for d in self.documents
        ):
            return False
        return True


def _strings(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise NotifyConfigError(f"{where}: field '{key}' must be a list of strings")
    return tuple(v.strip() for v in value)


def _target(entry: Any, index: int, document_ids: frozenset[str]) -> NotifyTarget:
    where = f"notify #{index + 1}"
    if not isinstance(entry, dict):
        raise NotifyConfigError(f"{where}: must be a table ([[notify]])")
    target_id = entry.get("id")
    if not isinstance(target_id, str) or not _ID.fullmatch(target_id):
        raise NotifyConfigError(
            f"{where}: field 'id' must be a name of a-z, 0-9, '-', '_', '.', got {target_id!r}"
        )
    where = f"notify '{target_id}' (#{index + 1})"
    if "url" in entry:
        raise NotifyConfigError(
            f"{where}: field 'url' is not allowed: apprise URLs hold secrets; put the URL in "
            "an environment variable and name it in 'url_env'"
        )
    extra = sorted(set(entry) - _FIELDS)
    if extra:
        raise NotifyConfigError(f"{where}: unknown field(s) {', '.join(extra)}")
    url_env = entry.get("url_env")
    if not isinstance(url_env, str) or not _ENV.fullmatch(url_env):
        raise NotifyConfigError(
            f"{where}: field 'url_env' must name an environment variable, e.g. "
            '"POLICYWATCH_NOTIFY_MAIL"'
        )
    mode = entry.get("mode", "each")
    if mode not in MODES:
        raise NotifyConfigError(f"{where}: field 'mode' must be one of {', '.join(MODES)}")
    hour = entry.get("hour", 8)
    if isinstance(hour, bool) or not isinstance(hour, int) or not 0 <= hour <= 23:
        raise NotifyConfigError(f"{where}: field 'hour' must be an hour 0-23 (UTC)")
    if "hour" in entry and mode != "daily":
        raise NotifyConfigError(f"{where}: field 'hour' is only for mode \"daily\"")
    alerts_only = entry.get("alerts_only", True)
    if not isinstance(alerts_only, bool):
        raise NotifyConfigError(f"{where}: field 'alerts_only' must be true or false")
    categories = _strings(entry, "categories", where)
    wrong = [c for c in categories if not _CATEGORY.fullmatch(c)]
    if wrong:
        raise NotifyConfigError(
            f"{where}: field 'categories': {', '.join(map(repr, wrong))} is not a category "
            "name (lower-case words joined by '-', e.g. \"legal-basis\")"
        )
    documents = _strings(entry, "documents", where)
    unknown = [d for d in documents if d not in document_ids]
    if unknown:
        raise NotifyConfigError(f"{where}: field 'documents': unknown id(s) {', '.join(unknown)}")
    return NotifyTarget(
        id=target_id,
        url_env=url_env,
        mode=mode,
        hour=hour,
        categories=categories,
        documents=documents,
        alerts_only=alerts_only,
    )


def unknown_categories(
    targets: Iterable[NotifyTarget], known: Iterable[str]
) -> NotifyConfigError | None:
    """The error for the first target filtering on a category not in ``known``, or None."""
    names = tuple(known)
    for target in targets:
        wrong = [c for c in target.categories if c not in names]
        if wrong:
            return NotifyConfigError(
                f"notify '{target.id}': field 'categories': unknown {', '.join(wrong)}; "
                f"known: {', '.join(names)}"
            )
    return None


def parse_targets(entries: Any, document_ids: Iterable[str]) -> tuple[NotifyTarget, ...]:
    """The ``[[notify]]`` array of a parsed sources file (None: no targets), validated."""
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise NotifyConfigError("notify: must be an array of tables ([[notify]])")
    known = frozenset(document_ids)
    targets = [_target(entry, i, known) for i, entry in enumerate(entries)]
    seen: set[str] = set()
    for target in targets:
        if target.id in seen:
            raise NotifyConfigError(f"notify '{target.id}': id used twice")
        seen.add(target.id)
    return tuple(targets)
