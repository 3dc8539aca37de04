"""Business days: counted on the mechanism's local dates, skipping its weekend and
holidays, keeping the local time of day; month limits roll to the next business day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grievance.models import Stage
from grievance.policies import Calendar, TimeLimit, default_policy
from grievance.services.deadlines import (
    add_business_days,
    add_months,
    due_at,
    remind_at,
    roll_to_business_day,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DHAKA = ZoneInfo("Asia/Dhaka")
AUCKLAND = ZoneInfo("Pacific/Auckland")

#: Saturday and Sunday off, in Amsterdam (the shipped default).
DUTCH = Calendar(business_days=True)


def utc(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(zone: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A local wall time, as the UTC instant services work with."""
    return datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(UTC)


def local_date(moment: datetime, calendar: Calendar) -> date:
    return moment.astimezone(calendar.zone).date()


def _limit(**values) -> TimeLimit:
    return TimeLimit(
        code="test_limit",
        label="A test limit",
        starts_on=Stage.RECEIVED,
        ends_on=(Stage.ACKNOWLEDGED,),
        **values,
    )


# -- the calendar ---------------------------------------------------------------------


def test_the_default_policy_counts_calendar_days_in_amsterdam():
    calendar = default_policy().calendar
    assert calendar.business_days is False
    assert (calendar.timezone, calendar.weekend, calendar.holidays) == (
        "Europe/Amsterdam",
        (6, 7),
        (),
    )


def test_a_business_day_is_neither_a_weekend_day_nor_a_holiday():
    calendar = Calendar(business_days=True, holidays=(date(2026, 3, 10),))
    week = [date(2026, 3, 9) + timedelta(days=n) for n in range(7)]  # Monday to Sunday
    assert [calendar.is_business_day(day) for day in week] == [
        True,
        False,  # the holiday
        True,
        True,
        True,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "unknown time zone"),
        ({"weekend": (0,)}, "ISO weekdays"),
        ({"weekend": (8,)}, "ISO weekdays"),
        ({"weekend": (1, 2, 3, 4, 5, 6, 7)}, "at least one business day"),
    ],
    ids=["zone", "weekday 0", "weekday 8", "no business day"],
)
def test_a_calendar_that_cannot_work_is_refused(values, message):
    with pytest.raises(ValueError, match=message):
        Calendar(**values)


# -- add_business_days ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (utc(2026, 3, 2), 1, utc(2026, 3, 3)),  # Monday -> Tuesday
        (utc(2026, 3, 2), 5, utc(2026, 3, 9)),  # a whole week
        (utc(2026, 3, 5), 2, utc(2026, 3, 9)),  # Thursday + 2 -> Monday, over the weekend
        (utc(2026, 3, 6), 1, utc(2026, 3, 9)),  # Friday + 1 -> Monday
        (utc(2026, 3, 6), 7, utc(2026, 3, 17)),  # Friday + 7 -> Tuesday after next
        (utc(2026, 3, 7), 1, utc(2026, 3, 9)),  # Saturday + 1 -> Monday
        (utc(2026, 3, 7), 5, utc(2026, 3, 13)),  # Saturday + 5 -> Friday
        (utc(2026, 3, 8), 1, utc(2026, 3, 9)),  # Sunday + 1 -> Monday
        (utc(2026, 3, 2), 0, utc(2026, 3, 2)),  # nothing to add
        (utc(2026, 3, 7), 0, utc(2026, 3, 7)),  # not even a roll
    ],
    ids=str,
)
def test_add_business_days_skips_the_weekend(start, days, expected):
    assert add_business_days(start, days, DUTCH) == expected


def test_add_business_days_skips_holidays():
    calendar = Calendar(
        business_days=True, holidays=(date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 14))
    )
    start = utc(2026, 3, 5)  # Thursday
    # Fri 6 (1), [Sat, Sun, Mon 9 and Tue 10 off], Wed 11 (2), Thu 12 (3)
    assert add_business_days(start, 3, calendar) == utc(2026, 3, 12)
    assert add_business_days(start, 3, DUTCH) == utc(2026, 3, 10)
    # a holiday on a weekend day costs nothing more
    assert add_business_days(start, 5, calendar) == utc(2026, 3, 16)


