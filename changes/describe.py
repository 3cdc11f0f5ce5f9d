"""A change's headline and first categories, from what moved (pure)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Description:
    title: str
    categories: list[str]
    summary: dict[str, object]


def describe(
    document_title: str,
    words_added: int,
    words_removed: int,
    old_date: str | None,
    new_date: str | None,
) -> Description:
    """Title, categories and summary of a change between two versions.

    >>> describe("Facebook Privacy Policy", 12, 3, "May 27, 2025", "June 16, 2025").title[25:]
    'effective date moved from May 27, 2025 to June 16, 2025 (+12/-3 words)'
    """
    categories = ["text"]
    summary: dict[str, object] = {"words_added": words_added, "words_removed": words_removed}
    counts = f"(+{words_added}/-{words_removed} words)"
    if old_date != new_date and new_date:
        categories.append("dates")
        summary["date"] = {"from": old_date, "to": new_date}
        what = (
            f"effective date moved from {old_date} to {new_date}"
            if old_date
            else f"now states the date {new_date}"
        )
    else:
        what = "text changed"
    return Description(f"{document_title}: {what} {counts}", categories, summary)
