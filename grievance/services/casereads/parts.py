"""The parts of the views, each read in one query whatever its length (no query per
event, message or company): facts, time limits, parties, the conversation, files."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from grievance.models import (
    Case,
    CaseTheme,
    Complainant,
    DecisionProposal,
    Involvement,
    Message,
    ProposalState,
    RemedyAction,
    User,
)
from grievance.services import attachments, cases, deadlines
from grievance.services.casereads.views import (
    AssignmentView,
    CaseFacts,
    CompanyView,
    ComplainantView,
    FileView,
    ObligationView,
    ProposalView,
    RemedyActionView,
    Severity,
    StaffFacts,
    TimeLimitView,
    Words,
)
from grievance.services.context import Context

# -- facts -----------------------------------------------------------------------------


def facts(ctx: Context, case: Case) -> CaseFacts:
    themes = ctx.session.scalars(
        select(CaseTheme.theme).where(CaseTheme.case_id == case.id).order_by(CaseTheme.theme)
    )
    return CaseFacts(
        reference=case.reference,
        mechanism_code=case.mechanism.code,
        mechanism_name=case.mechanism.name,
        themes=tuple(themes),
        country=case.country,
        stage=case.stage,
        received_at=case.received_at,
        stage_entered_at=case.stage_entered_at,
        closed_at=case.closed_at,
        has_ended=case.has_ended,
    )


def staff_facts(case: Case) -> StaffFacts:
    severity = None
    if (
        case.severity_scale is not None
        and case.severity_scope is not None
        and case.severity_irremediability is not None
        and case.severity_likelihood is not None
    ):
        severity = Severity(
            case.severity_scale,
            case.severity_scope,
            case.severity_irremediability,
            case.severity_likelihood,
        )
    return StaffFacts(
        language=case.language,
        channel=case.channel,
        urgent=case.urgent,
        needs_interpreter=case.needs_interpreter,
        queue_rank=case.queue_rank,
        severity=severity,
        reprisal_risk=case.reprisal_risk,
    )


def time_limits(
    ctx: Context, case: Case, keep: Callable[[str], bool] | None = None
) -> tuple[TimeLimitView, ...]:
    """The open time limits, soonest first (`keep`: which codes, if not all)."""
    policy = ctx.case_policy(case)
    now = ctx.now()
    limits = []
    for deadline in deadlines.open_deadlines(ctx.session, case):
        if keep is not None and not keep(deadline.code):
            continue
        limit = policy.time_limit_for(deadline.code)
        paused = deadline.paused_at is not None
        limits.append(
            TimeLimitView(
                code=deadline.code,
                label=limit.label if limit is not None else None,
                due_at=deadline.due_at,
                paused=paused,
                overdue=not paused and deadline.due_at < now,
            )
        )
    return tuple(limits)


# -- the parties -----------------------------------------------------------------------


def involvements(ctx: Context, case: Case) -> list[Involvement]:
    """The current involvement of every company in the case, with company and obligations."""
    return list(
        ctx.session.scalars(
            select(Involvement)
            .where(Involvement.case_id == case.id, Involvement.superseded_at.is_(None))
            .options(joinedload(Involvement.company), selectinload(Involvement.obligations))
            .order_by(Involvement.id)
        ).unique()
    )


def company(row: Involvement) -> CompanyView:
    return CompanyView(
        company_id=row.company_id,
        name=row.company.name,
        involvement=row.kind,
        rationale=row.rationale,
        version=row.version,
        obligations=tuple(
            ObligationView(
                o.code, o.requirement, o.due_at, o.status, o.id, o.reported_status, o.report
            )
            for o in row.obligations
        ),
        leverage=row.leverage,
    )


def remedy_actions(ctx: Context, case: Case) -> list[RemedyAction]:
    return list(
        ctx.session.scalars(
            select(RemedyAction).where(RemedyAction.case_id == case.id).order_by(RemedyAction.id)
        )
    )


def remedy_views(rows: Iterable[RemedyAction]) -> tuple[RemedyActionView, ...]:
    return tuple(
        RemedyActionView(
            id=row.id,
            company_id=row.company_id,
            remedy_type=row.remedy_type,
            description=row.description,
            due_on=row.due_on,
            status=row.status,
            complainant_response=row.complainant_response,
        )
        for row in rows
    )


def complainants(ctx: Context, case: Case) -> tuple[ComplainantView, ...]:
    rows = ctx.session.scalars(
        select(Complainant).where(Complainant.case_id == case.id).order_by(Complainant.id)
    )
    return tuple(
        ComplainantView(
            row.id,
            row.anonymity,
            row.kind,
            row.contact_channel,
            row.erased_at is not None,
            contact_failed=row.contact_failed_at is not None,
        )
        for row in rows
    )


def proposal(ctx: Context, case: Case) -> ProposalView | None:
    row = ctx.session.scalar(
        select(DecisionProposal).where(
            DecisionProposal.case_id == case.id, DecisionProposal.state == ProposalState.PENDING
        )
    )
    if row is None:
        return None
    return ProposalView(row.id, row.to_stage, row.reason, row.proposed_by_id, row.proposed_at)


def staff_names(ctx: Context, ids: Iterable[int | None]) -> Mapping[int, str]:
    wanted = {user_id for user_id in ids if isinstance(user_id, int)}
    if not wanted:
        return MappingProxyType({})
    rows = ctx.session.execute(select(User.id, User.display_name).where(User.id.in_(wanted)))
    return MappingProxyType({row.id: row.display_name for row in rows})


def files(ctx: Context, case: Case, message_ids: set[int] | None = None) -> tuple[FileView, ...]:
    """The case's files (`message_ids`: only those given with no message or with one of
    these messages)."""
    return tuple(
        FileView(a.id, attachments.filename_of(ctx, a), a.size, a.content_type, a.created_at)
        for a in attachments.attachments_of(ctx, case)
        # the complainant's (message_ids given): never a company's evidence (#13)
        if message_ids is None
        or (a.obligation_id is None and (a.message_id is None or a.message_id in message_ids))
    )


def messages_of(ctx: Context, case: Case) -> list[Message]:
    return list(
        ctx.session.scalars(select(Message).where(Message.case_id == case.id).order_by(Message.id))
    )


def reviewers(ctx: Context, case: Case) -> tuple[AssignmentView, ...]:
    return tuple(
        AssignmentView(role, row.reviewer_id)
        for role, row in sorted(cases.active_assignments(ctx, case).items())
    )


def words(ctx: Context, case: Case) -> Words:
    def opened(name: str, blob: bytes | None) -> str:
        return ctx.vault.open(case.id, name, blob) if blob else ""

    return Words(
        statement=opened("statement", case.statement_enc),
        location=opened("location", case.location_enc),
        companies=opened("companies", case.companies_enc),
        occurred=opened("occurred", case.occurred_enc),
    )
