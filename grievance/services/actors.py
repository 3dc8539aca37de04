"""Who acts on a case, and whether they may: role, scope and assignment."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from grievance.models import (
    Assignment,
    Case,
    Complainant,
    Involvement,
    Role,
    User,
)
from grievance.models.mechanism import secretariat_membership
from grievance.services.context import Context
from grievance.services.errors import NotAllowed


@dataclass(frozen=True)
class Actor:
    role: Role
    user_id: int | None = None
    company_id: int | None = None
    complainant_id: int | None = None

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(role=user.role, user_id=user.id, company_id=user.company_id)

    @classmethod
    def for_complainant(cls, complainant: Complainant) -> Actor:
        return cls(role=Role.COMPLAINANT, complainant_id=complainant.id)


SYSTEM = Actor(role=Role.SYSTEM)


def acts_on_case(session: Session, actor: Actor, case: Case) -> bool:
    """Whether the actor has a part in this case: the check behind every case access.

    Reviewers must be assigned, secretariat users must run the case's mechanism,
    company users must belong to a company in the case, complainants must be its own.
    Administrators run the system, not cases (segregation of duties, ASVS 4.3.3).
    """
    if actor.role is Role.SYSTEM:
        return True
    if actor.role is Role.REVIEWER and actor.user_id is not None:
        return (
            session.scalar(
                select(
                    exists().where(
                        Assignment.case_id == case.id,
                        Assignment.reviewer_id == actor.user_id,
                        Assignment.ended_at.is_(None),
                    )
                )
            )
            is True
        )
    if actor.role is Role.SECRETARIAT and actor.user_id is not None:
        return (
            session.scalar(
                select(
                    exists().where(
                        secretariat_membership.c.user_id == actor.user_id,
                        secretariat_membership.c.mechanism_id == case.mechanism_id,
                    )
                )
            )
            is True
        )
    if actor.role is Role.COMPANY and actor.company_id is not None:
        return (
            session.scalar(
                select(
                    exists().where(
                        Involvement.case_id == case.id,
                        Involvement.company_id == actor.company_id,
                        Involvement.superseded_at.is_(None),
                    )
                )
            )
            is True
        )
    if actor.role is Role.COMPLAINANT and actor.complainant_id is not None:
        return (
            session.scalar(
                select(
                    exists().where(
                        Complainant.id == actor.complainant_id, Complainant.case_id == case.id
                    )
                )
            )
            is True
        )
    return False


def require_part(ctx: Context, actor: Actor, case: Case) -> None:
    """Refuse (`NotAllowed`) an actor who has no part in the case (`acts_on_case`)."""
    if not acts_on_case(ctx.session, actor, case):
        raise NotAllowed(f"{actor.role} has no part in case {case.id}")
