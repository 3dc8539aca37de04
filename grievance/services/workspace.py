"""The reviewer's workspace queue: the cases a reviewer is on, in the queue's order.

The order is `Case.queue_rank` (lower first), then `Case.next_due_at` (soonest first, a
case with no running time limit last), then `Case.id`. Pages follow each other by keyset
(never OFFSET, no count): a page ends with the key of its last row, and the next page
takes the rows strictly after that key in this order, so rows are neither skipped nor
repeated across ties of rank and due time, or across cases without a due time.

The query starts from the reviewer's active assignments (the partial index
`ix_assignment_active_reviewer (reviewer_id, case_id) WHERE ended_at IS NULL`, migration
0008), joins each case by its primary key and sorts what it found. A reviewer is on tens
of cases (routing keeps them under their capacity), so the sort is small; the order
cannot come from an index here, because the filter (the reviewer) and the sort keys live
in two tables. Only the columns a row shows are read: never the statement, never an
identity.

The cursor given to a browser is an opaque token (`QueueKey.token`); a token that does
not parse raises `InvalidCursor`, nothing else.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import selectinload

from grievance.models import (
    Assignment,
    AssignmentRole,
    Case,
    CaseTheme,
    DecisionProposal,
    Mechanism,
    ProposalState,
    ReprisalRisk,
    Stage,
)
from grievance.policies import default_policy
from grievance.services import queue
from grievance.services.context import Context

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Stands for "no due time" in a token: such cases come last among their rank.
_NO_DUE = "n"
_TOKEN = re.compile(r"^q1\.([0-9]{1,10})\.(n|-?[0-9]{1,19})\.([0-9]{1,10})$")
#: Ranks and case ids are 32-bit integer columns: a key beyond them names no row.
_INT_MAX = 2**31 - 1
_TOKEN_MAX = 80


class InvalidCursor(ValueError):
    """A page token that this module did not write (altered, cut, or made up)."""


@dataclass(frozen=True)
class QueueKey:
    """A row's place in the queue's order: (rank, due time or none, case id)."""

    rank: int
    due_at: datetime | None
    case_id: int

    def token(self) -> str:
        if self.due_at is None:
            due = _NO_DUE
        else:
            due = str((self.due_at.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1))
        text = f"q1.{self.rank}.{due}.{self.case_id}"
        return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> QueueKey:
        """The key a token stands for; `InvalidCursor` for anything else."""
        if not isinstance(token, str) or not 0 < len(token) <= _TOKEN_MAX:
            raise InvalidCursor("no token")
        try:
            padded = token + "=" * (-len(token) % 4)
            text = base64.b64decode(padded, altchars=b"-_", validate=True).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise InvalidCursor("not a token") from None
        match = _TOKEN.fullmatch(text)
        if match is None:
            raise InvalidCursor("not a token")
        rank, due, case_id = match.groups()
        if int(rank) > _INT_MAX or not 0 < int(case_id) <= _INT_MAX:
            raise InvalidCursor("out of range")
        due_at = None
        if due != _NO_DUE:
            try:
                due_at = _EPOCH + timedelta(microseconds=int(due))
            except OverflowError:
                raise InvalidCursor("due time out of range") from None
        if cls(int(rank), due_at, int(case_id)).token() != token:
            raise InvalidCursor("not in its canonical form")  # '+1', '01', padding ...
        return cls(int(rank), due_at, int(case_id))


@dataclass(frozen=True)
class QueueFilters:
    """What the reviewer narrows the queue to. `stage` None: every open stage (an ended
    case is left out unless `include_ended` or its stage is asked for)."""

    stage: Stage | None = None
    include_ended: bool = False
    mechanism: str | None = None  # the mechanism's code
    language: str | None = None
    overdue: bool = False
    urgent: bool = False


@dataclass(frozen=True)
class QueueRow:
    case_id: int
    reference: str
    mechanism: str
    stage: Stage
    language: str
    queue_rank: int
    next_due_at: datetime | None
    urgent: bool
    needs_interpreter: bool
    clock_paused: bool
    role: AssignmentRole
    overdue: bool
    #: Why the case is urgent (`queue.urgency_reasons`), empty when it is not.
    urgent_reasons: tuple[queue.UrgencyReason, ...] = ()
    #: One of its urgent themes (the policy's code), when that is a reason.
    urgent_theme: str | None = None
    #: Who proposed the decision waiting for a second reviewer (None: none waits): the
    #: queue says "yours to confirm" to the other reviewer.
    proposed_by: int | None = None

    @property
    def key(self) -> QueueKey:
        return QueueKey(self.queue_rank, self.next_due_at, self.case_id)

    @property
    def band(self) -> int:
        """The queue band (`services.queue`): 0 irremediable if delayed, 1 not yet
        assessed, 2 assessed."""
        return self.queue_rank // queue.BAND


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    #: The key to ask the next page with (`after`), None on the last page.
    next_key: QueueKey | None


def urgent_themes(ctx: Context) -> frozenset[str]:
    """The urgent themes of every policy in force (the default and each mechanism's
    versions): a case with one of them stays urgent, as `queue.is_urgent` says, also once
    assessed as remediable."""
    themes = set(default_policy().urgent_themes)
    # every mechanism's policy rows in one more query, not one query per mechanism
    mechanisms = ctx.session.scalars(select(Mechanism).options(selectinload(Mechanism.policies)))
    for mechanism in mechanisms:
        for row in mechanism.policies:
            themes |= ctx.policy(mechanism, row.version).urgent_themes
    return frozenset(themes)


def urgent_clause(themes: frozenset[str] = frozenset()) -> ColumnElement[bool]:
    """Urgent in the queue: the first band (`services.queue`: irremediable if delayed, a
    high reprisal risk, or danger or an urgent theme not assessed yet). `themes` is no
    longer needed (kept for callers): once assessed, the assessment decides."""
    return Case.queue_rank < queue.BAND


def _urgent_theme(themes: frozenset[str]) -> ColumnElement[str | None]:
    """One urgent theme of the case (the first by code), or NULL."""
    return (
        select(func.min(CaseTheme.theme))
        .where(CaseTheme.case_id == Case.id, CaseTheme.theme.in_(sorted(themes)))
        .correlate(Case)
        .scalar_subquery()
    )


def after_clause(key: QueueKey) -> ColumnElement[bool]:
    """The rows strictly after `key` in the order (rank, due time with none last, id), on
    the assignment's copy of the case's queue keys (`ix_assignment_queue`). The first
    condition repeats what the rest implies: the index range starts at the key's rank."""
    rank, due, case_id = Assignment.queue_rank, Assignment.next_due_at, Assignment.case_id
    if key.due_at is None:
        same_due = and_(due.is_(None), case_id > key.case_id)
    else:
        same_due = or_(
            due > key.due_at,
            due.is_(None),
            and_(due == key.due_at, case_id > key.case_id),
        )
    return and_(rank >= key.rank, or_(rank > key.rank, and_(rank == key.rank, same_due)))


