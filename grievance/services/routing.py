"""Conflict-free routing (R06): which independent reviewers take a case.

A case gets a lead and a second reviewer when it is filed, and again whenever one of
them leaves it (recusal, removal by the secretariat, a conflict that comes to light).

Who may be chosen (`exclusion`): an active reviewer who is not on the case already, has
no standing conflict with any company of the case or with its site (or the site's
company), never left this case before (recused, removed, replaced or conflicted off:
routing never puts them back), is available and below their capacity. If nobody is left
for a role, it stays empty and the mechanism's secretariat is told.

Who is preferred (`Score.key`), in this order:
1. reads the case's language (if neither reviewer does, the case needs an interpreter);
2. expertise: one point for each of the case's themes the reviewer covers, one for the
   case's country;
3. the lightest load: open assignments on cases that have not ended;
4. the lowest user id, so the same state always gives the same choice.

The lead is the best candidate, the second the next best. The choice is logged with each
`reviewer_assigned` event: the score and its reasons are `internal` (audit only).

The scoring is pure (plain data in, plain data out: `plan`) and lives in
`routing_scores`, whose names are imported here; the rest reads the database, locks the
case and writes through `assignments.place_reviewer` and `assignments.end_assignment`.
Capacity is checked without locking other cases: two cases routed at the same instant may
take a reviewer one past their capacity. The loads are kept as they change
(`services.loads`), never counted from the cases; a filing reads the candidates before
it takes its reference number (`pool`), so filings in one mechanism wait for each other
only while they write.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from grievance.models import (
    Assignment,
    AssignmentRole,
    Case,
    Company,
    Conflict,
    Involvement,
    ReviewerProfile,
    Role,
    Site,
    User,
)
from grievance.services import assignments, loads, notifications
from grievance.services.actors import SYSTEM, Actor, require_part
from grievance.services.context import Context, atomic
from grievance.services.errors import (
    Code,
    ConflictOfInterest,
    InvalidInput,
    NotAllowed,
    ReasonRequired,
)
from grievance.services.routing_scores import ROLES as ROLES
from grievance.services.routing_scores import Candidate as Candidate
from grievance.services.routing_scores import CaseFacts as CaseFacts
from grievance.services.routing_scores import Exclusion as Exclusion
from grievance.services.routing_scores import Pick as Pick
from grievance.services.routing_scores import Plan as Plan
from grievance.services.routing_scores import Score as Score
from grievance.services.routing_scores import exclusion as exclusion
from grievance.services.routing_scores import plan as plan
from grievance.services.routing_scores import score as score
from grievance.services.texts import clean_text

#: StaffNotification kinds (`services.notifications`).
CASE_ASSIGNED = notifications.CASE_ASSIGNED  # to each reviewer put on a case
URGENT_CASE = notifications.URGENT_CASE  # to each reviewer put on an urgent case
REVIEWER_NEEDED = notifications.REVIEWER_NEEDED  # to the secretariat: a role stays empty

# -- reading the database -----------------------------------------------------------------


def candidates(ctx: Context, reviewer_ids: Collection[int] | None = None) -> list[Candidate]:
    """Every active reviewer (or those of `reviewer_ids`) with their load and conflicts."""
    load = loads.summed().subquery()  # a few rows per reviewer (`services.loads`)
    query = (
        select(User.id, ReviewerProfile, func.coalesce(load.c.load, 0))
        .join(ReviewerProfile, ReviewerProfile.user_id == User.id)
        .outerjoin(load, load.c.reviewer_id == User.id)
        .where(User.role == Role.REVIEWER, User.active.is_(True))
        .order_by(User.id)
    )
    if reviewer_ids is not None:
        query = query.where(User.id.in_(reviewer_ids))
    rows = ctx.session.execute(query).tuples().all()
    ids = [user_id for user_id, _profile, _load in rows]
    found = {user_id: int(total) for user_id, _profile, total in rows}
    companies: dict[int, set[int]] = {}
    sites: dict[int, set[int]] = {}
    for reviewer_id, company_id, site_id in ctx.session.execute(
        select(Conflict.reviewer_id, Conflict.company_id, Conflict.site_id).where(
            Conflict.reviewer_id.in_(ids), Conflict.withdrawn_on.is_(None)
        )
    ).tuples():
        if company_id is not None:
            companies.setdefault(reviewer_id, set()).add(company_id)
        if site_id is not None:
            sites.setdefault(reviewer_id, set()).add(site_id)
    return [
        Candidate(
            reviewer_id=user_id,
            languages=frozenset(profile.languages or ()),
            themes=frozenset(profile.themes or ()),
            countries=frozenset(profile.countries or ()),
            load=found[user_id],
            capacity=profile.capacity,
            available=profile.available,
            conflict_companies=frozenset(companies.get(user_id, ())),
            conflict_sites=frozenset(sites.get(user_id, ())),
        )
        for user_id, profile, _load in rows
    ]


def case_facts(ctx: Context, case: Case) -> CaseFacts:
    companies = set(
        ctx.session.scalars(
            select(Involvement.company_id).where(
                Involvement.case_id == case.id, Involvement.superseded_at.is_(None)
            )
        )
    )
    site = ctx.session.get(Site, case.site_id) if case.site_id is not None else None
    if site is not None:
        companies.add(site.company_id)
    return CaseFacts(
        language=case.language,
        themes=frozenset(case.theme_codes),
        country=case.country or (site.country if site is not None else None),
        companies=frozenset(companies),
        sites=frozenset({site.id} if site is not None else ()),
        assigned=frozenset(
            row.reviewer_id for row in assignments.active_assignments(ctx, case).values()
        ),
        left=frozenset(assignments.left_case(ctx, case)),
    )


def secretariat_of(ctx: Context, case: Case) -> list[int]:
    """The active secretariat users of the case's mechanism."""
    return notifications.secretariat_of(ctx, case.mechanism_id)


