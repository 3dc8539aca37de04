"""The queue rank (R16, R17): irremediable first, then severity, then likelihood."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grievance.services.queue import rank

scores = st.integers(min_value=1, max_value=5)
assessments = st.fixed_dictionaries(
    {"scale": scores, "scope": scores, "irremediability": scores, "likelihood": scores}
)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"urgent": True}, 0),
        ({"urgent": False, "reprisal_high": True}, 0),
        ({"urgent": False}, 1000),
        ({"urgent": False, "scale": 5, "scope": 5, "irremediability": 5, "likelihood": 5}, 0),
        ({"urgent": False, "scale": 3, "scope": 3, "irremediability": 4, "likelihood": 1}, 54),
        ({"urgent": True, "scale": 3, "scope": 2, "irremediability": 2, "likelihood": 4}, 2081),
        ({"urgent": False, "scale": 1, "scope": 1, "irremediability": 1, "likelihood": 1}, 2124),
        (
            {
                "urgent": False,
                "reprisal_high": True,
                "scale": 3,
                "scope": 2,
                "irremediability": 2,
                "likelihood": 4,
            },
            81,
        ),
        # half an assessment is no assessment
        ({"urgent": False, "scale": 5, "scope": 5}, 1000),
    ],
)
def test_the_encoding(values, expected):
    assert rank(**values) == expected


@given(first=assessments, second=assessments, urgent=st.booleans())
def test_irremediable_ranks_first_whatever_its_likelihood(first, second, urgent):
    """R17's check: an irremediable case comes before any that is not, and the assessment
    (not the filer's urgency) places an assessed case."""
    one, other = rank(urgent=urgent, **first), rank(urgent=False, **second)
    first_irremediable = first["irremediability"] >= 4
    second_irremediable = second["irremediability"] >= 4
    if first_irremediable and not second_irremediable:
        assert one < other
    if first_irremediable == second_irremediable:
        severity = sum(first[name] for name in ("scale", "scope", "irremediability"))
        other_severity = sum(second[name] for name in ("scale", "scope", "irremediability"))
        key = (-severity, -first["likelihood"])
        other_key = (-other_severity, -second["likelihood"])
        assert (one < other) == (key < other_key)
        assert (one == other) == (key == other_key)


@given(values=assessments, urgent=st.booleans(), reprisal_high=st.booleans())
def test_bands_do_not_overlap(values, urgent, reprisal_high):
    assessed = rank(urgent=urgent, reprisal_high=reprisal_high, **values)
    band = assessed // 1000
    irremediable = values["irremediability"] >= 4 or reprisal_high
    assert band == (0 if irremediable else 2)
    assert rank(urgent=True) <= assessed
    if not irremediable:
        assert rank(urgent=False) < assessed  # a new case is assessed before the mild ones
    else:
        assert assessed < rank(urgent=False)
