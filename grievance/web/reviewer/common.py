"""What every page of the workspace needs: the signed-in reviewer, their case (or a 404
whether it exists or not), the way back to it, the case's pending proposal and the
lifecycle's moves open to a reviewer, a language's name."""

from __future__ import annotations

from flask import abort, redirect, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from grievance.extensions import db
from grievance.http.context import service_context
from grievance.models import Case, DecisionProposal, ProposalState, Role, User
from grievance.policies import Policy
from grievance.services import lifecycle
from grievance.services.actors import Actor, acts_on_case
from grievance.web.auth import current_staff


def reviewer() -> User:
    user = current_staff()
    assert user is not None  # staff_required let it in
    assert user.role is Role.REVIEWER
    return user


def assigned_case(reference: str, user: User) -> Case | None:
    """The case, if `user` is one of its reviewers now; None whether or not it exists."""
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    if case is None or not acts_on_case(service_context().session, Actor.for_user(user), case):
        return None
    return case


def case_or_404(reference: str) -> tuple[User, Case]:
    user = reviewer()
    case = assigned_case(reference, user)
    if case is None:
        abort(404)  # never say whether it exists
    return user, case


def back(case: Case, anchor: str = "") -> Response:
    target = url_for("reviewer.case", reference=case.reference)
    return redirect(target + (f"#{anchor}" if anchor else ""), code=303)


def pending(case: Case) -> DecisionProposal | None:
    return db.session.scalar(
        select(DecisionProposal).where(
            DecisionProposal.case_id == case.id, DecisionProposal.state == ProposalState.PENDING
        )
    )


def reviewer_moves(case: Case) -> list[lifecycle.Transition]:
    return [move for move in lifecycle.moves_from(case.stage) if Role.REVIEWER in move.roles]


def language_name(policy: Policy, code: str) -> str:
    language = policy.language_named(code)
    return language.name if language is not None else code