# -- routing a case -----------------------------------------------------------------------


@dataclass(frozen=True)
class RoutingResult:
    assigned: list[Assignment]
    unfilled: list[AssignmentRole]
    needs_interpreter: bool


@atomic
def route_case(
    ctx: Context,
    case: Case,
    actor: Actor,
    *,
    reason: str,
    pool: Sequence[Candidate] | None = None,
) -> RoutingResult:
    """Fill the case's empty roles (lead, second) with the best eligible reviewers; leave a
    role empty and tell the secretariat when nobody is eligible. `reason` says why routing
    runs (logged, internal). Urgent cases' new reviewers are told at once. `pool`: the
    `candidates` read beforehand (filing reads them before it takes the mechanism's next
    reference number, which stays locked until the commit)."""
    case = ctx.lock_case(case)
    if actor.role not in (Role.SYSTEM, Role.SECRETARIAT):
        raise NotAllowed("cases are routed by the system or the secretariat")
    require_part(ctx, actor, case)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ReasonRequired("say why the case is routed")
    return fill_roles(ctx, case, actor, reason, pool)


def fill_roles(
    ctx: Context,
    case: Case,
    actor: Actor,
    trigger: str,
    pool: Sequence[Candidate] | None = None,
) -> RoutingResult:
    """`route_case` on a case its caller has locked."""
    current = assignments.active_assignments(ctx, case)
    missing = [role for role in ROLES if role not in current]
    if not missing:
        record_unrouted(ctx, case, None)
        return RoutingResult([], [], case.needs_interpreter)
    facts = case_facts(ctx, case)
    chosen = plan(facts, candidates(ctx) if pool is None else pool, missing)
    users = {
        user.id: user
        for user in ctx.session.scalars(
            select(User).where(User.id.in_([pick.reviewer_id for pick in chosen.picks]))
        )
    }
    placed = [
        assignments.place_reviewer(
            ctx,
            case,
            users[pick.reviewer_id],
            pick.role,
            actor,
            score=pick.score.points,
            reasons=chosen.reasons(pick, facts),
            trigger=trigger,
        )
        for pick in chosen.picks
    ]
    record_unrouted(ctx, case, unrouted_reason(chosen) if chosen.unfilled else None)
    if chosen.unfilled:
        notifications.notify(
            ctx, secretariat_of(ctx, case), REVIEWER_NEEDED, case=case, once_unread=True
        )
    return RoutingResult(placed, list(chosen.unfilled), case.needs_interpreter)


