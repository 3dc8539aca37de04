"""The question on a remedy plan, by text (issue #13, item 5): a plan put to the
complainant waits for their answer on the follow-up page and in the JSON API; a
complainant with a phone contact also gets a short numbered SMS question (agree,
disagree, talk), once each time the reviewers put the plan to them. The channel's `ask`
callable sends it (`intake.sms.conversations.ask_remedy_plan`, wired by the scheduler)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import or_, select

from grievance.models import Case, Complainant, PlanState, RemedyPlan
from grievance.services.context import Context

log = logging.getLogger(__name__)

Ask = Callable[[Context, Case, Complainant], bool]


def text_due(ctx: Context, ask: Ask, *, limit: int = 200) -> int:
    """Text the plans put to complainants and not texted since; how many complainants
    were asked. A plan already answered (on the web) is not texted."""
    plans = ctx.session.scalars(
        select(RemedyPlan)
        .where(
            RemedyPlan.state == PlanState.CONSULTING,
            RemedyPlan.consultation_answer.is_(None),
            or_(
                RemedyPlan.texted_version.is_(None),
                RemedyPlan.texted_version != RemedyPlan.version,
            ),
        )
        .order_by(RemedyPlan.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    asked = 0
    for plan in plans:
        case = ctx.session.get_one(Case, plan.case_id)
        for complainant in case.complainants:
            try:
                asked += bool(ask(ctx, case, complainant))
            except Exception:  # one number failing never stops the others
                log.exception("remedy plan: a question could not be texted")
        plan.texted_version = plan.version
    ctx.session.commit()
    return asked
