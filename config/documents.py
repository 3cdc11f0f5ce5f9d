"""What sources.toml says of one document, and of a newsroom feed beyond it."""

from __future__ import annotations

from dataclasses import dataclass

from config.noise import DEFAULT_PROFILE


def language(locale: str | None) -> str:
    """The language of a locale: ``fr_FR`` (or ``fr-FR``) -> ``fr``; "" if none."""
    return (locale or "").replace("-", "_").split("_")[0].lower()


@dataclass(frozen=True)
class DocumentSpec:
    """One tracked document as configured (storage keeps a copy of it as a Document row)."""

    id: str
    service: str
    title: str
    kind: str
    url: str
    page_url: str | None
    locale: str
    render: str
    select: tuple[str, ...]
    remove: tuple[str, ...]
    group_id: str | None = None  # the base document of a locale, the feed of a newsroom post
    profile: str = DEFAULT_PROFILE  # its noise profile, added to `default` (config/noise.py)

    @property
    def language(self) -> str:
        """The language of the locale: ``fr_FR`` -> ``fr``."""
        return language(self.locale)


@dataclass(frozen=True)
class FeedSettings:
    """What sources.toml says of a newsroom feed beyond its document fields."""

    keywords: tuple[str, ...]
    post_select: tuple[str, ...] = ()
    post_remove: tuple[str, ...] = ()
