"""Callables that make model rows and cases for tests (Indico style)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grievance.crypto.secrets import hash_password
from grievance.models import (
    Anonymity,
    AssignmentRole,
    Base,
    Case,
    CaseEvent,
    Channel,
    Company,
    CompanyKind,
    ComplainantKind,
    Conflict,
    ConsultationAnswer,
    Deadline,
    DeadlineState,
    DecisionProposal,
    Involvement,
    InvolvementKind,
    Leverage,
    Mechanism,
    MechanismPolicy,
    RemedyAction,
    RemedyStatus,
    ReviewerProfile,
    Role,
    Site,
    Stage,
    User,
)
from grievance.services import cases, hearing, lifecycle, messages, remedy_delivery, remedy_plan
from grievance.services.actors import SYSTEM, Actor
from grievance.services.context import Context
from grievance.services.filing import ComplainantDetails, FiledCase, Filing, file_case

_numbers = itertools.count(1)
PASSWORD = "correct horse battery staple"


def make_mechanism(
    ctx: Context, code: str = "TEX", overrides: dict[str, Any] | None = None
) -> Mechanism:
    mechanism = Mechanism(
        code=code,
        name=f"{code} covenant mechanism",
        sector="textile",
        created_at=ctx.now(),
    )
    ctx.session.add(mechanism)
    ctx.session.flush()
    if overrides:
        ctx.session.add(
            MechanismPolicy(
                mechanism_id=mechanism.id, version=1, overrides=overrides, created_at=ctx.now()
            )
        )
        ctx.session.flush()
        ctx.session.refresh(mechanism)
    return mechanism


def make_company(
    ctx: Context,
    mechanism: Mechanism | None = None,
    kind: CompanyKind = CompanyKind.BRAND,
    name: str | None = None,
) -> Company:
    company = Company(
        name=name or f"Company {next(_numbers)}",
        kind=kind,
        country="NL" if kind is CompanyKind.BRAND else "BD",
        created_at=ctx.now(),
        mechanisms=[mechanism] if mechanism else [],
    )
    ctx.session.add(company)
    ctx.session.flush()
    return company


def make_site(ctx: Context, company: Company, country: str = "BD") -> Site:
    site = Site(company=company, name=f"Site {next(_numbers)}", kind="factory", country=country)
    ctx.session.add(site)
    ctx.session.flush()
    return site


def make_user(
    ctx: Context,
    role: Role,
    *,
    company: Company | None = None,
    mechanisms: list[Mechanism] | None = None,
) -> User:
    number = next(_numbers)
    user = User(
        email=f"{role.value}{number}@example.org",
        display_name=f"{role.value.title()} {number}",
        role=role,
        password_hash=hash_password(PASSWORD, ctx.kdf),
        company=company,
        created_at=ctx.now(),
        mechanisms=mechanisms or [],
    )
    ctx.session.add(user)
    ctx.session.flush()
    return user


def make_reviewer(
    ctx: Context,
    *,
    languages: list[str] | None = None,
    conflicts: list[Company | Site] | None = None,
    themes: list[str] | None = None,
    countries: list[str] | None = None,
    capacity: int = 10,
    available: bool = True,
) -> User:
    user = make_user(ctx, Role.REVIEWER)
    ctx.session.add(
        ReviewerProfile(
            user_id=user.id,
            languages=languages or ["en"],
            themes=themes or [],
            countries=countries or [],
            capacity=capacity,
            available=available,
        )
    )
    ctx.session.flush()
    for item in conflicts or []:
        ctx.session.add(
            Conflict(
                reviewer_id=user.id,
                company_id=item.id if isinstance(item, Company) else None,
                site_id=item.id if isinstance(item, Site) else None,
                reason="Advised them",
                declared_on=ctx.now().date(),
            )
        )
    ctx.session.flush()
    return user


def filing(mechanism: Mechanism, **overrides: Any) -> Filing:
    person = overrides.pop("complainant", None) or ComplainantDetails(
        anonymity=Anonymity.ANONYMOUS, kind=ComplainantKind.AFFECTED
    )
    values: dict[str, Any] = {
        "mechanism": mechanism,
        "channel": Channel.WEB,
        "language": "bn",
        "statement": "আমাদের তিন মাসের ওভারটাইমের টাকা দেওয়া হয়নি।",
        "themes": ["living_wage"],
        "country": "BD",
        "complainant": person,
    }
    values.update(overrides)
    return Filing(**values)


def new_case(ctx: Context, mechanism: Mechanism | None = None, **overrides: Any) -> FiledCase:
    mechanism = mechanism or make_mechanism(ctx, code=f"T{next(_numbers) % 100:02d}")
    return file_case(ctx, filing(mechanism, **overrides), SYSTEM)


def staff_case(ctx: Context, **overrides: Any) -> tuple[FiledCase, User, User]:
    """A filed case with a lead and a second reviewer assigned: two new reviewers who read
    the case's language, made before the filing so that routing chooses them (if it
    chose others, reviewers of an earlier case of the test, they are put on by hand)."""
    language = overrides.get("language", "bn")
    lead = make_reviewer(ctx, languages=[language])
    second = make_reviewer(ctx, languages=[language])
    filed = new_case(ctx, **overrides)
    put_reviewers(ctx, filed.case, lead, second)
    return filed, lead, second


def assigned_ids(ctx: Context, case: Case) -> dict[AssignmentRole, int]:
    """The case's current reviewers by role."""
    return {role: row.reviewer_id for role, row in cases.active_assignments(ctx, case).items()}