def reviewer_queue(
    ctx: Context,
    reviewer_id: int,
    filters: QueueFilters | None = None,
    after: QueueKey | None = None,
    limit: int = PAGE_SIZE,
) -> QueuePage:
    """One page of the cases `reviewer_id` is assigned to now (active assignments), in the
    queue's order, narrowed by `filters`, starting after the key `after`."""
    filters = filters or QueueFilters()
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    now = ctx.now()
    overdue = and_(Case.next_due_at.is_not(None), Case.next_due_at < now)
    urgent = urgent_clause()
    statement = (
        select(
            Case.id,
            Case.reference,
            Mechanism.code,
            Case.stage,
            Case.language,
            Case.queue_rank,
            Case.next_due_at,
            urgent.label("urgent"),
            Case.needs_interpreter,
            Case.clock_paused_at,
            Assignment.role,
            Case.urgent.label("danger"),
            Case.reprisal_risk,
            Case.severity_irremediability,
            _urgent_theme(urgent_themes(ctx)).label("urgent_theme"),
            _waiting_proposer().label("proposed_by"),
        )
        .select_from(Assignment)
        .join(Case, Case.id == Assignment.case_id)
        .join(Mechanism, Mechanism.id == Case.mechanism_id)
        .where(Assignment.reviewer_id == reviewer_id, Assignment.ended_at.is_(None))
    )
    if filters.stage is not None:
        statement = statement.where(Case.stage == filters.stage)
    elif not filters.include_ended:
        statement = statement.where(Assignment.case_open)
    if filters.mechanism:
        statement = statement.where(Mechanism.code == filters.mechanism)
    if filters.language:
        statement = statement.where(Case.language == filters.language)
    if filters.overdue:
        statement = statement.where(overdue)
    if filters.urgent:
        statement = statement.where(urgent)
    if after is not None:
        statement = statement.where(after_clause(after))
    # In the order of `ix_assignment_queue`: a page reads its own rows, at any depth.
    statement = statement.order_by(
        Assignment.queue_rank, Assignment.next_due_at.asc().nulls_last(), Assignment.case_id
    ).limit(limit + 1)
    rows = [
        QueueRow(
            case_id=row.id,
            reference=row.reference,
            mechanism=row.code,
            stage=row.stage,
            language=row.language,
            queue_rank=row.queue_rank,
            next_due_at=row.next_due_at,
            urgent=bool(row.urgent),
            needs_interpreter=row.needs_interpreter,
            clock_paused=row.clock_paused_at is not None,
            role=row.role,
            overdue=row.next_due_at is not None and row.next_due_at < now,
            proposed_by=row.proposed_by,
            **_why_urgent(row),
        )
        for row in ctx.session.execute(statement)
    ]
    more = len(rows) > limit
    rows = rows[:limit]
    return QueuePage(rows=rows, next_key=rows[-1].key if more and rows else None)


