"""Test helpers over the real recorded Meta history in demo/data (ODC-BY 1.0, see
demo/data/ATTRIBUTION.md). Loading itself lives in demo.corpus."""

from __future__ import annotations

from functools import cache

from demo.corpus import RecordedVersion as CorpusVersion
from demo.corpus import load_history, load_html

__all__ = ["CorpusVersion", "load_corpus", "load_html", "load_normalised", "recorded_on"]


def load_corpus(name: str) -> list[CorpusVersion]:
    """All versions of ``demo/data/<name>.tar.xz``, oldest first (parsed once, cached)."""
    return list(load_history(name))


@cache
def load_normalised(name: str, base: str | None = None) -> tuple[str, ...]:
    """``normalise_markdown`` of every version of ``name`` (same order), computed once."""
    from changes.extract import normalise_markdown

    return tuple(normalise_markdown(v.text, base) for v in load_history(name))


def recorded_on(versions: list[CorpusVersion], day: str) -> int:
    """Index of the first version recorded on ``day`` (YYYY-MM-DD)."""
    for i, version in enumerate(versions):
        if version.recorded_at.date().isoformat() == day:
            return i
    raise LookupError(f"no version recorded on {day}")