def test_add_business_days_starting_on_a_holiday_does_not_count_that_day():
    calendar = Calendar(business_days=True, holidays=(date(2026, 3, 4),))
    assert add_business_days(utc(2026, 3, 4), 1, calendar) == utc(2026, 3, 5)


def test_add_business_days_keeps_the_time_of_day_to_the_microsecond():
    start = datetime(2026, 3, 6, 16, 59, 58, 123456, tzinfo=UTC)  # a Friday
    result = add_business_days(start, 1, DUTCH)
    assert result == datetime(2026, 3, 9, 16, 59, 58, 123456, tzinfo=UTC)
    assert result.tzinfo is UTC


def test_add_business_days_counts_local_dates_in_dhaka():
    """Friday 20:00 UTC is already Saturday 02:00 in Dhaka, where the weekend is Friday
    and Saturday: the next business day is Sunday, 20:00 UTC on Saturday."""
    bangladesh = Calendar(business_days=True, timezone="Asia/Dhaka", weekend=(5, 6))
    start = utc(2026, 3, 6, 20)
    assert start.astimezone(DHAKA).strftime("%A %H:%M") == "Saturday 02:00"
    result = add_business_days(start, 1, bangladesh)
    assert result == utc(2026, 3, 7, 20)  # a Saturday in UTC ...
    assert result.astimezone(DHAKA) == datetime(2026, 3, 8, 2, 0, tzinfo=DHAKA)  # ... Sunday there
    # (counting UTC dates, Friday + 1 would have been Sunday 20:00 UTC, Monday in Dhaka)
    assert add_business_days(start, 2, bangladesh) == utc(2026, 3, 8, 20)


def test_add_business_days_counts_local_dates_in_auckland():
    """21:00 UTC on a Thursday is 10:00 on Friday in Auckland: one business day later is
    Monday there (Sunday evening in UTC), not Friday evening in UTC (a Saturday there)."""
    new_zealand = Calendar(business_days=True, timezone="Pacific/Auckland")
    start = utc(2026, 3, 12, 21)
    assert start.astimezone(AUCKLAND).strftime("%A %H:%M") == "Friday 10:00"
    result = add_business_days(start, 1, new_zealand)
    assert result == utc(2026, 3, 15, 21)
    assert result.astimezone(AUCKLAND) == datetime(2026, 3, 16, 10, 0, tzinfo=AUCKLAND)


@pytest.mark.parametrize(
    ("calendar", "start", "days", "expected"),
    [
        # Auckland leaves daylight saving on Sunday 5 April 2026: 0:30 on Friday plus
        # 1 business day is 0:30 on Monday, not 23:30 on Sunday.
        (
            Calendar(business_days=True, timezone="Pacific/Auckland"),
            local(AUCKLAND, 2026, 4, 3, 0, 30),
            1,
            local(AUCKLAND, 2026, 4, 6, 0, 30),
        ),
        # Amsterdam enters daylight saving on Sunday 29 March 2026: 23:30 on Friday plus
        # 1 business day is 23:30 on Monday, not 0:30 on Tuesday.
        (DUTCH, local(AMSTERDAM, 2026, 3, 27, 23, 30), 1, local(AMSTERDAM, 2026, 3, 30, 23, 30)),
        # ... and leaves it on Sunday 25 October 2026.
        (DUTCH, local(AMSTERDAM, 2026, 10, 23, 0, 15), 1, local(AMSTERDAM, 2026, 10, 26, 0, 15)),
    ],
    ids=["Auckland in April", "Amsterdam in March", "Amsterdam in October"],
)
def test_add_business_days_keeps_the_local_time_across_daylight_saving(
    calendar, start, days, expected
):
    result = add_business_days(start, days, calendar)
    assert result == expected
    assert calendar.is_business_day(local_date(result, calendar))
    assert result.astimezone(calendar.zone).time() == start.astimezone(calendar.zone).time()


