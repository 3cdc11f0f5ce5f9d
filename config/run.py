"""The parameters of one run of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from config import defaults
from config.documents import DocumentSpec
from config.sources import Sources, SourcesError, load_sources, parse_sources


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs; JSON-serialisable so it can be a Prefect parameter."""

    db_url: str
    sources_path: str
    out_dir: str = str(defaults.OUT_DIR)
    base_url: str = defaults.BASE_URL
    documents: list[str] = field(default_factory=list)
    trigger: str = "manual"
    flap_window_days: float = defaults.FLAP_WINDOW_DAYS


def sources_of(cfg: RunConfig) -> Sources:
    """The sources file of ``cfg``, parsed and validated (SourcesError if it is not valid).

    Read on every call; parsed once per content (a run asks for it once per document)."""
    path = Path(cfg.sources_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return load_sources(path)  # raises SourcesError, saying why in one line
    return _parsed(text, path)


@lru_cache(maxsize=8)
def _parsed(text: str, path: Path) -> Sources:
    try:
        return parse_sources(text, path)
    except SourcesError as exc:  # not cached: the next call says it again
        raise SourcesError(f"{path}: {exc}") from exc


def tracked_documents(cfg: RunConfig) -> tuple[DocumentSpec, ...]:
    """Every document of the sources file, once the ids ``cfg`` names are checked to be in it."""
    sources = sources_of(cfg)
    sources.select(cfg.documents or None)
    return sources.documents
