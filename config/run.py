"""The parameters of one run of the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from config import defaults
from config.documents import DocumentSpec
from config.sources import Sources, load_sources


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
    """The sources file of ``cfg``, parsed and validated (SourcesError if it is not valid)."""
    return load_sources(Path(cfg.sources_path))


def tracked_documents(cfg: RunConfig) -> tuple[DocumentSpec, ...]:
    """Every document of the sources file, once the ids ``cfg`` names are checked to be in it."""
    sources = sources_of(cfg)
    sources.select(cfg.documents or None)
    return sources.documents