def put_reviewers(ctx: Context, case: Case, lead: User, second: User) -> None:
    """Make `lead` and `second` the case's reviewers, whatever routing chose."""
    wanted = {AssignmentRole.LEAD: lead, AssignmentRole.SECOND: second}
    current = assigned_ids(ctx, case)
    # a wanted reviewer routed into the other role must leave it before taking theirs
    order = (
        [AssignmentRole.SECOND, AssignmentRole.LEAD]
        if current.get(AssignmentRole.SECOND) == lead.id
        else [AssignmentRole.LEAD, AssignmentRole.SECOND]
    )
    for role in order:
        if assigned_ids(ctx, case).get(role) != wanted[role].id:
            cases.assign_reviewer(ctx, case, wanted[role], role, SYSTEM)


def hear(ctx: Context, filed: FiledCase) -> None:
    """The complainant writes to the reviewers: heard in this stage (R08)."""
    complainant = Actor.for_complainant(filed.complainant)
    messages.add_message(ctx, filed.case, complainant, "What happened, again.", Channel.WEB)


def walk_to(ctx: Context, filed: FiledCase, target: Stage, lead: User, second: User) -> Case:
    """Walk a case along the shortest path to `target`, each step taken by a role the
    lifecycle allows for it: the lead reviewer where reviewers may act (with `second`
    confirming four-eyes decisions), the complainant otherwise (an appeal)."""
    case = filed.case
    path = lifecycle.path_to(target)
    assert path[0] == case.stage, f"case is in {case.stage}, paths start at received"
    for step in path[1:]:
        move = lifecycle.find(case.stage, step)
        assert move is not None
        if step is Stage.REMEDY_IMPLEMENTATION:
            # into implementation only with a plan the complainant agreed to, approved
            approve_plan(ctx, filed, lead, second)
            case = filed.case
            continue
        if step is Stage.REMEDY_VERIFICATION:
            # the plan's items (of no company) reported done by one reviewer, verified by
            # the other: nothing outstanding keeps the case from closing
            for item in remedy_plan.items_of(ctx, case):
                remedy_delivery.report_progress(
                    ctx, item, Actor.for_user(lead), "Done.", completed=True
                )
                remedy_delivery.verify(ctx, item, Actor.for_user(second))
        if move.hears_complainant and not hearing.heard(ctx, case):
            hear(ctx, filed)  # the investigation ends only once the complainant was heard
        if move.four_eyes:
            proposal = cases.propose_decision(ctx, case, step, Actor.for_user(lead), "Reasons.")
            case = cases.confirm_decision(ctx, proposal, Actor.for_user(second))
        elif Role.REVIEWER in move.roles:
            case = cases.transition(ctx, case, step, Actor.for_user(lead), "Reasons.")
        else:
            complainant = Actor.for_complainant(filed.complainant)
            case = cases.transition(ctx, case, step, complainant, "Reasons.")
    return case


def approve_plan(
    ctx: Context,
    filed: FiledCase,
    lead: User,
    second: User,
    items: list[remedy_plan.ItemInput] | None = None,
) -> list[RemedyAction]:
    """Draft a remedy plan (by default one apology), have the complainant agree on the web
    and the two reviewers approve it: the case moves into implementation."""
    case, reviewer = filed.case, Actor.for_user(lead)
    drafted = [
        remedy_plan.draft_item(ctx, case, reviewer, item)
        for item in items or [remedy_plan.ItemInput("apology", "A public apology.")]
    ]
    remedy_plan.put_to_complainant(ctx, case, reviewer)
    remedy_plan.answer(
        ctx,
        case,
        Actor.for_complainant(filed.complainant),
        ConsultationAnswer.AGREE,
        "web",
    )
    remedy_plan.propose_approval(ctx, case, reviewer, "The complainant agreed.")
    remedy_plan.confirm_approval(ctx, case, Actor.for_user(second))
    return drafted


@dataclass(frozen=True)
class CaseState:
    """What a change to a case can alter, read from the database (autoflushed first)."""

    stage: Stage
    stage_entered_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None
    event_count: int
    log_head: str
    events: int
    deadlines: tuple[tuple[str, str, datetime, datetime | None, str], ...]
    proposals: tuple[tuple[int, str], ...]


