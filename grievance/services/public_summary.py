"""A case's public summary (issue 16, item 1): written by one of its reviewers, approved
by a second (four eyes), never the complainant's own words. Both steps are case-log
events in the same transaction (`summary_events`): the proposal is the reviewers', the
approval public, so the registry shows the approved summary and the log proves it.
A new proposal replaces a pending one; an approved summary stays until another is
approved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from grievance.models import Case, CaseEvent, Role
from grievance.services import caselog
from grievance.services.actors import Actor, require_part
from grievance.services.context import Context
from grievance.services.errors import Code, FourEyesViolation, InvalidInput, NotAllowed
from grievance.services.texts import clean_text

PROPOSED, APPROVED = "public_summary_proposed", "public_summary_approved"
MAX_LENGTH = 2000


@dataclass(frozen=True)
class Summary:
    text: str
    language: str
    seq: int
    by_id: int | None


@dataclass(frozen=True)
class SummaryState:
    """What the case's reviewers see: the approved summary and a proposal waiting."""

    approved: Summary | None
    pending: Summary | None


def _summary(event: CaseEvent) -> Summary:
    return Summary(
        str(event.payload["summary"]), str(event.payload["language"]), event.seq, event.actor_id
    )


def _reviewer(ctx: Context, actor: Actor, case: Case) -> None:
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("only the case's reviewers write its public summary")
    require_part(ctx, actor, case)


def state(ctx: Context, case: Case) -> SummaryState:
    rows = ctx.session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind.in_((PROPOSED, APPROVED)))
        .order_by(CaseEvent.seq)
    ).all()
    approved = pending = None
    for event in rows:
        if event.kind == APPROVED:
            approved, pending = _summary(event), None
        else:
            pending = _summary(event)
    return SummaryState(approved, pending)


def propose(ctx: Context, case: Case, actor: Actor, text: str, language: str) -> CaseEvent:
    """A reviewer of the case proposes its public summary (in `language`)."""
    case = ctx.lock_case(case)
    _reviewer(ctx, actor, case)
    summary = clean_text(text or "", "summary")
    if not summary:
        raise InvalidInput({"summary": Code.REQUIRED})
    if len(summary) > MAX_LENGTH:
        raise InvalidInput.too_long("summary", MAX_LENGTH)
    payload = {"summary": summary, "language": language or case.language}
    return caselog.append(ctx.session, case, "public_summary_proposed", actor, ctx.now(), payload)


def approve(ctx: Context, case: Case, actor: Actor) -> CaseEvent:
    """A second reviewer of the case approves the pending proposal: it becomes public."""
    case = ctx.lock_case(case)
    _reviewer(ctx, actor, case)
    pending = state(ctx, case).pending
    if pending is None:
        raise InvalidInput({"summary": Code.ALREADY_DONE})
    if pending.by_id == actor.user_id:
        raise FourEyesViolation("the reviewer who proposed the summary cannot approve it")
    payload = {"summary": pending.text, "language": pending.language, "proposed_seq": pending.seq}
    return caselog.append(ctx.session, case, "public_summary_approved", actor, ctx.now(), payload)


def approved_of(ctx: Context, case_ids: Iterable[int]) -> dict[int, Summary]:
    """The approved summary of each of these cases that has one (one query)."""
    ids = list(case_ids)
    if not ids:
        return {}
    found: dict[int, Summary] = {}
    rows = ctx.session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id.in_(ids), CaseEvent.kind == APPROVED)
        .order_by(CaseEvent.case_id, CaseEvent.seq)
    )
    for event in rows:
        found[event.case_id] = _summary(event)
    return found
