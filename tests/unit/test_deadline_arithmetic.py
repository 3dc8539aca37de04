"""Deadline arithmetic: calendar months that end on the month's last day, exact days, and what
entering a stage opens and closes."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grievance.models import DeadlineState, Stage
from grievance.policies import TimeLimit, default_policy
from grievance.services.deadlines import (
    Running,
    add_months,
    changes_payload,
    due_at,
    entering_stage,
)


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 30) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (at(2026, 1, 31), 1, at(2026, 2, 28)),
        (at(2028, 1, 31), 1, at(2028, 2, 29)),  # leap year
        (at(2100, 1, 31), 1, at(2100, 2, 28)),  # no leap year (century)
        (at(2000, 1, 31), 1, at(2000, 2, 29)),  # leap year (400)
        (at(2026, 1, 30), 1, at(2026, 2, 28)),
        (at(2026, 1, 28), 1, at(2026, 2, 28)),
        (at(2026, 3, 31), 1, at(2026, 4, 30)),
        (at(2026, 8, 31), 6, at(2027, 2, 28)),
        (at(2026, 12, 15), 1, at(2027, 1, 15)),  # December rolls over
        (at(2026, 12, 31), 2, at(2027, 2, 28)),
        (at(2026, 11, 30), 3, at(2027, 2, 28)),
        (at(2026, 10, 31), 3, at(2027, 1, 31)),
        (at(2026, 3, 2), 12, at(2027, 3, 2)),
        (at(2028, 2, 29), 12, at(2029, 2, 28)),
        (at(2026, 5, 31), 25, at(2028, 6, 30)),
        (at(2026, 7, 15), 0, at(2026, 7, 15)),
    ],
    ids=str,
)
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


def test_add_months_keeps_the_time_of_day_and_zone():
    start = datetime(2026, 1, 31, 23, 59, 58, 123456, tzinfo=UTC)
    result = add_months(start, 1)
    assert result == datetime(2026, 2, 28, 23, 59, 58, 123456, tzinfo=UTC)
    assert result.tzinfo is UTC


@given(
    start=st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
        max_value=datetime(2200, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    months=st.integers(min_value=0, max_value=240),
)
def test_add_months_lands_in_the_right_month_on_the_same_or_last_day(start, months):
    result = add_months(start, months)
    index = start.year * 12 + start.month - 1 + months
    year, month_index = divmod(index, 12)
    assert (result.year, result.month) == (year, month_index + 1)
    last_day = calendar.monthrange(result.year, result.month)[1]
    assert result.day == min(start.day, last_day)
    assert result.time() == start.time()
    assert result >= start


def _limit(**values) -> TimeLimit:
    return TimeLimit(
        code="test_limit",
        label="A test limit",
        starts_on=Stage.RECEIVED,
        ends_on=(Stage.ACKNOWLEDGED,),
        **values,
    )


@pytest.mark.parametrize(
    ("days", "start", "expected"),
    [
        (7, at(2026, 3, 2), at(2026, 3, 9)),
        (7, at(2026, 12, 28), at(2027, 1, 4)),
        (90, at(2026, 3, 2), at(2026, 5, 31)),
        (30, at(2028, 2, 15), at(2028, 3, 16)),  # 29 days in February 2028
        (30, at(2026, 2, 15), at(2026, 3, 17)),
        (1, at(2026, 3, 28, 23, 59), at(2026, 3, 29, 23, 59)),  # no DST in UTC
    ],
    ids=str,
)
def test_due_at_for_a_limit_in_days(days, start, expected):
    assert due_at(_limit(days=days), start) == expected
    assert expected - start == timedelta(days=days)


@pytest.mark.parametrize(
    ("months", "start", "expected"),
    [
        (3, at(2026, 3, 2), at(2026, 6, 2)),
        (3, at(2026, 11, 30), at(2027, 2, 28)),
        (6, at(2027, 8, 31), at(2028, 2, 29)),
        (1, at(2026, 1, 31), at(2026, 2, 28)),
    ],
    ids=str,
)
def test_due_at_for_a_limit_in_months(months, start, expected):
    assert due_at(_limit(months=months), start) == expected


def test_the_default_limits_are_as_the_policy_file_says():
    policy = default_policy()
    start = at(2026, 8, 31)
    due = {limit.code: due_at(limit, start) for limit in policy.time_limits}
    assert due["acknowledge"] == start + timedelta(days=7)
    assert due["admissibility"] == start + timedelta(days=90)
    assert due["progress_update"] == start + timedelta(days=30)
    assert due["feedback"] == at(2026, 11, 30)
    assert due["satisfaction_check"] == at(2027, 2, 28)


# -- entering a stage: the rule both the service and the generator follow -----------------


def _running(
    code: str, opened: datetime, due: datetime, paused_at: datetime | None = None
) -> Running:
    return Running(code, default_policy().time_limit_for(code), opened, due, paused_at)


def test_entering_a_stage_closes_what_it_ends_and_opens_what_it_starts():
    policy = default_policy()
    received = at(2026, 3, 2)
    running = [
        _running("acknowledge", received, received + timedelta(days=7)),
        _running("admissibility", received, received + timedelta(days=90)),
    ]
    late = received + timedelta(days=8)
    entry = entering_stage(
        running, policy.time_limits_starting_on(Stage.ACKNOWLEDGED), Stage.ACKNOWLEDGED, late
    )
    assert [(item.code, item.state) for item in entry.closing] == [
        ("acknowledge", DeadlineState.MISSED)
    ]
    assert [item.limit.code for item in entry.opening] == ["progress_update", "feedback"]
    assert entry.opening[0].due == late + timedelta(days=30)
    assert changes_payload(
        [(item.limit.code, item.due) for item in entry.opening],
        [(item.code, item.state) for item in entry.closing],
    ) == {
        "deadlines_opened": [
            {"code": "progress_update", "due_at": "2026-04-09T09:30:00.000000Z"},
            {"code": "feedback", "due_at": "2026-06-10T09:30:00.000000Z"},
        ],
        "deadlines_closed": [{"code": "acknowledge", "state": "missed"}],
    }
    assert changes_payload([], []) == {}


def test_a_stopped_clock_ran_until_it_stopped_and_an_ended_case_waives_the_rest():
    opened = at(2026, 3, 2)
    due = opened + timedelta(days=90)
    paused = [_running("admissibility", opened, due, paused_at=due - timedelta(days=1))]
    entry = entering_stage(paused, [], Stage.INVESTIGATION, due + timedelta(days=5))
    assert [item.state for item in entry.closing] == [DeadlineState.MET]
    running = [_running("progress_update", opened, due), _running("admissibility", opened, due)]
    entry = entering_stage(running, [], Stage.WITHDRAWN, opened)
    assert [(item.code, item.state, item.note) for item in entry.closing] == [
        ("progress_update", DeadlineState.WAIVED, "case withdrawn"),
        ("admissibility", DeadlineState.WAIVED, "case withdrawn"),
    ]
    # A limit still running is not opened a second time.
    investigation = default_policy().time_limits_starting_on(Stage.INVESTIGATION)
    again = [_running("decision", opened, due)]
    assert entering_stage(again, investigation, Stage.INVESTIGATION, opened).opening == []
