"""The remedy plan as each audience may see it (DESIGN invariant 4): the complainant
every item of the plan and its reports (never who verified it, nor the files a company
gave as evidence); a reviewer everything, evidence included; a company only its own
items, with the plan's state. Built in a fixed number of queries, whatever the items."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from grievance.models import (
    Attachment,
    Case,
    Company,
    ComplainantResponse,
    ConsultationAnswer,
    PlanState,
    RemedyAction,
    RemedyPlan,
    RemedyReport,
    RemedyStatus,
)
from grievance.services.context import Context
from grievance.services.remedy_rules import outstanding, override_in_force, plan_of


@dataclass(frozen=True)
class ReportView:
    note: str
    completed: bool
    at: datetime
    files: int


@dataclass(frozen=True)
class RemedyItemView:
    id: int
    remedy_type: str
    description: str
    company_id: int | None
    company: str
    share_percent: int | None
    beneficiary_count: int | None
    beneficiaries: str
    due_on: date | None
    status: RemedyStatus
    proposed_by_company: bool
    verified: bool
    complainant_response: ComplainantResponse | None
    reports: tuple[ReportView, ...]
    #: For reviewers only: the evidence files (attachment id, content type).
    evidence: tuple[tuple[int, str], ...] = ()

    @property
    def awaiting_complainant(self) -> bool:
        return self.status is RemedyStatus.COMPLETED and self.complainant_response is None


@dataclass(frozen=True)
class PlanView:
    state: PlanState
    version: int
    #: The complainant was asked about this version and has not answered yet.
    asked: bool
    #: Their answer, if it is about the version as it is now.
    answer: ConsultationAnswer | None
    approval_proposed_by_id: int | None
    items: tuple[RemedyItemView, ...]
    #: Items that keep the case from closing (reviewers only; () for others).
    outstanding: tuple[int, ...] = ()
    override_proposed_by_id: int | None = None

    @property
    def approved(self) -> bool:
        return self.state is PlanState.APPROVED


def plan_view(
    ctx: Context,
    case: Case,
    *,
    company_id: int | None = None,
    reviewer: bool = False,
    plan: RemedyPlan | None = None,
) -> PlanView | None:
    """The plan for the complainant (default), a reviewer, or one company (`company_id`);
    `plan`: the case's plan, when the caller has read it already."""
    plan = plan or plan_of(ctx, case)
    if plan is None:
        return None
    rows = list(
        ctx.session.scalars(
            select(RemedyAction).where(RemedyAction.plan_id == plan.id).order_by(RemedyAction.id)
        )
    )
    if company_id is not None:
        rows = [row for row in rows if row.company_id == company_id]
    elif not reviewer:  # the complainant: what is in the plan, not what was set aside
        rows = [row for row in rows if row.status not in (RemedyStatus.DECLINED,)]
        rows = [row for row in rows if row.status is not RemedyStatus.PROPOSED]
    ids = [row.id for row in rows]
    companies = {row.company_id for row in rows if row.company_id}
    names: dict[int, str] = {}
    for company_id, name in ctx.session.execute(
        select(Company.id, Company.name).where(Company.id.in_(companies))
    ).tuples():
        names[company_id] = name
    reports: dict[int, list[ReportView]] = defaultdict(list)
    for report in ctx.session.scalars(
        select(RemedyReport).where(RemedyReport.remedy_action_id.in_(ids)).order_by(RemedyReport.id)
    ):
        reports[report.remedy_action_id].append(
            ReportView(report.note, report.completed, report.created_at, report.attachment_count)
        )
    evidence: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if reviewer:
        for attachment_id, action_id, content_type in ctx.session.execute(
            select(Attachment.id, Attachment.remedy_action_id, Attachment.content_type)
            .where(Attachment.remedy_action_id.in_(ids))
            .order_by(Attachment.id)
        ).tuples():
            if action_id is not None:
                evidence[action_id].append((attachment_id, content_type))
    items = tuple(
        RemedyItemView(
            id=row.id,
            remedy_type=row.remedy_type,
            description=row.description,
            company_id=row.company_id,
            company=names.get(row.company_id, "") if row.company_id else "",
            share_percent=row.share_percent,
            beneficiary_count=row.beneficiary_count,
            beneficiaries=row.beneficiaries,
            due_on=row.due_on,
            status=row.status,
            proposed_by_company=row.proposed_by_role == "company",
            verified=row.verified_at is not None,
            complainant_response=row.complainant_response,
            reports=tuple(reports[row.id]),
            evidence=tuple(evidence[row.id]),
        )
        for row in rows
    )
    current = plan.consulted_version == plan.version
    return PlanView(
        state=plan.state,
        version=plan.version,
        asked=plan.state is PlanState.CONSULTING and current and plan.consultation_answer is None,
        answer=plan.consultation_answer if current else None,
        approval_proposed_by_id=plan.approval_proposed_by_id if reviewer else None,
        items=items,
        outstanding=tuple(item.id for item in outstanding(rows)) if reviewer else (),
        override_proposed_by_id=(
            plan.override_proposed_by_id
            if reviewer and override_in_force(ctx, case, plan)
            else None
        ),
    )
