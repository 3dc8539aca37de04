"""Whether the complainant experienced remedy (R21): the satisfaction check at and after
closing. The remedy plan itself, its items and their verification live in
`services.remedy_plan`, `services.remedy_delivery` and `services.remedy_closing`."""

from __future__ import annotations

import enum

from grievance.models import (
    Case,
    Role,
)
from grievance.services import caselog, deadlines, satisfaction
from grievance.services.actors import Actor, require_part
from grievance.services.context import Context, atomic
from grievance.services.errors import NotAllowed


class Satisfaction(enum.StrEnum):
    """Whether the complainant experienced remedy (R21), asked at and after closing."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"


@atomic
def record_satisfaction(ctx: Context, case: Case, actor: Actor, response: Satisfaction) -> None:
    """The complainant's answer to the satisfaction check, given by them or recorded by a
    reviewer who asked them (by phone, in person). It meets the satisfaction time limit."""
    case = ctx.lock_case(case)
    if actor.role not in (Role.COMPLAINANT, Role.REVIEWER):
        raise NotAllowed("only the complainant answers, or a reviewer records their answer")
    require_part(ctx, actor, case)
    now = ctx.now()
    kind = "satisfaction_recorded"
    changes = deadlines.on_event(ctx.session, case, ctx.case_policy(case), kind, now)
    caselog.append(
        ctx.session, case, kind, actor, now, {"response": response.value, **changes.payload()}
    )
    satisfaction.mark_answered(ctx, case, actor.complainant_id)
