"""The company portal's reads (#13): the cases a company is party to, newest first, in
keyset pages (never OFFSET, never an exact count), and each company's record of missed
deadlines for the secretariat. What a company sees of one case is its read model
(`casereads.company_view`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select

from grievance.models import (
    Case,
    Company,
    Deadline,
    DeadlineState,
    Involvement,
    InvolvementKind,
    Mechanism,
    Stage,
)
from grievance.models.company import company_mechanism
from grievance.services.company_deadlines import COMPANY_PREFIX, company_of_code, kind_of_code
from grievance.services.context import Context

PAGE_SIZE = 50


@dataclass(frozen=True)
class CompanyCaseRow:
    case_id: int
    reference: str
    stage: Stage
    received_at: datetime
    involvement: InvolvementKind | None


@dataclass(frozen=True)
class CompanyCasePage:
    rows: tuple[CompanyCaseRow, ...]
    #: The case id the next page starts after (None: this is the last page).
    after: int | None


def company_cases(
    ctx: Context, company_id: int, after: int | None = None, size: int = PAGE_SIZE
) -> CompanyCasePage:
    """One page of the cases the company is in now (a current involvement), newest first;
    one query, on the index of a company's current involvements."""
    query = (
        select(Case.id, Case.reference, Case.stage, Case.received_at, Involvement.kind)
        .join(Involvement, Involvement.case_id == Case.id)
        .where(Involvement.company_id == company_id, Involvement.superseded_at.is_(None))
        .order_by(Involvement.case_id.desc())
        .limit(size + 1)
    )
    if after is not None:
        query = query.where(Involvement.case_id < after)
    found = [CompanyCaseRow(*row) for row in ctx.session.execute(query)]
    more = len(found) > size
    rows = tuple(found[:size])
    return CompanyCasePage(rows, rows[-1].case_id if more and rows else None)


@dataclass(frozen=True)
class MissedRow:
    reference: str
    kind: str  # "response" or "obligation"
    due_at: datetime
    state: DeadlineState
    escalated: bool


@dataclass(frozen=True)
class CompanyRecord:
    company_id: int
    name: str
    missed: tuple[MissedRow, ...]
    open_overdue: int


def missed_deadlines(
    ctx: Context, mechanism_ids: Sequence[int], now: datetime, limit: int = 500
) -> list[CompanyRecord]:
    """Each company's record in these mechanisms: its own deadlines (to respond, its
    obligations) missed or escalated, newest first; reviewers' deadlines never count."""
    if not mechanism_ids:
        return []
    rows = ctx.session.execute(
        select(Deadline, Case.reference)
        .join(Case, Case.id == Deadline.case_id)
        .where(
            Case.mechanism_id.in_(mechanism_ids),
            Deadline.code.startswith(COMPANY_PREFIX),
            (Deadline.state == DeadlineState.MISSED)
            | and_(Deadline.state == DeadlineState.OPEN, Deadline.due_at < now),
        )
        .order_by(Deadline.due_at.desc(), Deadline.id.desc())
        .limit(limit)
    ).all()
    by_company: dict[int, list[MissedRow]] = defaultdict(list)
    for deadline, reference in rows:
        company = company_of_code(deadline.code)
        if company is None:
            continue
        by_company[company].append(
            MissedRow(
                reference,
                kind_of_code(deadline.code),
                deadline.due_at,
                deadline.state,
                deadline.escalated_at is not None,
            )
        )
    names = _names(ctx, by_company, mechanism_ids)
    return [
        CompanyRecord(
            company_id,
            names[company_id],
            tuple(missed),
            sum(1 for row in missed if row.state is DeadlineState.OPEN),
        )
        for company_id, missed in sorted(by_company.items(), key=lambda item: names[item[0]])
        if company_id in names
    ]


def _names(ctx: Context, ids: Iterable[int], mechanism_ids: Sequence[int]) -> dict[int, str]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = ctx.session.execute(select(Company.id, Company.name).where(Company.id.in_(wanted)))
    return {row.id: row.name for row in rows}


def register_of(ctx: Context, mechanism: Mechanism) -> list[Company]:
    """The companies that adhere to a mechanism, by name (its register)."""
    return list(
        ctx.session.scalars(
            select(Company)
            .join(company_mechanism, company_mechanism.c.company_id == Company.id)
            .where(company_mechanism.c.mechanism_id == mechanism.id)
            .order_by(Company.name)
        )
    )
