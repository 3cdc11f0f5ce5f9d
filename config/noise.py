"""Noise profiles: which lines of a page are chrome, one TOML file per profile.

The shipped profiles are the files of ``config/profiles/`` (``default.toml``,
``meta.toml``); a folder named by ``POLICYWATCH_PROFILES`` is searched first, for profiles
kept outside the package. A document names its profile in sources.toml
(``profile = "meta"``); every document uses ``default`` plus the profile it names.
``changes/noise.py`` applies the rules; this module only finds and reads them.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES_DIR",
    "PROFILES_ENV",
    "NoiseProfile",
    "ProfileError",
    "load_profile",
    "profile_names",
]

#: The profile every document uses; a named profile adds its rules to it.
DEFAULT_PROFILE = "default"
#: The profiles shipped with policywatch: ``<name>.toml``.
PROFILES_DIR = Path(__file__).parent / "profiles"
#: An environment variable naming a further folder of profile files, searched first.
PROFILES_ENV = "POLICYWATCH_PROFILES"


class ProfileError(ValueError):
    """An unknown profile, or a profile file that cannot be used."""


@dataclass(frozen=True)
class NoiseProfile:
    """One profile file: regular expressions matched against whole lines, and test lines."""

    name: str
    text: tuple[str, ...] = ()  # against a line's plain text
    raw: tuple[str, ...] = ()  # against the Markdown line as recorded
    # [[case]]: a test line, whether it is chrome (bool), where it comes from
    cases: tuple[dict[str, Any], ...] = field(default=(), compare=False)


def _folders() -> tuple[Path, ...]:
    extra = os.environ.get(PROFILES_ENV, "").strip()
    return (Path(extra), PROFILES_DIR) if extra else (PROFILES_DIR,)


def profile_names() -> tuple[str, ...]:
    """Every profile a document may name, sorted."""
    return tuple(sorted({p.stem for folder in _folders() for p in folder.glob("*.toml")}))


def load_profile(name: str) -> NoiseProfile:
    """The profile ``name``, from the first folder that has ``<name>.toml`` (read again
    when the file changes)."""
    path = next((f / f"{name}.toml" for f in _folders() if (f / f"{name}.toml").is_file()), None)
    if path is None:
        known = ", ".join(profile_names())
        raise ProfileError(f"unknown noise profile {name!r} (known: {known})")
    return _read(name, path, path.stat().st_mtime_ns)


@cache
def _read(name: str, path: Path, mtime_ns: int) -> NoiseProfile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"{path}: cannot be read as TOML ({exc})") from exc
    extra = sorted(set(data) - {"text", "raw", "case"})
    if extra:
        raise ProfileError(f"{path}: unknown key(s) {', '.join(extra)}")
    lists = {}
    for key in ("text", "raw"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ProfileError(f"{path}: '{key}' must be a list of regular expressions")
        for expr in value:
            try:
                re.compile(expr)
            except re.error as exc:
                raise ProfileError(f"{path}: '{key}': {expr!r} is not a regex ({exc})") from exc
        lists[key] = tuple(value)
    return NoiseProfile(name, lists["text"], lists["raw"], tuple(data.get("case", [])))
