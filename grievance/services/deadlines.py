"""Opening and closing a case's deadlines as its stage changes (DESIGN invariant 5).

The time limits come from the case's policy. This module only keeps the rows right (and
the case's `next_due_at`, the queue's second key); reminders, escalations and the sweep
belong to the scheduler.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grievance.models import Case, Deadline, DeadlineState, Stage
from grievance.models.case import ENDED_STAGES
from grievance.policies import Calendar, Policy, TimeLimit
from grievance.services.canonical import time_text


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, or the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def add_business_days(start: datetime, days: int, calendar: Calendar) -> datetime:
    """`days` business days after `start`, at the same time of day. The days are the
    mechanism's local dates; the day of `start` itself is not counted."""
    day = start.astimezone(calendar.zone).date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if calendar.is_business_day(day):
            remaining -= 1
    return _on_local_date(start, day, calendar)


def roll_to_business_day(moment: datetime, calendar: Calendar) -> datetime:
    """The same time on the first business day on or after `moment`'s local date."""
    target = moment.astimezone(calendar.zone).date()
    while not calendar.is_business_day(target):
        target += timedelta(days=1)
    return _on_local_date(moment, target, calendar)


def _on_local_date(moment: datetime, day: date, calendar: Calendar) -> datetime:
    """`moment`'s local time of day on the local date `day`, in `moment`'s own zone.
    Whole days of 24 hours would land an hour off the local date across a change of
    daylight saving time (23:30 on a Friday + 3 days is 00:30 on a Tuesday)."""
    local = moment.astimezone(calendar.zone)
    moved = local.replace(year=day.year, month=day.month, day=day.day)
    return moved.astimezone(moment.tzinfo)


def due_at(limit: TimeLimit, start: datetime, calendar: Calendar | None = None) -> datetime:
    """When a time limit opened at `start` is due: calendar days (exact multiples of 24
    hours), business days in the mechanism's calendar, or calendar months."""
    counting_business_days = calendar is not None and calendar.business_days
    if limit.days is not None:
        if counting_business_days:
            assert calendar is not None
            return add_business_days(start, limit.days, calendar)
        return start + timedelta(days=limit.days)
    assert limit.months is not None
    if counting_business_days:
        assert calendar is not None
        # the months and the business day are the mechanism's local dates
        local = add_months(start.astimezone(calendar.zone), limit.months).astimezone(UTC)
        return roll_to_business_day(local, calendar)
    return add_months(start, limit.months)


def remind_at(limit: TimeLimit, opened: datetime, due: datetime) -> datetime:
    """When the reviewers are reminded: after `reminder_share` of the time."""
    return opened + (due - opened) * limit.reminder_share


class Running(NamedTuple):
    """An open deadline as the rules below see it: plain values, no row."""

    code: str
    #: The policy's time limit (None for a remedy item's own deadline).
    limit: TimeLimit | None
    opened: datetime
    due: datetime
    paused_at: datetime | None = None


class Closing(NamedTuple):
    code: str
    state: DeadlineState
    #: Why it was waived.
    note: str = ""


class Opening(NamedTuple):
    limit: TimeLimit
    due: datetime


class StageEntry(NamedTuple):
    """What entering a stage does to a case's deadlines (`entering_stage`)."""

    closing: list[Closing]
    opening: list[Opening]


def closing_state(due: datetime, now: datetime, paused_at: datetime | None = None) -> DeadlineState:
    """Met late is missed, and stays visible as missed. A stopped clock (waiting for the
    complainant) ran only until it stopped."""
    return DeadlineState.MET if (paused_at or now) <= due else DeadlineState.MISSED


def entering_stage(
    running: Sequence[Running],
    starting: Sequence[TimeLimit],
    stage: Stage,
    now: datetime,
    calendar: Calendar | None = None,
) -> StageEntry:
    """Pure: entering `stage` at `now` closes the `running` deadlines it ends (met or
    missed), waives what an ended case no longer needs, and opens the limits `starting` on
    the stage (the policy's `time_limits_starting_on(stage)`), with their due times. The
    closings keep the order of `running`."""
    closing: list[Closing] = []
    for item in running:
        if item.limit is not None and stage in item.limit.ends_on:
            closing.append(Closing(item.code, closing_state(item.due, now, item.paused_at)))
        elif stage in ENDED_STAGES:
            closing.append(Closing(item.code, DeadlineState.WAIVED, f"case {stage.value}"))
    # A limit still running (investigation -> dialogue -> investigation) keeps running:
    # re-entering its stage neither restarts it nor opens a second one.
    closed = {item.code for item in closing}
    still = {item.code for item in running if item.code not in closed}
    opening = [
        Opening(limit, due_at(limit, now, calendar))
        for limit in starting
        if limit.code not in still
    ]
    return StageEntry(closing, opening)


def changes_payload(
    opened: Iterable[tuple[str, datetime]], closed: Iterable[tuple[str, DeadlineState]]
) -> dict[str, Any]:
    """The log's account of what a change did to the deadlines (plain JSON values): the
    `deadlines_opened` (code, due time) and `deadlines_closed` (code, state) of its event,
    each only when there are some."""
    result: dict[str, Any] = {}
    opened_items = [{"code": code, "due_at": time_text(due)} for code, due in opened]
    closed_items = [{"code": code, "state": state.value} for code, state in closed]
    if opened_items:
        result["deadlines_opened"] = opened_items
    if closed_items:
        result["deadlines_closed"] = closed_items
    return result