def case_state(session: Session, case_id: int) -> CaseState:
    row = session.execute(
        select(
            Case.stage,
            Case.stage_entered_at,
            Case.acknowledged_at,
            Case.closed_at,
            Case.event_count,
            Case.log_head,
        ).where(Case.id == case_id)
    ).one()
    events = session.scalar(
        select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id)
    )
    deadlines = session.execute(
        select(Deadline.code, Deadline.state, Deadline.due_at, Deadline.closed_at, Deadline.note)
        .where(Deadline.case_id == case_id)
        .order_by(Deadline.id)
    ).all()
    proposals = session.execute(
        select(DecisionProposal.id, DecisionProposal.state)
        .where(DecisionProposal.case_id == case_id)
        .order_by(DecisionProposal.id)
    ).all()
    return CaseState(
        stage=row.stage,
        stage_entered_at=row.stage_entered_at,
        acknowledged_at=row.acknowledged_at,
        closed_at=row.closed_at,
        event_count=row.event_count,
        log_head=row.log_head,
        events=events or 0,
        deadlines=tuple(
            (d.code, d.state.value, d.due_at, d.closed_at, d.note or "") for d in deadlines
        ),
        proposals=tuple((p.id, p.state.value) for p in proposals),
    )


def table_counts(session: Session) -> dict[str, int]:
    """The number of rows in every table: a change that "writes nothing" leaves it equal."""
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


# -- deadlines, notices and the case log (sweep, timekeeping, retention) --------------


def open_deadline(session: Session, case: Case, code: str) -> Deadline:
    """The case's open deadline of one time limit (there is at most one)."""
    return session.scalars(
        select(Deadline).where(
            Deadline.case_id == case.id,
            Deadline.code == code,
            Deadline.state == DeadlineState.OPEN,
        )
    ).one()


def events_of(session: Session, case: Case, kind: str | None = None) -> list[CaseEvent]:
    """The case's log events (of one kind), in order."""
    query = select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    if kind is not None:
        query = query.where(CaseEvent.kind == kind)
    return list(session.scalars(query))


def make_secretariat(ctx: Context, mechanism: Mechanism, count: int = 1) -> list[User]:
    """Secretariat users who run `mechanism`."""
    return [make_user(ctx, Role.SECRETARIAT, mechanisms=[mechanism]) for _ in range(count)]


def closed_case(ctx: Context, **overrides: Any) -> tuple[FiledCase, User, User]:
    """A case walked all the way to closed by its two reviewers."""
    filed, lead, second = staff_case(ctx, **overrides)
    walk_to(ctx, filed, Stage.CLOSED, lead, second)
    return filed, lead, second


# -- staff accounts (sign-in, second factor) --------------------------------------------


def make_staff(
    ctx: Context,
    role: Role,
    *,
    company: Company | None = None,
    mechanisms: list[Mechanism] | None = None,
    totp: bool = True,
) -> tuple[User, bytes | None]:
    """A staff user with the password `PASSWORD` and, if `totp`, an enrolled
    authenticator seed (returned, to compute codes with). Company users get a company."""
    import secrets as _secrets

    from grievance.services import accounts

    if role is Role.COMPANY and company is None:
        company = make_company(ctx)
    user = make_user(ctx, role, company=company, mechanisms=mechanisms)
    seed = None
    if totp:
        seed = _secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
        accounts.enrol_totp_secret(ctx, user, seed, last_step=None)
        ctx.session.flush()
    return user, seed


def classify(
    ctx: Context,
    case: Case,
    company: Company,
    kind: InvolvementKind,
    proposer: User,
    confirmer: User,
    rationale: str = "On the evidence.",
    *,
    leverage: Leverage = Leverage.UNKNOWN,
    trigger: str | None = None,
) -> Involvement:
    """Classify a company's involvement with four eyes: one reviewer proposes, the other
    confirms (services.involvement)."""
    from grievance.services import involvement

    proposal = involvement.propose_involvement(
        ctx, case, company, kind, leverage, Actor.for_user(proposer), rationale, trigger
    )
    return involvement.confirm_involvement(ctx, proposal, Actor.for_user(confirmer))


def make_remedy_item(
    ctx: Context,
    case: Case,
    company: Company | None,
    description: str,
    remedy_type: str = "apology",
) -> RemedyAction:
    """A planned remedy item written straight to the database (test data: the services
    draft items only in their stages; see `approve_plan` for the whole way)."""
    item = RemedyAction(
        case_id=case.id,
        company_id=company.id if company else None,
        remedy_type=remedy_type,
        description=description,
        status=RemedyStatus.PLANNED,
        created_at=ctx.now(),
    )
    ctx.session.add(item)
    ctx.session.flush()
    return item
