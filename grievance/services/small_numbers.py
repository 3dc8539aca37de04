"""Small numbers in anything public (issue 16, item 5; docs/registry.md).

A count below `THRESHOLD` could point at a person (three complaints from one factory's
night shift), so it is shown as suppressed. Primary suppression alone is not enough when
a total is shown: the total minus the cells shown gives back the hidden cell. So the
rule is secondary suppression: if the hidden cells of a table add up to less than the
threshold, or only one cell is hidden, the smallest shown cells are hidden too, until at
least two are hidden and together they count at least `THRESHOLD`. A total below the
threshold is itself hidden (and then every cell). What a reader can subtract from the
total is then only a sum of at least two cells, at least `THRESHOLD` in all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

THRESHOLD = 5
K = TypeVar("K")


@dataclass(frozen=True)
class Cell:
    """A count as published: its value, or None where suppressed."""

    value: int | None

    @property
    def suppressed(self) -> bool:
        return self.value is None


def suppress(counts: Mapping[K, int]) -> tuple[dict[K, Cell], Cell]:
    """The cells and the total of a table of counts (one facet: each case in one cell), as
    they may be published. Cells counting 0 are left out (there is nothing to hide)."""
    cells = {key: value for key, value in counts.items() if value > 0}
    total = sum(cells.values())
    if total < THRESHOLD:
        return {key: Cell(None) for key in cells}, Cell(None)
    hidden = {key for key, value in cells.items() if value < THRESHOLD}
    if hidden:
        shown = sorted((value, str(key), key) for key, value in cells.items() if key not in hidden)
        while shown and (len(hidden) < 2 or sum(cells[key] for key in hidden) < THRESHOLD):
            hidden.add(shown.pop(0)[2])
    published = {key: Cell(None if key in hidden else value) for key, value in cells.items()}
    return published, Cell(total)


def suppress_overlapping(counts: Mapping[K, int]) -> dict[K, Cell]:
    """The cells of a table whose cells overlap (a case has several themes), published
    without a total: each cell below the threshold is hidden. No total is shown, and no
    cell is the sum of others, so nothing can be subtracted back."""
    return {
        key: Cell(None if value < THRESHOLD else value) for key, value in counts.items() if value
    }