def unrouted_reason(chosen: Plan) -> str:
    """Why a role stays empty, as counts of the reviewers passed over by reason
    ("at_capacity:3 conflict:2"; "none" when there is no active reviewer at all)."""
    counts: dict[Exclusion, int] = {}
    for why in chosen.excluded.values():
        if why is not Exclusion.ASSIGNED:
            counts[why] = counts.get(why, 0) + 1
    parts = [f"{why.value}:{count}" for why, count in sorted(counts.items())]
    return " ".join(parts) or "none"


def record_unrouted(ctx: Context, case: Case, reason: str | None) -> None:
    """Keep on the (locked) case since when and why a role stays empty (None: both roles
    are filled); the time is kept from the first attempt that failed."""
    if reason is None:
        case.unrouted_since = case.unrouted_reason = None
        return
    if case.unrouted_since is None:
        case.unrouted_since = ctx.now()
    case.unrouted_reason = reason


def drop_conflicted(ctx: Context, case: Case, trigger: str) -> RoutingResult:
    """End the assignment of every reviewer of the (locked) case who now has a conflict
    with a company or site of it (a company added, a conflict declared), and route again."""
    dropped = False
    for assignment in assignments.active_assignments(ctx, case).values():
        found = assignments.conflicts_with_case(ctx, assignment.reviewer_id, case)
        if found:
            subjects = ", ".join(
                f"company {item.company_id}" if item.company_id else f"site {item.site_id}"
                for item in found
            )
            reason = f"{assignments.END_CONFLICT}: {trigger} (conflict with {subjects})"
            assignments.end_assignment(ctx, case, assignment, SYSTEM, reason, ctx.now())
            dropped = True
    if not dropped:
        return RoutingResult([], [], case.needs_interpreter)
    return fill_roles(ctx, case, SYSTEM, trigger)


# -- the secretariat's hand ---------------------------------------------------------------


def _require_secretariat(ctx: Context, actor: Actor, case: Case, reason: str) -> str:
    if actor.role is not Role.SECRETARIAT:
        raise NotAllowed("only the secretariat overrides routing")
    require_part(ctx, actor, case)
    reason = clean_text(reason, "reason")
    if not reason:
        raise ReasonRequired("say why routing's choice is overridden")
    return reason


@atomic
def override_assignment(
    ctx: Context,
    case: Case,
    actor: Actor,
    reviewer: User,
    role: AssignmentRole,
    reason: str,
) -> Assignment:
    """A secretariat user of the case's mechanism puts `reviewer` in `role` instead of
    routing's choice, with a reason (logged, internal). Never a reviewer with a conflict
    or one who recused from the case; an unavailable or full one is allowed, and said."""
    case = ctx.lock_case(case)
    why = _require_secretariat(ctx, actor, case, reason)
    facts = case_facts(ctx, case)
    found = candidates(ctx, [reviewer.id])
    if not found:
        raise InvalidInput({"reviewer": Code.NOT_A_REVIEWER})
    (candidate,) = found
    excluded = exclusion(candidate, facts)
    if excluded is Exclusion.CONFLICT:
        raise ConflictOfInterest(f"reviewer {reviewer.id} declared a conflict with this case")
    if excluded is Exclusion.ASSIGNED:
        raise InvalidInput({"reviewer": Code.ALREADY_ASSIGNED})
    if reviewer.id in assignments.recused_from(ctx, case):
        raise ConflictOfInterest(f"reviewer {reviewer.id} recused from this case")
    current = assignments.active_assignments(ctx, case)
    if role in current:
        assignments.end_assignment(
            ctx, case, current[role], actor, f"{assignments.END_REASSIGNED}: {why}", ctx.now()
        )
    fit = score(candidate, facts)
    reasons = [*fit.reasons(facts), "chosen by the secretariat"]
    if excluded is not None:  # LEFT_CASE, UNAVAILABLE, AT_CAPACITY: the secretariat may
        reasons.append(f"despite: {excluded.value}")
    assignment = assignments.place_reviewer(
        ctx,
        case,
        reviewer,
        role,
        actor,
        score=fit.points,
        reasons=reasons,
        trigger="override",
        override_reason=why,
    )
    if all(wanted in assignments.active_assignments(ctx, case) for wanted in ROLES):
        record_unrouted(ctx, case, None)  # the secretariat filled what routing could not
    return assignment


