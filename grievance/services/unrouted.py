"""Cases no reviewer can take (#15, item 8): a lead or second role stays empty because
every reviewer is full, in conflict with a company of the case, unavailable or gone
from it. Routing records since when and why on the case (`routing.record_unrouted`);
this reads them for the secretariat of the case's mechanism, longest waiting first."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from grievance.models import Assignment, AssignmentRole, Case, Mechanism, Stage
from grievance.models.case import ENDED_STAGES
from grievance.services.context import Context
from grievance.services.queue import BAND
from grievance.services.routing_scores import ROLES, Exclusion

#: The most rows the page lists (a backlog larger than this is the news itself).
LIMIT = 200


@dataclass(frozen=True)
class UnroutedCase:
    reference: str
    mechanism: str
    stage: Stage
    since: datetime
    #: How many reviewers were passed over, by reason; empty: no active reviewer at all.
    passed_over: dict[Exclusion, int]
    empty_roles: list[AssignmentRole]
    urgent: bool


def parse_reason(reason: str | None) -> dict[Exclusion, int]:
    """`routing.unrouted_reason`'s text back as counts ("none" and junk: nothing)."""
    counts: dict[Exclusion, int] = {}
    for part in (reason or "").split():
        name, _, number = part.partition(":")
        why = next((e for e in Exclusion if e.value == name), None)
        if why is not None and number.isdecimal():
            counts[why] = int(number)
    return counts


def unrouted_cases(ctx: Context, mechanism_codes: Collection[str]) -> list[UnroutedCase]:
    """The open cases of these mechanisms waiting for a reviewer, longest first (two
    queries, however many cases)."""
    if not mechanism_codes:
        return []
    rows = ctx.session.execute(
        select(
            Case.id,
            Case.reference,
            Mechanism.code,
            Case.stage,
            Case.unrouted_since,
            Case.unrouted_reason,
            Case.queue_rank,
        )
        .join(Mechanism, Mechanism.id == Case.mechanism_id)
        .where(
            Mechanism.code.in_(sorted(mechanism_codes)),
            Case.unrouted_since.is_not(None),
            Case.stage.not_in(sorted(ENDED_STAGES)),
        )
        .order_by(Case.unrouted_since, Case.id)
        .limit(LIMIT)
    ).all()
    filled: dict[int, set[AssignmentRole]] = {}
    if rows:
        for case_id, role in ctx.session.execute(
            select(Assignment.case_id, Assignment.role).where(
                Assignment.case_id.in_([row.id for row in rows]), Assignment.ended_at.is_(None)
            )
        ).tuples():
            filled.setdefault(case_id, set()).add(role)
    return [
        UnroutedCase(
            reference=row.reference,
            mechanism=row.code,
            stage=row.stage,
            since=row.unrouted_since,
            passed_over=parse_reason(row.unrouted_reason),
            empty_roles=[role for role in ROLES if role not in filled.get(row.id, set())],
            urgent=row.queue_rank < BAND,  # the first band (`services.queue`)
        )
        for row in rows
    ]
