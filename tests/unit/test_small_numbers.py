"""Small numbers (issue 16, item 5): counts below 5 are hidden, and so many more that
the total minus the cells shown never gives back a hidden cell."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from grievance.services.small_numbers import THRESHOLD, suppress, suppress_overlapping


def test_a_small_cell_and_the_next_smallest_are_hidden():
    cells, total = suppress({"BD": 12, "IN": 2, "TR": 7, "CN": 30})
    assert total.value == 51
    assert cells["IN"].suppressed
    assert cells["TR"].suppressed
    assert cells["BD"].value == 12
    assert cells["CN"].value == 30


def test_a_small_total_hides_everything():
    cells, total = suppress({"BD": 3, "IN": 1})
    assert total.suppressed
    assert all(cell.suppressed for cell in cells.values())


def test_nothing_small_nothing_hidden():
    cells, total = suppress({"BD": 5, "IN": 9})
    assert total.value == 14
    assert [c.value for c in cells.values()] == [5, 9]


def test_overlapping_cells_hide_the_small_ones_and_have_no_total():
    assert {k: c.value for k, c in suppress_overlapping({"a": 4, "b": 5, "c": 0}).items()} == {
        "a": None,
        "b": 5,
    }


@given(st.dictionaries(st.text(min_size=1, max_size=3), st.integers(0, 40), max_size=8))
def test_no_hidden_cell_can_be_worked_out_by_subtraction(counts):
    cells, total = suppress(counts)
    hidden = [key for key, cell in cells.items() if cell.suppressed]
    shown = [cell.value for cell in cells.values() if not cell.suppressed]
    assert all(value is not None and value >= THRESHOLD for value in shown)
    if total.suppressed:
        assert not shown
        return
    assert total.value == sum(v for v in counts.values() if v > 0)
    if hidden:
        # what subtraction gives is the sum of at least two hidden cells, at least 5 in all
        assert len(hidden) >= 2
        assert total.value - sum(shown) == sum(counts[key] for key in hidden) >= THRESHOLD
        # and every hidden cell could be more than one value given what is published
        for key in hidden:
            others = [k for k in hidden if k != key]
            assert any(counts[k] > 0 for k in others)
    assert not any(v < THRESHOLD for k, v in counts.items() if v > 0 and k not in hidden)
