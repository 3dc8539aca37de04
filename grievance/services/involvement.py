"""Companies in a case, their OECD involvement, and the obligations it derives (R18)."""

from __future__ import annotations

from sqlalchemy import select

from grievance.models import (
    Case,
    Company,
    Involvement,
    InvolvementKind,
    Obligation,
    ObligationStatus,
    Role,
)
from grievance.services import case_notices, caselog, routing
from grievance.services.actors import Actor, require_part
from grievance.services.context import Context, atomic
from grievance.services.errors import Code, InvalidInput, NotAllowed, ReasonRequired
from grievance.services.texts import clean_text


def current_involvement(ctx: Context, case: Case, company: Company) -> Involvement | None:
    return ctx.session.scalar(
        select(Involvement).where(
            Involvement.case_id == case.id,
            Involvement.company_id == company.id,
            Involvement.superseded_at.is_(None),
        )
    )


@atomic
def add_company(ctx: Context, case: Case, company: Company, actor: Actor) -> Involvement:
    """Name a company in a case, not yet classified. A reviewer of the case who declared a
    conflict with it leaves the case at once, and routing finds someone else (R06)."""
    case = ctx.lock_case(case)
    if actor.role not in (Role.REVIEWER, Role.SECRETARIAT, Role.SYSTEM):
        raise NotAllowed("companies are added by reviewers or the secretariat")
    require_part(ctx, actor, case)
    if current_involvement(ctx, case, company) is not None:
        raise InvalidInput({"company": Code.ALREADY_IN_CASE})
    now = ctx.now()
    involvement = Involvement(
        case_id=case.id, company_id=company.id, kind=None, version=1, created_at=now
    )
    ctx.session.add(involvement)
    ctx.session.flush()
    caselog.append(
        ctx.session,
        case,
        "company_added",
        actor,
        now,
        {"company_id": company.id, "company": company.name},
    )
    routing.drop_conflicted(ctx, case, f"company {company.id} was added to the case")
    case_notices.company_added(ctx, case, company.id)
    return involvement


@atomic
def classify_involvement(
    ctx: Context,
    case: Case,
    company: Company,
    kind: InvolvementKind,
    actor: Actor,
    rationale: str,
    trigger: str | None = None,
) -> Involvement:
    """Classify (or reclassify) how a company is involved; its obligations follow from the
    policy table. A reclassification keeps the history and supersedes open obligations."""
    case = ctx.lock_case(case)
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("only reviewers classify involvement")  # R06
    require_part(ctx, actor, case)
    rationale = clean_text(rationale, "rationale")
    if not rationale:
        raise ReasonRequired("give the rationale of the classification")
    policy = ctx.case_policy(case)
    current = current_involvement(ctx, case, company)
    if current is None:
        raise InvalidInput({"company": Code.NOT_IN_CASE})
    if (
        current.kind is not None
        and trigger is not None
        and trigger not in policy.reclassification.triggers
    ):
        raise InvalidInput({"trigger": Code.UNKNOWN})
    now = ctx.now()
    previous_kind = current.kind
    if current.kind is None:
        involvement = current  # the first classification fills in the named company
    else:
        current.superseded_at = now
        for obligation in current.obligations:
            if obligation.status is ObligationStatus.OPEN:
                obligation.status = ObligationStatus.SUPERSEDED
                obligation.closed_at = now
        ctx.session.flush()
        involvement = Involvement(
            case_id=case.id, company_id=company.id, version=current.version + 1, created_at=now
        )
        ctx.session.add(involvement)
    involvement.kind = kind
    involvement.rationale = rationale
    involvement.decided_by_id = actor.user_id
    ctx.session.flush()
    codes = []
    for rule in policy.obligations_for(kind):
        if not rule.binding:
            continue
        ctx.session.add(
            Obligation(
                case_id=case.id,
                company_id=company.id,
                involvement_id=involvement.id,
                code=rule.code,
                requirement=rule.requirement,
                status=ObligationStatus.OPEN,
                created_at=now,
            )
        )
        codes.append(rule.code)
    payload: dict[str, object] = {
        "company_id": company.id,
        "company": company.name,
        "kind": kind.value,
        "version": involvement.version,
        "rationale": involvement.rationale,
        "obligations": codes,
    }
    if previous_kind is not None:
        payload["previous_kind"] = previous_kind.value
        payload["trigger"] = trigger
    caselog.append(ctx.session, case, "involvement_classified", actor, now, payload)
    ctx.session.flush()
    return involvement