@dataclass
class Changes:
    """What a change did to the deadlines, for the payload of its log event."""

    opened: list[Deadline]
    closed: list[Deadline]

    def payload(self) -> dict[str, Any]:
        return changes_payload(
            ((d.code, d.due_at) for d in self.opened), ((d.code, d.state) for d in self.closed)
        )


def open_deadlines(session: Session, case: Case) -> list[Deadline]:
    return list(
        session.scalars(
            select(Deadline)
            .where(Deadline.case_id == case.id, Deadline.state == DeadlineState.OPEN)
            .order_by(Deadline.due_at)
        )
    )


def refresh_next_due(session: Session, case: Case) -> datetime | None:
    """Set `case.next_due_at` to the earliest due time of its open, running deadlines (None
    when none runs). Every change that opens, closes, stops, restarts or moves a deadline
    calls it."""
    session.flush()
    case.next_due_at = session.scalar(
        select(func.min(Deadline.due_at)).where(
            Deadline.case_id == case.id,
            Deadline.state == DeadlineState.OPEN,
            Deadline.paused_at.is_(None),
        )
    )
    return case.next_due_at


def _open(session: Session, case: Case, limit: TimeLimit, now: datetime, due: datetime) -> Deadline:
    deadline = Deadline(
        case_id=case.id,
        mechanism_id=case.mechanism_id,
        code=limit.code,
        opened_at=now,
        due_at=due,
        remind_at=remind_at(limit, now, due),
        state=DeadlineState.OPEN,
        # opened while the mechanism waits for the complainant: stopped from the start
        paused_at=now if case.clock_paused_at is not None and limit.pausable else None,
    )
    session.add(deadline)
    return deadline


def _close(deadline: Deadline, now: datetime, *, waived: str | None = None) -> Deadline:
    if waived is not None:
        deadline.state = DeadlineState.WAIVED
        deadline.note = waived
    else:
        deadline.state = closing_state(deadline.due_at, now, deadline.paused_at)
    deadline.closed_at = now
    return deadline


def on_stage_entered(
    session: Session, case: Case, policy: Policy, stage: Stage, now: datetime
) -> Changes:
    """Close what entering `stage` ends, waive what an ended case no longer needs, and open
    what the stage starts (`entering_stage` decides)."""
    rows = open_deadlines(session, case)
    entry = entering_stage(
        [
            Running(
                row.code, policy.time_limit_for(row.code), row.opened_at, row.due_at, row.paused_at
            )
            for row in rows
        ],
        policy.time_limits_starting_on(stage),
        stage,
        now,
        policy.calendar,
    )
    closing = {item.code: item for item in entry.closing}
    closed = [
        _close(row, now, waived=closing[row.code].note or None)
        for row in rows
        if row.code in closing
    ]
    session.flush()  # the partial unique index must see the closed rows before new ones
    opened = [_open(session, case, item.limit, now, item.due) for item in entry.opening]
    refresh_next_due(session, case)
    return Changes(opened=opened, closed=closed)


def on_event(session: Session, case: Case, policy: Policy, kind: str, now: datetime) -> Changes:
    """Close (and, for recurring limits, reopen) what an event of `kind` meets."""
    closed: list[Deadline] = []
    renew: list[TimeLimit] = []
    for deadline in open_deadlines(session, case):
        limit = policy.time_limit_for(deadline.code)
        if limit is not None and kind in limit.ends_on_events:
            closed.append(_close(deadline, now))
            if limit.recurring:
                renew.append(limit)
    session.flush()
    opened = [
        _open(session, case, limit, now, due_at(limit, now, policy.calendar)) for limit in renew
    ]
    refresh_next_due(session, case)
    return Changes(opened=opened, closed=closed)


#: Remedy items carry their own due dates (R19, R20): each is a deadline of its case.
REMEDY_ACTION_PREFIX = "remedy_action."
REMEDY_REMINDER_SHARE = 0.7


def remedy_action_code(action_id: int) -> str:
    return f"{REMEDY_ACTION_PREFIX}{action_id}"


def open_for_remedy_action(
    session: Session, case: Case, policy: Policy, action_id: int, due_on: date, now: datetime
) -> Changes:
    """A deadline at the end of the item's due day, in the mechanism's time zone."""
    due = datetime.combine(due_on, time(23, 59, 59), tzinfo=policy.calendar.zone).astimezone(UTC)
    deadline = Deadline(
        case_id=case.id,
        mechanism_id=case.mechanism_id,
        code=remedy_action_code(action_id),
        opened_at=now,
        due_at=due,
        remind_at=now + (due - now) * REMEDY_REMINDER_SHARE if due > now else due,
        state=DeadlineState.OPEN,
    )
    session.add(deadline)
    refresh_next_due(session, case)
    return Changes(opened=[deadline], closed=[])


def close_for_remedy_action(
    session: Session, case: Case, action_id: int, now: datetime, *, abandoned: bool
) -> Changes:
    code = remedy_action_code(action_id)
    closed = [
        _close(deadline, now, waived="remedy action abandoned" if abandoned else None)
        for deadline in open_deadlines(session, case)
        if deadline.code == code
    ]
    refresh_next_due(session, case)
    return Changes(opened=[], closed=closed)