# -- roll_to_business_day -------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2026, 3, 4, 15), utc(2026, 3, 4, 15)),  # a Wednesday stays
        (utc(2026, 3, 7, 15), utc(2026, 3, 9, 15)),  # Saturday -> Monday
        (utc(2026, 3, 8, 15), utc(2026, 3, 9, 15)),  # Sunday -> Monday
        (utc(2026, 3, 13, 15), utc(2026, 3, 17, 15)),  # Friday holiday, weekend, Monday holiday
        (utc(2026, 3, 14, 15), utc(2026, 3, 17, 15)),  # Saturday, Sunday, holiday -> Tuesday
        (utc(2026, 3, 16, 15), utc(2026, 3, 17, 15)),  # a Monday holiday -> Tuesday
    ],
    ids=str,
)
def test_roll_to_business_day(moment, expected):
    calendar = Calendar(business_days=True, holidays=(date(2026, 3, 13), date(2026, 3, 16)))
    assert roll_to_business_day(moment, calendar) == expected


def test_roll_to_business_day_looks_at_the_local_date():
    bangladesh = Calendar(business_days=True, timezone="Asia/Dhaka", weekend=(5, 6))
    thursday_evening = utc(2026, 3, 5, 19)  # 01:00 on Friday in Dhaka
    assert roll_to_business_day(thursday_evening, bangladesh) == utc(2026, 3, 7, 19)
    assert roll_to_business_day(thursday_evening, DUTCH) == thursday_evening


def test_roll_to_business_day_keeps_the_local_time_across_daylight_saving():
    saturday_night = local(AMSTERDAM, 2026, 3, 28, 23, 30)  # CET; Monday is CEST
    assert roll_to_business_day(saturday_night, DUTCH) == local(AMSTERDAM, 2026, 3, 30, 23, 30)


# -- due_at and remind_at -------------------------------------------------------------


def test_due_at_in_days_counts_calendar_days_unless_the_calendar_says_otherwise():
    limit = _limit(days=7)
    start = utc(2026, 3, 5)  # Thursday
    assert due_at(limit, start) == utc(2026, 3, 12)
    assert due_at(limit, start, Calendar()) == utc(2026, 3, 12)
    assert due_at(limit, start, DUTCH) == utc(2026, 3, 16)  # Fri, Mon-Fri, Mon
    with_holiday = Calendar(business_days=True, holidays=(date(2026, 3, 9),))
    assert due_at(limit, start, with_holiday) == utc(2026, 3, 17)


def test_due_at_in_days_of_a_business_calendar_falls_on_a_business_day():
    limit = _limit(days=90)
    start = utc(2026, 3, 2)
    due = due_at(limit, start, DUTCH)
    # 18 weeks of 5 business days; 11:00 local, in summer time by then (09:00 UTC)
    assert due == utc(2026, 7, 6, 9)
    assert due.astimezone(AMSTERDAM).time() == time(11, 0)
    assert DUTCH.is_business_day(local_date(due, DUTCH))
    assert due_at(limit, start) == utc(2026, 5, 31)  # a Sunday, in calendar days


@pytest.mark.parametrize(
    ("calendar", "start", "expected"),
    [
        (None, utc(2026, 3, 7), utc(2026, 6, 7)),  # a Sunday, as calendar months
        (Calendar(), utc(2026, 3, 7), utc(2026, 6, 7)),
        # business days count local dates and keep the local time (11:00 CET, then CEST)
        (DUTCH, utc(2026, 3, 7), utc(2026, 6, 8, 9)),  # rolled to Monday
        (DUTCH, utc(2026, 3, 5), utc(2026, 6, 5, 9)),  # a Friday stays
        (
            Calendar(business_days=True, holidays=(date(2026, 6, 8),)),
            utc(2026, 3, 7),
            utc(2026, 6, 9, 9),  # Sunday, then the Monday holiday
        ),
        (DUTCH, utc(2026, 11, 30), utc(2027, 3, 1)),  # the month's last day, a Sunday
    ],
    ids=["no calendar", "calendar days", "Sunday", "Friday", "holiday", "end of month"],
)
def test_due_at_in_months(calendar, start, expected):
    limit = _limit(months=3)
    assert add_months(start, 3) == due_at(limit, start)
    assert due_at(limit, start, calendar) == expected


