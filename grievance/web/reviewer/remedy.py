"""The remedy plan of a case, for its reviewers (`/staff/reviewer/cases/<reference>/remedy`,
issue #13 item 5): the items (drafted, proposed by companies, set aside), the
complainant's answer, approval by two reviewers, the companies' reports and evidence,
verification, and closing with remedy outstanding by two reviewers with reasons.

One page and one POST route per action, each calling one service; a refusal comes back
on the page (422) with a translated message and what was typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from grievance.extensions import db
from grievance.http.context import service_context
from grievance.http.labels import STAGE_NAMES
from grievance.http.remedy_labels import ANSWER_NAMES, RESPONSE_NAMES, STATUS_NAMES, type_name
from grievance.models import Case, Company, Involvement, RemedyAction, Role, User
from grievance.services import remedy_closing, remedy_delivery, remedy_plan
from grievance.services.actors import Actor
from grievance.services.casereads.remedy import plan_view
from grievance.services.context import Context
from grievance.services.errors import ServiceError
from grievance.web.auth import staff_required
from grievance.web.remedy_forms import (
    ActionForm,
    ItemChoiceForm,
    ItemForm,
    ItemReasonForm,
    ReasonForm,
    VerifyForm,
    refusal,
)
from grievance.web.reviewer.common import case_or_404

Handler = Callable[[Context, Case, Actor, Any], object]


def _item(ctx: Context, case: Case, form: ItemChoiceForm) -> RemedyAction:
    item_id = form.item_id()
    item = ctx.session.get(RemedyAction, item_id) if item_id is not None else None
    if item is None or item.case_id != case.id:
        abort(404)
    return item


ACTIONS: dict[str, tuple[type[ActionForm], Handler]] = {
    "draft": (
        ItemForm,
        lambda ctx, case, actor, form: remedy_plan.draft_item(ctx, case, actor, form.item_input()),
    ),
    "take_in": (
        ItemChoiceForm,
        lambda ctx, case, actor, form: remedy_plan.take_in(ctx, _item(ctx, case, form), actor),
    ),
    "set_aside": (
        ItemReasonForm,
        lambda ctx, case, actor, form: remedy_plan.set_aside(
            ctx, _item(ctx, case, form), actor, form.reason.data
        ),
    ),
    "put": (
        ActionForm,
        lambda ctx, case, actor, form: remedy_plan.put_to_complainant(ctx, case, actor),
    ),
    "propose_approval": (
        ReasonForm,
        lambda ctx, case, actor, form: remedy_plan.propose_approval(
            ctx, case, actor, form.reason.data
        ),
    ),
    "confirm_approval": (
        ActionForm,
        lambda ctx, case, actor, form: remedy_plan.confirm_approval(ctx, case, actor),
    ),
    "withdraw_approval": (
        ReasonForm,
        lambda ctx, case, actor, form: remedy_plan.withdraw_approval(
            ctx, case, actor, form.reason.data
        ),
    ),
    "verify": (
        VerifyForm,
        lambda ctx, case, actor, form: remedy_delivery.verify(
            ctx, _item(ctx, case, form), actor, form.note.data or ""
        ),
    ),
    "send_back": (
        ItemReasonForm,
        lambda ctx, case, actor, form: remedy_delivery.send_back(
            ctx, _item(ctx, case, form), actor, form.reason.data
        ),
    ),
    "close": (
        ReasonForm,
        lambda ctx, case, actor, form: remedy_closing.propose_closing_override(
            ctx, case, actor, form.reason.data
        ),
    ),
    "close_confirm": (
        ReasonForm,
        lambda ctx, case, actor, form: remedy_closing.confirm_closing_override(
            ctx, case, actor, form.reason.data
        ),
    ),
}


def companies_in(ctx: Context, case: Case) -> list[tuple[int, str]]:
    """The companies in the case now (a current involvement), by name."""
    rows = ctx.session.execute(
        select(Company.id, Company.name)
        .join(Involvement, Involvement.company_id == Company.id)
        .where(Involvement.case_id == case.id, Involvement.superseded_at.is_(None))
        .order_by(Company.name)
    ).tuples()
    return list(rows)


def _forms(ctx: Context, case: Case) -> dict[str, ActionForm]:
    policy = ctx.case_policy(case)
    forms: dict[str, ActionForm] = {}
    for name, (form_class, _handler) in ACTIONS.items():
        form = form_class(formdata=None, prefix=name)
        if isinstance(form, ItemForm):
            form.offer(policy, companies_in(ctx, case))
        forms[name] = form
    return forms


def page(
    case: Case, user: User, *, bound: tuple[str, ActionForm] | None = None, error: str = ""
) -> str:
    ctx = service_context()
    forms = _forms(ctx, case)
    if bound is not None:
        forms[bound[0]] = bound[1]
    plan = plan_view(ctx, case, reviewer=True)
    return render_template(
        "remedy/reviewer.html",
        case=case,
        stage=STAGE_NAMES[case.stage],
        plan=plan,
        forms=forms,
        error=error,
        user=user,
        type_name=type_name,
        status_names=STATUS_NAMES,
        answer_names=ANSWER_NAMES,
        response_names=RESPONSE_NAMES,
    )


@staff_required(Role.REVIEWER)
def remedy(reference: str) -> str:
    user, case = case_or_404(reference)
    return page(case, user)


def _action(name: str) -> Callable[[str], str | Response | tuple[str, int]]:
    form_class, handler = ACTIONS[name]

    @staff_required(Role.REVIEWER)
    def run(reference: str) -> str | Response | tuple[str, int]:
        user, case = case_or_404(reference)
        ctx = service_context()
        form = form_class(prefix=name)
        if isinstance(form, ItemForm):
            form.offer(ctx.case_policy(case), companies_in(ctx, case))
        if not form.validate():
            return page(case, user, bound=(name, form)), 422
        try:
            handler(ctx, case, Actor.for_user(user), form)
        except ServiceError as error:
            db.session.rollback()
            return page(case, user, bound=(name, form), error=refusal(error, form)), 422
        db.session.commit()
        return redirect(url_for("reviewer.remedy", reference=case.reference), code=303)

    run.__name__ = f"remedy_{name}"
    return run


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/cases/<reference>/remedy", "remedy", remedy, methods=["GET"])
    for name in ACTIONS:
        blueprint.add_url_rule(
            f"/cases/<reference>/remedy/{name.replace('_', '-')}",
            f"remedy_{name}",
            _action(name),
            methods=["POST"],
        )
