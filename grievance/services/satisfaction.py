"""The satisfaction check (R21, UNGP 31(g)): after closing, was the harm put right?

The `satisfaction_check` time limit opens when a case closes (six months by default) and
is met by the complainant's answer (`remedy.record_satisfaction`). When its reminder
point comes (the policy's share of the time: the assigned reviewers are reminded then
too), the worker puts the question to each complainant of the case once: a
`SatisfactionQuestion` row, unique per deadline and complainant, so two workers at once
ask once. It goes by text to those with a phone contact (the channel's `ask` callable,
`intake.sms.conversations.ask_satisfaction`); for everyone else, and whenever a text
cannot go (STOP, an intake under way), it waits on the follow-up page, which offers the
answer as long as the time limit is open anyway. Each question asked is a `parties`
event of the case.

A job, not a request: it commits as it goes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import exists, select
from sqlalchemy.dialects import postgresql, sqlite

from grievance.models import (
    Case,
    Complainant,
    Deadline,
    DeadlineState,
    SatisfactionQuestion,
)
from grievance.services import caselog, mailbox
from grievance.services.actors import SYSTEM
from grievance.services.context import Context

log = logging.getLogger(__name__)

CODE = "satisfaction_check"
#: Puts the question to one complainant on their phone; False if it cannot go by text.
Ask = Callable[[Context, Case, Complainant], bool]


def open_check(ctx: Context, case: Case) -> Deadline | None:
    """The case's open satisfaction check, if any (the follow-up page offers the answer)."""
    return ctx.session.scalar(
        select(Deadline).where(
            Deadline.case_id == case.id, Deadline.code == CODE, Deadline.state == DeadlineState.OPEN
        )
    )


def ask_due(ctx: Context, ask: Ask | None = None, *, limit: int = 200) -> int:
    """Put the question of every satisfaction check whose reminder point has come to the
    complainants not asked yet; how many were asked."""
    now = ctx.now()
    asked_already = exists().where(
        SatisfactionQuestion.deadline_id == Deadline.id,
        SatisfactionQuestion.complainant_id == Complainant.id,
    )
    pairs = ctx.session.execute(
        select(Deadline.id, Complainant.id)
        .join(Complainant, Complainant.case_id == Deadline.case_id)
        .where(
            Deadline.code == CODE,
            Deadline.state == DeadlineState.OPEN,
            Deadline.remind_at <= now,
            Complainant.erased_at.is_(None),
            ~asked_already,
        )
        .order_by(Deadline.remind_at, Deadline.id, Complainant.id)
        .limit(limit)
    ).all()
    ctx.session.commit()  # end the read; each question gets its own transaction
    asked = 0
    for deadline_id, complainant_id in pairs:
        try:
            asked += _ask_one(ctx, deadline_id, complainant_id, ask)
            ctx.session.commit()
        except Exception:
            ctx.session.rollback()
            log.exception("satisfaction: a question could not be asked; it is tried again")
    return asked


def _ask_one(ctx: Context, deadline_id: int, complainant_id: int, ask: Ask | None) -> int:
    deadline = ctx.session.get_one(Deadline, deadline_id)
    case = ctx.lock_case(ctx.session.get_one(Case, deadline.case_id))
    deadline = ctx.session.get_one(Deadline, deadline_id, populate_existing=True)
    if deadline.state is not DeadlineState.OPEN:
        return 0  # answered meanwhile
    complainant = ctx.session.get_one(Complainant, complainant_id)
    now = ctx.now()
    dialect = ctx.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    claimed = ctx.session.execute(
        insert(SatisfactionQuestion)
        .values(
            case_id=case.id,
            complainant_id=complainant.id,
            deadline_id=deadline.id,
            channel="web",
            asked_at=now,
        )
        .on_conflict_do_nothing(index_elements=["deadline_id", "complainant_id"])
        .returning(SatisfactionQuestion.id)
    ).scalar_one_or_none()
    if claimed is None:
        return 0  # another worker asked
    channel = "web"
    if ask is not None and ask(ctx, case, complainant):
        channel = complainant.contact_channel.value
    elif mailbox.queue_for_complainant(ctx, case, complainant, mailbox.REMEDY_QUESTION):
        channel = "email"  # a notice: the question waits on the follow-up page
    question = ctx.session.get_one(SatisfactionQuestion, claimed)
    question.channel = channel
    caselog.append(ctx.session, case, "satisfaction_asked", SYSTEM, now, {"channel": channel})
    return 1


def mark_answered(ctx: Context, case: Case, complainant_id: int | None) -> None:
    """The answer came (from the complainant, or recorded for them by a reviewer)."""
    statement = select(SatisfactionQuestion).where(
        SatisfactionQuestion.case_id == case.id, SatisfactionQuestion.answered_at.is_(None)
    )
    if complainant_id is not None:
        statement = statement.where(SatisfactionQuestion.complainant_id == complainant_id)
    for question in ctx.session.scalars(statement):
        question.answered_at = ctx.now()