def test_remind_at_is_the_share_of_the_time():
    limit = _limit(days=7, reminder_share=0.714)
    opened = utc(2026, 3, 2, 9)
    due = due_at(limit, opened)
    # 0.714 of 7 days is 4.998 days: day 5 (R04), 2 minutes 52.8 seconds early
    assert remind_at(limit, opened, due) == opened + timedelta(
        seconds=431_827, microseconds=200_000
    )
    # with business days it is the share of the longer time: 11 days from Thursday 5 March
    business_due = due_at(limit, utc(2026, 3, 5), DUTCH)
    assert business_due == utc(2026, 3, 16)
    assert remind_at(limit, utc(2026, 3, 5), business_due) == utc(2026, 3, 5) + timedelta(
        seconds=678_585, microseconds=600_000
    )


def test_the_default_acknowledge_limit_reminds_on_day_five():
    limit = default_policy().time_limit_for("acknowledge")
    assert limit is not None
    opened = utc(2026, 3, 2, 9)
    reminder = remind_at(limit, opened, due_at(limit, opened))
    assert timedelta(days=4, hours=23) < reminder - opened < timedelta(days=5)


# -- properties -----------------------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/Amsterdam",
    "Asia/Dhaka",
    "Asia/Kolkata",
    "Pacific/Auckland",
    "America/New_York",
    "America/Sao_Paulo",
]


@st.composite
def calendars_and_starts(draw: st.DrawFn) -> tuple[Calendar, datetime]:
    start = draw(
        st.datetimes(
            min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis takes naive bounds
            max_value=datetime(2099, 12, 31),  # noqa: DTZ001
            timezones=st.just(UTC),
        )
    )
    zone = draw(st.sampled_from(ZONES))
    weekend = draw(st.sets(st.integers(min_value=1, max_value=7), max_size=6))
    first = start.astimezone(ZoneInfo(zone)).date()
    holidays = draw(
        st.lists(st.integers(min_value=-1, max_value=60), max_size=12).map(
            lambda offsets: tuple(first + timedelta(days=n) for n in offsets)
        )
    )
    calendar = Calendar(
        business_days=True, timezone=zone, weekend=tuple(sorted(weekend)), holidays=holidays
    )
    return calendar, start


def _wall_time_exists(day: date, wall: time, zone: ZoneInfo) -> bool:
    naive = datetime.combine(day, wall)
    there_and_back = naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    return there_and_back.replace(tzinfo=None) == naive


@settings(max_examples=300, deadline=None)
@given(setup=calendars_and_starts(), days=st.integers(min_value=0, max_value=40))
def test_add_business_days_lands_after_exactly_n_business_days(setup, days):
    calendar, start = setup
    result = add_business_days(start, days, calendar)
    first, last = local_date(start, calendar), local_date(result, calendar)
    between = [first + timedelta(days=n) for n in range(1, (last - first).days + 1)]
    assert sum(calendar.is_business_day(day) for day in between) == days
    if days == 0:
        assert result == start
    else:
        assert calendar.is_business_day(last)
    start_wall = start.astimezone(calendar.zone).time()
    if _wall_time_exists(last, start_wall, calendar.zone):
        assert result.astimezone(calendar.zone).time() == start_wall
    assert result.tzinfo is UTC


@settings(max_examples=200, deadline=None)
@given(setup=calendars_and_starts())
def test_roll_to_business_day_lands_on_the_first_business_day(setup):
    calendar, moment = setup
    result = roll_to_business_day(moment, calendar)
    first, last = local_date(moment, calendar), local_date(result, calendar)
    assert calendar.is_business_day(last)
    skipped = [first + timedelta(days=n) for n in range((last - first).days)]
    assert not any(calendar.is_business_day(day) for day in skipped)
    if calendar.is_business_day(first):
        assert result == moment
