"""Companies in a case, their OECD involvement, and the obligations it derives (R18).

A classification takes four eyes: one reviewer of the case proposes it (kind, leverage,
rationale, and for a reclassification a trigger from the policy's list), and another
reviewer of the case confirms or rejects it. Confirmed, it becomes the company's current
involvement; its obligations follow from the policy table for that kind and leverage
(`Policy.obligations_binding`), each with its due date. A reclassification keeps the
history (a new version), keeps the obligations already done, keeps the open ones the new
classification still requires, supersedes the others, and opens the new ones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select

from grievance.models import (
    Case,
    Company,
    CompanyKind,
    Deadline,
    Involvement,
    InvolvementKind,
    InvolvementProposal,
    InvolvementProposalState,
    Leverage,
    Obligation,
    ObligationStatus,
    Role,
    Site,
)
from grievance.services import (
    case_notices,
    caselog,
    company_deadlines,
    deadlines,
    notifications,
    routing,
)
from grievance.services.actors import Actor, require_part
from grievance.services.assignments import active_assignments
from grievance.services.context import Context, atomic
from grievance.services.errors import Code, InvalidInput, NotAllowed, ReasonRequired
from grievance.services.texts import clean_text

#: Obligations a company has met or failed, verified: a reclassification keeps them.
DONE = (ObligationStatus.FULFILLED, ObligationStatus.NOT_FULFILLED)


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
    policy = ctx.case_policy(case)
    respond_by = company_deadlines.open_deadline(
        ctx.session,
        case,
        company_deadlines.response_code(company.id),
        now,
        policy.company.response_days,
        policy.company.reminder_share,
    )
    caselog.append(
        ctx.session,
        case,
        "company_added",
        actor,
        now,
        {
            "company_id": company.id,
            "company": company.name,
            **deadlines.Changes(opened=[respond_by], closed=[]).payload(),
        },
    )
    routing.drop_conflicted(ctx, case, f"company {company.id} was added to the case")
    case_notices.company_added(ctx, case, company.id)
    return involvement


def pending_proposals(ctx: Context, case: Case) -> list[InvolvementProposal]:
    """The classifications of the case waiting for a second reviewer."""
    return list(
        ctx.session.scalars(
            select(InvolvementProposal)
            .where(
                InvolvementProposal.case_id == case.id,
                InvolvementProposal.state == InvolvementProposalState.PENDING,
            )
            .order_by(InvolvementProposal.id)
        )
    )


def _require_reviewer(ctx: Context, actor: Actor, case: Case) -> None:
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("only reviewers of the case classify involvement")  # R06
    require_part(ctx, actor, case)


@atomic
def propose_involvement(
    ctx: Context,
    case: Case,
    company: Company,
    kind: InvolvementKind,
    leverage: Leverage,
    actor: Actor,
    rationale: str,
    trigger: str | None = None,
) -> InvolvementProposal:
    """Propose how a company is involved; it takes effect when another reviewer of the
    case confirms it (`confirm_involvement`). A reclassification names its trigger."""
    case = ctx.lock_case(case)
    _require_reviewer(ctx, actor, case)
    rationale = clean_text(rationale, "rationale")
    if not rationale:
        raise ReasonRequired("give the rationale of the classification")
    current = current_involvement(ctx, case, company)
    if current is None:
        raise InvalidInput({"company": Code.NOT_IN_CASE})
    policy = ctx.case_policy(case)
    if current.kind is None:
        trigger = None  # a first classification needs no trigger
    elif not trigger:
        raise InvalidInput({"trigger": Code.REQUIRED})
    elif trigger not in policy.reclassification.triggers:
        raise InvalidInput({"trigger": Code.UNKNOWN})
    if any(row.company_id == company.id for row in pending_proposals(ctx, case)):
        raise InvalidInput({"company": Code.ALREADY_PROPOSED})
    now = ctx.now()
    assert actor.user_id is not None
    proposal = InvolvementProposal(
        case_id=case.id,
        company_id=company.id,
        kind=kind,
        leverage=leverage,
        rationale=rationale,
        trigger=trigger,
        state=InvolvementProposalState.PENDING,
        proposed_by_id=actor.user_id,
        proposed_at=now,
        reason="",
    )
    ctx.session.add(proposal)
    ctx.session.flush()
    caselog.append(
        ctx.session,
        case,
        "involvement_proposed",
        actor,
        now,
        {
            "proposal_id": proposal.id,
            "company_id": company.id,
            "company": company.name,
            "kind": kind.value,
            "leverage": leverage.value,
            "rationale": rationale,
            "trigger": trigger,
        },
    )
    others = [
        row.reviewer_id
        for row in active_assignments(ctx, case).values()
        if row.reviewer_id != actor.user_id
    ]
    notifications.notify(ctx, others, notifications.DECISION_WAITING, case=case)
    return proposal


def _decidable(ctx: Context, proposal: InvolvementProposal, actor: Actor) -> Case:
    case = ctx.lock_case(ctx.session.get_one(Case, proposal.case_id))
    _require_reviewer(ctx, actor, case)
    ctx.session.refresh(proposal)
    if proposal.state is not InvolvementProposalState.PENDING:
        raise InvalidInput({"proposal": Code.ALREADY_DONE})
    if proposal.proposed_by_id == actor.user_id:
        raise InvalidInput({"proposal": Code.SAME_REVIEWER})
    return case


@atomic
def reject_involvement(
    ctx: Context, proposal: InvolvementProposal, actor: Actor, reason: str
) -> InvolvementProposal:
    """The second reviewer does not confirm the proposal, with reasons."""
    case = _decidable(ctx, proposal, actor)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ReasonRequired("say why the classification is not confirmed")
    now = ctx.now()
    proposal.state = InvolvementProposalState.REJECTED
    proposal.decided_by_id = actor.user_id
    proposal.decided_at = now
    proposal.reason = reason
    caselog.append(
        ctx.session,
        case,
        "involvement_rejected",
        actor,
        now,
        {
            "proposal_id": proposal.id,
            "company_id": proposal.company_id,
            "company": proposal.company.name,
            "reason": reason,
        },
    )
    return proposal


@atomic
def confirm_involvement(ctx: Context, proposal: InvolvementProposal, actor: Actor) -> Involvement:
    """The second reviewer confirms: the classification takes effect, its obligations
    are recomputed from the policy, and the change is logged for the company."""
    case = _decidable(ctx, proposal, actor)
    company = proposal.company
    current = current_involvement(ctx, case, company)
    if current is None:  # the company left the case meanwhile
        raise InvalidInput({"company": Code.NOT_IN_CASE})
    policy = ctx.case_policy(case)
    now = ctx.now()
    proposal.state = InvolvementProposalState.CONFIRMED
    proposal.decided_by_id = actor.user_id
    proposal.decided_at = now
    previous_kind = current.kind
    carried: list[Obligation] = []
    if current.kind is None:
        involvement = current  # the first classification fills in the named company
    else:
        current.superseded_at = now
        carried = list(current.obligations)
        ctx.session.flush()
        involvement = Involvement(
            case_id=case.id, company_id=company.id, version=current.version + 1, created_at=now
        )
        ctx.session.add(involvement)
    involvement.kind = proposal.kind
    involvement.leverage = proposal.leverage
    involvement.rationale = proposal.rationale
    involvement.trigger = proposal.trigger
    involvement.proposed_by_id = proposal.proposed_by_id
    involvement.decided_by_id = actor.user_id
    ctx.session.flush()
    rules = {
        rule.code: rule for rule in policy.obligations_binding(proposal.kind, proposal.leverage)
    }
    kept: list[str] = []
    superseded: list[str] = []
    opened_deadlines: list[Deadline] = []
    closed_deadlines: list[Deadline] = []
    for obligation in carried:
        if obligation.status in DONE or (
            obligation.status is ObligationStatus.OPEN and obligation.code in rules
        ):
            obligation.involvement_id = involvement.id  # done ones, and duties still owed
            kept.append(obligation.code)
        elif obligation.status is ObligationStatus.OPEN:
            obligation.status = ObligationStatus.SUPERSEDED
            obligation.closed_at = now
            superseded.append(obligation.code)
            waived = company_deadlines.close_deadline(
                ctx.session,
                case,
                company_deadlines.obligation_code(company.id, obligation.id),
                now,
                waived="involvement reclassified",
            )
            if waived is not None:
                closed_deadlines.append(waived)
    added: list[str] = []
    for code, rule in rules.items():
        if code in kept:
            continue
        obligation = Obligation(
            case_id=case.id,
            company_id=company.id,
            involvement_id=involvement.id,
            code=rule.code,
            requirement=rule.requirement,
            due_at=now + timedelta(days=rule.days) if rule.days else None,
            status=ObligationStatus.OPEN,
            created_at=now,
            report="",
        )
        ctx.session.add(obligation)
        ctx.session.flush()
        if rule.days:
            opened_deadlines.append(
                company_deadlines.open_deadline(
                    ctx.session,
                    case,
                    company_deadlines.obligation_code(company.id, obligation.id),
                    now,
                    rule.days,
                    policy.company.reminder_share,
                )
            )
        added.append(code)
    ctx.session.expire(involvement, ["obligations"])
    payload: dict[str, object] = {
        "company_id": company.id,
        "company": company.name,
        "kind": proposal.kind.value,
        "leverage": proposal.leverage.value,
        "version": involvement.version,
        "rationale": involvement.rationale,
        "obligations": added,
        "proposal_id": proposal.id,
        "proposed_by": proposal.proposed_by_id,
    }
    if previous_kind is not None:
        payload["previous_kind"] = previous_kind.value
        payload["trigger"] = proposal.trigger
        payload["obligations_kept"] = kept
        payload["obligations_superseded"] = superseded
    payload.update(deadlines.Changes(opened=opened_deadlines, closed=closed_deadlines).payload())
    caselog.append(ctx.session, case, "involvement_classified", actor, now, payload)
    ctx.session.flush()
    return involvement


@atomic
def register_company(
    ctx: Context,
    case: Case,
    actor: Actor,
    *,
    name: str,
    kind: CompanyKind,
    country: str,
    sites: Sequence[tuple[str, str, str]] = (),
) -> Company:
    """A reviewer (or the secretariat) registers a company the mechanism's register lacks,
    with its sites (name, kind, country), as adhering to the case's mechanism, and names
    it in the case."""
    case = ctx.lock_case(case)
    if actor.role not in (Role.REVIEWER, Role.SECRETARIAT):
        raise NotAllowed("companies are registered by reviewers or the secretariat")
    require_part(ctx, actor, case)
    name = clean_text(name, "name")
    errors: dict[str, Code] = {}
    if not name:
        errors["name"] = Code.REQUIRED
    elif ctx.session.scalar(select(Company.id).where(Company.name == name)) is not None:
        errors["name"] = Code.ALREADY_DONE
    if len(country) != 2 or not country.isalpha() or not country.isupper():
        errors["country"] = Code.UNKNOWN
    cleaned = []
    for site_name, site_kind, site_country in sites:
        site_name = clean_text(site_name, "site")
        if not site_name:
            continue
        if len(site_country) != 2 or not site_country.isalpha() or not site_country.isupper():
            errors["site_country"] = Code.UNKNOWN
        cleaned.append((site_name, clean_text(site_kind, "site_kind") or "factory", site_country))
    if errors:
        raise InvalidInput(errors)
    company = Company(name=name, kind=kind, country=country, created_at=ctx.now())
    company.mechanisms.append(case.mechanism)
    ctx.session.add(company)
    for site_name, site_kind, site_country in cleaned:
        ctx.session.add(Site(company=company, name=site_name, kind=site_kind, country=site_country))
    ctx.session.flush()
    add_company(ctx, case, company, actor)
    return company


@atomic
def set_site(ctx: Context, case: Case, site: Site, actor: Actor) -> None:
    """Say at which site of a company in the case the harm happened."""
    case = ctx.lock_case(case)
    if actor.role not in (Role.REVIEWER, Role.SECRETARIAT):
        raise NotAllowed("the site is set by reviewers or the secretariat")
    require_part(ctx, actor, case)
    if current_involvement(ctx, case, site.company) is None:
        raise InvalidInput({"site": Code.NOT_IN_CASE})
    case.site_id = site.id
    caselog.append(
        ctx.session,
        case,
        "site_set",
        actor,
        ctx.now(),
        {"site_id": site.id, "site": site.name, "company_id": site.company_id},
    )
