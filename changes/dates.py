"""The date a document says it takes effect or was last revised (EN/FR/DE)."""

from __future__ import annotations

import re

_MONTHS_EN = "January|February|March|April|May|June|July|August|September|October|November|December"
_MONTHS_FR = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
_MONTHS_DE = "Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"

_PATTERNS = (
    re.compile(
        rf"\b(?:Effective|Last (?:revised|updated|modified))(?: on| as of)?:?\s+"
        rf"((?:{_MONTHS_EN})\s+\d{{1,2}},\s+\d{{4}})",
        re.I,
    ),
    re.compile(
        rf"(?:Date de la dernière révision|Dernière mise à jour|En vigueur (?:à compter )?du)"
        rf"\s*:?\s*(\d{{1,2}}(?:er)?\s+(?:{_MONTHS_FR})\s+\d{{4}})",
        re.I,
    ),
    re.compile(
        rf"(?:Gültig ab|Zuletzt (?:aktualisiert|überarbeitet)(?: am)?"
        rf"|Datum der letzten Überarbeitung)"
        rf"\s*:?\s*(\d{{1,2}}\.\s*(?:{_MONTHS_DE})\s+\d{{4}})",
        re.I,
    ),
)


def stated_date(text: str) -> str | None:
    """The first effective/last-revised date stated in ``text``, as written, or None.

    >>> stated_date("What is the Privacy Policy?\\n\\nEffective June 26, 2024\\n")
    'June 26, 2024'
    """
    head = text[:20_000]
    for pattern in _PATTERNS:
        match = pattern.search(head)
        if match:
            return " ".join(match.group(1).split())
    return None
