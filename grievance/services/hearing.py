"""Hearing the complainant before the investigation ends (R08, LkSG §8(1)).

A case leaves `investigation` (for findings or dialogue: the moves the lifecycle marks
`hears_complainant`) only when the complainant was heard since it entered that stage:
a message from them (any channel: `messages.add_message`), or a conversation a reviewer
logs here (a call, a meeting), or, when they could not be heard, a reviewer's logged
reason (they could not be reached, they declined). A withdrawal needs none of this.

Below `services.cases`, which calls `check_heard` for every such move; `record_hearing`
writes its own event.
"""

from __future__ import annotations

from sqlalchemy import select

from grievance.models import Case, CaseEvent, Role, Stage
from grievance.services import caselog, events
from grievance.services.actors import Actor, require_part
from grievance.services.context import Context, atomic
from grievance.services.errors import NotAllowed, ReasonRequired, ServiceError
from grievance.services.texts import clean_text

#: The events that count as the complainant heard (or, with reasons, not heard).
HEARD_KINDS = ("message_from_complainant", "complainant_heard", "complainant_not_heard")
NOTE_MAX = 5000


class ComplainantNotHeard(ServiceError):
    """The case cannot leave investigation: the complainant was not heard since it
    entered it, and no reviewer logged why they could not be (R08)."""


def _entered_seq(ctx: Context, case: Case) -> int:
    """The position in the log of the case's latest entry into its current stage."""
    seq = ctx.session.scalar(
        select(CaseEvent.seq)
        .where(CaseEvent.case_id == case.id, CaseEvent.stage_to == case.stage)
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    )
    return seq or 0


def heard(ctx: Context, case: Case) -> bool:
    """Whether the complainant was heard (or not, with reasons) in the current stage."""
    found = ctx.session.scalar(
        select(CaseEvent.id)
        .where(
            CaseEvent.case_id == case.id,
            CaseEvent.kind.in_(HEARD_KINDS),
            CaseEvent.seq > _entered_seq(ctx, case),
        )
        .limit(1)
    )
    return found is not None


def check_heard(ctx: Context, case: Case) -> None:
    if not heard(ctx, case):
        raise ComplainantNotHeard("the complainant was not heard in this investigation")


@atomic
def record_hearing(ctx: Context, case: Case, actor: Actor, *, heard: bool, note: str) -> Case:
    """A reviewer logs that the complainant was heard outside this system (`note`: how,
    when), or that they could not be heard (`note`: why). Only in investigation."""
    case = ctx.lock_case(case)
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("only reviewers log hearing the complainant")
    require_part(ctx, actor, case)
    if case.stage is not Stage.INVESTIGATION:
        raise NotAllowed("the complainant is heard during the investigation")
    note = clean_text(note, "note")
    if not note or len(note) > NOTE_MAX:
        raise ReasonRequired("say how they were heard, or why they could not be")
    entry = events.complainant_heard(note) if heard else events.complainant_not_heard(note)
    caselog.record(ctx.session, case, entry, actor, ctx.now())
    return case
