"""The action routes: one POST route per entry of `actions.ACTIONS`, each running its form
and its handler the same way. Done: commit, say so, back to the case (or the response the
handler made). Refused by the form, the view or a service: the case page again (422),
with what the refusal means and everything typed in its form. A form sent without a
valid CSRF token (an expired page): nothing done, the case page (400) with the form as
it was typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, flash, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response
from wtforms.validators import Length

from grievance.extensions import db
from grievance.http import refusals
from grievance.http.context import service_context
from grievance.http.csrf import typed_text_may_come_back
from grievance.http.errors import http_error
from grievance.models import Role
from grievance.services.actors import Actor
from grievance.services.errors import (
    Code,
    ConflictOfInterest,
    ForbiddenTransition,
    FourEyesRequired,
    FourEyesViolation,
    InvalidInput,
    NotAllowed,
    ProposalPending,
    ReasonRequired,
    ServiceError,
)
from grievance.services.hearing import ComplainantNotHeard
from grievance.web.auth import current_staff, setup_step, staff_required
from grievance.web.reviewer import actions
from grievance.web.reviewer.actions import Action, Refused, Submission
from grievance.web.reviewer.case import build_form, case_page
from grievance.web.reviewer.common import assigned_case, back, case_or_404
from grievance.web.reviewer.forms import GIVE_REASONS, WorkspaceForm

#: What a refusal means, said to the reviewer (the most specific class first).
REFUSALS: list[tuple[type[ServiceError], Any]] = [
    (
        ComplainantNotHeard,
        _l(
            "The investigation cannot end before the complainant is heard: wait for their "
            "message, or record how you heard them or why they could not be heard."
        ),
    ),
    (FourEyesViolation, _l("You proposed this decision: the other reviewer confirms it.")),
    (
        ProposalPending,
        _l("Another decision is waiting for confirmation: confirm or withdraw it first."),
    ),
    (FourEyesRequired, _l("This decision needs a second reviewer: propose it first.")),
    (ForbiddenTransition, _l("This step is not possible from the case's current stage.")),
    (ConflictOfInterest, _l("You declared a conflict of interest with this case.")),
    (NotAllowed, _l("You may not do this on this case.")),
    (ReasonRequired, GIVE_REASONS),
]
CHECK_FORM = _l("Please check what you wrote.")
EXPIRED = _l("The page had expired: nothing was done. Check what you wrote and send it again.")

ActionResponse = Response | str | tuple[str, int]


def _refusal(
    refused: ServiceError,
    form: WorkspaceForm,
    otherwise: Any,
    specific: Mapping[type[ServiceError], Any],
) -> str:
    if isinstance(refused, ReasonRequired) and hasattr(form, "reason"):
        form.reason.errors = [str(GIVE_REASONS)]
    for kind, message in [*specific.items(), *REFUSALS]:
        if isinstance(refused, kind):
            return str(message)
    return str(otherwise)


def _length_limit(field: Any) -> int:
    """The most characters the form's field accepts (its Length validator), else 0."""
    limits = [v.max for v in getattr(field, "validators", ()) if isinstance(v, Length)]
    return limits[0] if limits else 0


def perform(action: Action, reference: str, args: Mapping[str, Any]) -> ActionResponse:
    """Run one action on the case `reference`: its form, bound to what was sent, then its
    handler (one service call)."""
    user, the_case = case_or_404(reference)
    ctx = service_context()
    name = action.form_name(args)
    form = build_form(action, name, the_case, ctx.case_policy(the_case), bound=True)
    error = None
    if form.validate_on_submit():
        submission = Submission(ctx, the_case, Actor.for_user(user), form, args)
        try:
            result = action.handler(submission)
        except Refused as refused:
            error = str(refused.message)
        except InvalidInput as refused:
            # the service names the fields that are wrong (by code); the action says how
            for field_name, code in refused.errors.items():
                field = getattr(form, field_name, None)
                problem = action.field_problems.get(field_name)
                if field is not None and code is Code.INVALID_CHARACTER:
                    refusals.show_back(field, code)
                    field.errors = [refusals.message(refused, field_name)]
                elif field is not None and problem is not None:
                    field.errors = [str(problem) % {"max": _length_limit(field)}]
            error = str(CHECK_FORM)
        except ServiceError as refused:
            error = _refusal(refused, form, action.otherwise, action.refusals)
        else:
            db.session.commit()
            if result is not None:
                return result
            flash(str(action.done))
            return back(the_case, action.anchor)
    else:
        error = str(CHECK_FORM)
    db.session.rollback()
    return case_page(the_case, user, bound=name, bound_form=form, error=error), 422


def _view(action: Action) -> Callable[..., ActionResponse]:
    def view(reference: str, **args: Any) -> ActionResponse:
        return perform(action, reference, args)

    view.__name__ = view.__qualname__ = action.endpoint
    return staff_required(Role.REVIEWER)(view)


def expired(error: CSRFError) -> Response | tuple[str, int]:
    """An action's form came back without a valid CSRF token: nothing is done, and what
    was typed comes back in its form (for an assigned reviewer, still signed in). A
    missing or forged token shows nothing from the request (`grievance.http.csrf`)."""
    if not typed_text_may_come_back():
        return http_error(error)
    user = current_staff()
    values = request.view_args or {}
    reference = values.get("reference")
    action = actions.action_for(request.endpoint or "")
    if (
        user is None
        or user.role is not Role.REVIEWER
        or setup_step(user) is not None
        or not isinstance(reference, str)
        or action is None
    ):
        return http_error(error)
    the_case = assigned_case(reference, user)
    if the_case is None:
        return http_error(error)
    name = action.form_name(values)
    policy = service_context().case_policy(the_case)
    form = build_form(action, name, the_case, policy, bound=True)
    page = case_page(the_case, user, bound=name, bound_form=form, error=str(EXPIRED))
    return page, 400


def register(blueprint: Blueprint) -> None:
    """A POST route for each action of the table, and the expired-form page."""
    for action in actions.ACTIONS:
        blueprint.add_url_rule(action.rule, action.endpoint, _view(action), methods=["POST"])
    blueprint.register_error_handler(CSRFError, expired)
