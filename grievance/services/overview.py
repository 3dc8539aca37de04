"""The secretariat's view of deadlines: what is overdue, what is due soon, by reviewer
and by company. Read-only."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, select

from grievance.models import (
    Assignment,
    AssignmentRole,
    Case,
    Company,
    Deadline,
    DeadlineState,
    Involvement,
    Mechanism,
    RemedyAction,
    User,
)
from grievance.services.casereads.audiences import remedy_action_of_code
from grievance.services.company_deadlines import company_of_code
from grievance.services.context import Context


@dataclass(frozen=True)
class DeadlineRow:
    case_id: int
    reference: str
    mechanism: str
    code: str
    due_at: datetime
    paused: bool
    reviewer: str | None
    companies: tuple[str, ...]
    #: The company whose own deadline it is (to respond, an obligation, a remedy action):
    #: None for the case's own time limits, which the reviewers keep.
    owner: str | None = None
    #: What it is about when the code alone does not say (a remedy action's description).
    detail: str = ""


@dataclass
class Overview:
    overdue: list[DeadlineRow] = field(default_factory=list)
    due_soon: list[DeadlineRow] = field(default_factory=list)
    #: name → (overdue, due soon)
    by_reviewer: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_company: dict[str, tuple[int, int]] = field(default_factory=dict)


def deadline_overview(
    ctx: Context, mechanism_codes: Sequence[str] = (), days: int = 7, limit: int = 1000
) -> Overview:
    now = ctx.now()
    query = (
        select(Deadline, Case.reference, Mechanism.code, User.display_name)
        .join(Case, Case.id == Deadline.case_id)
        .join(Mechanism, Mechanism.id == Case.mechanism_id)
        .outerjoin(
            Assignment,
            and_(
                Assignment.case_id == Case.id,
                Assignment.role == AssignmentRole.LEAD,
                Assignment.ended_at.is_(None),
            ),
        )
        .outerjoin(User, User.id == Assignment.reviewer_id)
        .where(Deadline.state == DeadlineState.OPEN, Deadline.due_at <= now + timedelta(days=days))
        .order_by(Deadline.due_at, Deadline.id)
        .limit(limit)
    )
    if mechanism_codes:  # the deadline's own mechanism: its index, not every mechanism's
        ids = select(Mechanism.id).where(Mechanism.code.in_(mechanism_codes))
        query = query.where(Deadline.mechanism_id.in_(ids))
    found = ctx.session.execute(query).all()
    companies: dict[int, list[str]] = defaultdict(list)
    case_ids = {deadline.case_id for deadline, _, _, _ in found}
    if case_ids:
        for case_id, name in ctx.session.execute(
            select(Involvement.case_id, Company.name)
            .join(Company, Company.id == Involvement.company_id)
            .where(Involvement.case_id.in_(case_ids), Involvement.superseded_at.is_(None))
            .order_by(Company.name)
        ):
            companies[case_id].append(name)

    owners, details = _owners(ctx, [deadline.code for deadline, _, _, _ in found])
    overview = Overview()
    reviewer_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    company_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for deadline, reference, mechanism_code, reviewer in found:
        row = DeadlineRow(
            case_id=deadline.case_id,
            reference=reference,
            mechanism=mechanism_code,
            code=deadline.code,
            due_at=deadline.due_at,
            paused=deadline.paused_at is not None,
            reviewer=reviewer,
            companies=tuple(companies[deadline.case_id]),
            owner=owners.get(deadline.code),
            detail=details.get(deadline.code, ""),
        )
        column = 0 if deadline.due_at < now else 1
        (overview.overdue if column == 0 else overview.due_soon).append(row)
        reviewer_counts[reviewer or "(unassigned)"][column] += 1
        if row.owner is not None:  # a company's own deadline: never the reviewers'
            company_counts[row.owner][column] += 1
    overview.by_reviewer = {name: (c[0], c[1]) for name, c in sorted(reviewer_counts.items())}
    overview.by_company = {name: (c[0], c[1]) for name, c in sorted(company_counts.items())}
    return overview


def _owners(ctx: Context, codes: Sequence[str]) -> tuple[dict[str, str], dict[str, str]]:
    """By deadline code: the name of the company whose deadline it is, and a remedy
    action's description (two queries, whatever the number of rows)."""
    actions = {code: remedy_action_of_code(code) for code in codes}
    action_ids = {number for number in actions.values() if number is not None}
    found = (
        ctx.session.execute(
            select(RemedyAction.id, RemedyAction.company_id, RemedyAction.description).where(
                RemedyAction.id.in_(action_ids)
            )
        ).all()
        if action_ids
        else []
    )
    by_action = {row.id: row for row in found}
    company_of: dict[str, int] = {}
    details: dict[str, str] = {}
    for code in codes:
        own = company_of_code(code)
        number = actions[code]
        if own is not None:
            company_of[code] = own
        elif number is not None and number in by_action:
            action = by_action[number]
            details[code] = action.description
            if action.company_id is not None:
                company_of[code] = action.company_id
    names: dict[int, str] = {}
    if company_of:
        rows = ctx.session.execute(
            select(Company.id, Company.name).where(Company.id.in_(set(company_of.values())))
        )
        names = {row.id: row.name for row in rows}
    return {code: names[cid] for code, cid in company_of.items() if cid in names}, details
