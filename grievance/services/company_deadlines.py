"""A company's own time limits in a case (#13): to respond to the complaint, and to meet
each obligation. Deadline rows like the case's, swept by the same job (reminded, then
escalated to the secretariat), whose code names the company:
`company.<company id>.response` and `company.<company id>.obligation.<obligation id>`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from grievance.models import Case, Deadline, DeadlineState
from grievance.services import deadlines

COMPANY_PREFIX = "company."


def response_code(company_id: int) -> str:
    return f"{COMPANY_PREFIX}{company_id}.response"


def obligation_code(company_id: int, obligation_id: int) -> str:
    return f"{COMPANY_PREFIX}{company_id}.obligation.{obligation_id}"


def company_of_code(code: Any) -> int | None:
    """The company whose time limit a deadline code is, if it is a company's."""
    if not isinstance(code, str) or not code.startswith(COMPANY_PREFIX):
        return None
    number = code.removeprefix(COMPANY_PREFIX).split(".", 1)[0]
    return int(number) if number.isdigit() else None


def kind_of_code(code: str) -> str:
    """ "response" or "obligation" for a company's code."""
    parts = code.split(".")
    return parts[2] if len(parts) > 2 else ""


def open_deadline(
    session: Session, case: Case, code: str, now: datetime, days: int, share: float
) -> Deadline:
    due = now + timedelta(days=days)
    deadline = Deadline(
        case_id=case.id,
        mechanism_id=case.mechanism_id,
        code=code,
        opened_at=now,
        due_at=due,
        remind_at=now + (due - now) * share,
        state=DeadlineState.OPEN,
    )
    session.add(deadline)
    session.flush()
    deadlines.refresh_next_due(session, case)
    return deadline


def reopen_deadline(session: Session, case: Case, closed: Deadline, now: datetime) -> Deadline:
    """Open the same time limit again, due when it was (a report the reviewers sent back)."""
    deadline = Deadline(
        case_id=case.id,
        mechanism_id=case.mechanism_id,
        code=closed.code,
        opened_at=now,
        due_at=closed.due_at,
        remind_at=min(closed.remind_at, closed.due_at),
        state=DeadlineState.OPEN,
    )
    session.add(deadline)
    session.flush()
    deadlines.refresh_next_due(session, case)
    return deadline


def close_deadline(
    session: Session, case: Case, code: str, now: datetime, *, waived: str | None = None
) -> Deadline | None:
    """Close the open deadline of this code: met, missed if late, or waived."""
    deadline = session.scalar(
        select(Deadline).where(
            Deadline.case_id == case.id,
            Deadline.code == code,
            Deadline.state == DeadlineState.OPEN,
        )
    )
    if deadline is None:
        return None
    if waived is not None:
        deadline.state = DeadlineState.WAIVED
        deadline.note = waived
    else:
        deadline.state = deadlines.closing_state(deadline.due_at, now, deadline.paused_at)
    deadline.closed_at = now
    session.flush()
    deadlines.refresh_next_due(session, case)
    return deadline


def last_closed(session: Session, case: Case, code: str) -> Deadline | None:
    return session.scalar(
        select(Deadline)
        .where(Deadline.case_id == case.id, Deadline.code == code)
        .order_by(Deadline.id.desc())
        .limit(1)
    )