def _waiting_proposer() -> ColumnElement[int | None]:
    """Who proposed the case's decision waiting for a second reviewer, or NULL."""
    return (
        select(func.min(DecisionProposal.proposed_by_id))
        .where(
            DecisionProposal.case_id == Case.id,
            DecisionProposal.state == ProposalState.PENDING,
        )
        .correlate(Case)
        .scalar_subquery()
    )


def _why_urgent(row: Any) -> dict[str, Any]:
    if row.queue_rank >= queue.BAND:
        return {}
    reasons = queue.urgency_reasons(
        danger=row.danger,
        urgent_theme=row.urgent_theme is not None,
        reprisal_high=row.reprisal_risk is ReprisalRisk.HIGH,
        irremediability=row.severity_irremediability,
    )
    theme = row.urgent_theme if queue.UrgencyReason.URGENT_THEME in reasons else None
    return {"urgent_reasons": reasons, "urgent_theme": theme}


@dataclass(frozen=True)
class QueueChoices:
    """What the filters offer: the mechanisms and languages of the reviewer's cases."""

    mechanisms: list[tuple[str, str]]  # (code, name)
    languages: list[str]


def queue_choices(ctx: Context, reviewer_id: int) -> QueueChoices:
    active = select(Assignment.case_id).where(
        Assignment.reviewer_id == reviewer_id, Assignment.ended_at.is_(None)
    )
    mechanisms = ctx.session.execute(
        select(Mechanism.code, Mechanism.name)
        .where(Mechanism.id.in_(select(Case.mechanism_id).where(Case.id.in_(active))))
        .order_by(Mechanism.code)
    ).all()
    languages = ctx.session.scalars(
        select(Case.language).where(Case.id.in_(active)).distinct().order_by(Case.language)
    ).all()
    return QueueChoices(
        mechanisms=[(row.code, row.name) for row in mechanisms], languages=list(languages)
    )