@atomic
def remove_reviewer(
    ctx: Context, case: Case, actor: Actor, reviewer: User, reason: str
) -> RoutingResult:
    """A secretariat user takes a reviewer off a case, with a reason; routing fills the
    role with someone else (never them again: the secretariat may put them back)."""
    case = ctx.lock_case(case)
    why = _require_secretariat(ctx, actor, case, reason)
    current = {row.reviewer_id: row for row in assignments.active_assignments(ctx, case).values()}
    if reviewer.id not in current:
        raise InvalidInput({"reviewer": Code.NOT_ASSIGNED})
    assignment = current[reviewer.id]
    assignments.end_assignment(
        ctx, case, assignment, actor, f"{assignments.END_REMOVED}: {why}", ctx.now()
    )
    return fill_roles(ctx, case, SYSTEM, f"the {assignment.role.value} was removed")


# -- conflicts of interest ----------------------------------------------------------------

#: An administrator may declare one for a reviewer (the profile pages); only the
#: reviewer withdraws one (`reviewers.withdraw_conflict`).
CONFLICT_DECLARERS = (Role.REVIEWER, Role.SECRETARIAT, Role.SYSTEM, Role.ADMIN)


@atomic
def declare_conflict(
    ctx: Context, reviewer: User, subject: Company | Site, reason: str, actor: Actor
) -> Conflict:
    """Record a reviewer's conflict of interest with a company or a site (R06): by the
    reviewer, the secretariat, an administrator or the system. The reviewer leaves every
    case it touches at once, and routing finds someone else."""
    if actor.role not in CONFLICT_DECLARERS:
        raise NotAllowed("conflicts are declared by the reviewer, the secretariat or an admin")
    if actor.role is Role.REVIEWER and actor.user_id != reviewer.id:
        raise NotAllowed("a reviewer declares their own conflicts")
    if ctx.session.get(ReviewerProfile, reviewer.id) is None:
        raise InvalidInput({"reviewer": Code.NOT_A_REVIEWER})
    reason = clean_text(reason, "reason")
    if not reason:
        raise ReasonRequired("say what the conflict is")
    is_company = isinstance(subject, Company)
    standing = ctx.session.scalar(
        select(Conflict.id).where(
            Conflict.reviewer_id == reviewer.id,
            Conflict.withdrawn_on.is_(None),
            (Conflict.company_id if is_company else Conflict.site_id) == subject.id,
        )
    )
    if standing is not None:
        raise InvalidInput({"conflict": Code.ALREADY_DECLARED})
    conflict = Conflict(
        reviewer_id=reviewer.id,
        company_id=subject.id if is_company else None,
        site_id=None if is_company else subject.id,
        reason=reason,
        declared_on=ctx.now().date(),
    )
    ctx.session.add(conflict)
    ctx.session.flush()
    case_ids: Sequence[int] = ctx.session.scalars(
        select(Assignment.case_id)
        .where(Assignment.reviewer_id == reviewer.id, Assignment.ended_at.is_(None))
        .order_by(Assignment.case_id)  # one order for every lock taken here
    ).all()
    for case_id in case_ids:
        case = ctx.lock_case(ctx.session.get_one(Case, case_id))
        drop_conflicted(ctx, case, "a conflict of interest was declared")
    return conflict
