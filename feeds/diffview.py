"""The side-by-side view of a folded hunk: rows aligned on the lines both texts share.

The inline view prints a hunk's ops as they are. The side-by-side view needs rows: the old
text (unchanged and deleted pieces) on the left, the new text (unchanged and inserted
pieces) on the right, a new row starting wherever both texts start a line together. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from changes.diff import Hunk, Op


@dataclass(frozen=True)
class Row:
    old: tuple[Op, ...]  # "=" and "-" pieces
    new: tuple[Op, ...]  # "=" and "+" pieces

    @property
    def changed(self) -> bool:
        return any(op != "=" for op, _ in self.old + self.new)


def rows(hunk: Hunk) -> list[Row]:
    """Split a hunk into aligned rows (concatenating a side gives that side's text)."""
    out: list[Row] = []
    old: list[Op] = []
    new: list[Op] = []

    def flush() -> None:
        if old or new:
            out.append(Row(tuple(old), tuple(new)))
            old.clear()
            new.clear()

    for op, chunk in hunk.ops:
        if op == "-":
            old.append(("-", chunk))
        elif op == "+":
            new.append(("+", chunk))
        else:
            for piece in chunk.splitlines(keepends=True):
                old.append(("=", piece))
                new.append(("=", piece))
                if piece.endswith("\n"):
                    flush()
    flush()
    return _merge_unchanged(out)


def _merge_unchanged(found: list[Row]) -> list[Row]:
    """Join runs of consecutive unchanged rows into one row (fewer, calmer table rows)."""
    out: list[Row] = []
    for row in found:
        if out and not row.changed and not out[-1].changed:
            last = out[-1]
            out[-1] = Row(last.old + row.old, last.new + row.new)
        else:
            out.append(row)
    return out
