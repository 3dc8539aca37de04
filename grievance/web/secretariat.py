"""The secretariat's pages: the deadlines of the mechanisms they run (issue #6, R04), a
case of theirs read-only (#13), and each company's record of missed deadlines (#13).

Read-only; scoped to the signed-in user's mechanisms, never another's."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext
from sqlalchemy import select

from grievance.extensions import db
from grievance.http.company_events import obligation_label
from grievance.http.context import service_context
from grievance.http.events import describe
from grievance.http.labels import (
    ASSIGNMENT_ROLE_NAMES,
    INVOLVEMENT_NAMES,
    STAGE_NAMES,
    company_limit_label,
    limit_label,
)
from grievance.models import Case, Mechanism, Role, User
from grievance.services import casereads, company_cases
from grievance.services.actors import Actor, acts_on_case
from grievance.services.casereads import SECRETARIAT
from grievance.services.overview import DeadlineRow, deadline_overview
from grievance.web.auth import current_staff, staff_required
from grievance.web.company.labels import (
    LEVERAGE_NAMES,
    OBLIGATION_STATUS_NAMES,
    REMEDY_STATUS_NAMES,
)

blueprint = Blueprint("secretariat", __name__, url_prefix="/staff/secretariat")

#: The windows offered for "due soon", in days.
WINDOWS = (7, 14, 30)


def _label(mechanisms: dict[str, Mechanism], row: DeadlineRow) -> str:
    """The time limit's name in the reader's language, from the mechanism's policy."""
    limit = service_context().policy(mechanisms[row.mechanism]).time_limit_for(row.code)
    if limit:
        return str(gettext(limit.label))
    own = company_limit_label(row.code)
    if own is not None:
        return f"{own} ({row.owner})" if row.owner else own
    if row.detail:  # a remedy action: which one, so that two are never alike
        return str(gettext("Remedy action: %(description)s", description=row.detail))
    return str(gettext("Remedy action"))


@blueprint.get("/deadlines")
@staff_required(Role.SECRETARIAT)
def deadlines() -> str:
    user = current_staff()
    assert user is not None
    mine = {mechanism.code: mechanism for mechanism in user.mechanisms}
    chosen = request.args.get("mechanism", "")
    if chosen and chosen not in mine:
        abort(404)  # not one of theirs: nothing to say about it
    days = request.args.get("days", WINDOWS[0], type=int)
    if days not in WINDOWS:
        days = WINDOWS[0]
    codes = [chosen] if chosen else sorted(mine)
    overview = deadline_overview(service_context(), codes, days) if codes else None
    labels = {}
    if overview is not None:
        for row in (*overview.overdue, *overview.due_soon):
            labels[(row.mechanism, row.code)] = _label(mine, row)
    return render_template(
        "staff/deadlines.html",
        overview=overview,
        labels=labels,
        mechanisms=sorted(mine.values(), key=lambda m: m.code),
        chosen=chosen,
        days=days,
        windows=WINDOWS,
    )


def _their_case(user: User, reference: str) -> Case:
    """A case of one of the user's mechanisms, or a 404 whether it exists or not."""
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    if case is None or not acts_on_case(service_context().session, Actor.for_user(user), case):
        abort(404)
    return case


@blueprint.get("/cases/<reference>")
@staff_required(Role.SECRETARIAT)
def case(reference: str) -> str:
    """A case of their mechanisms, read-only, from the secretariat's read model: the
    parties' level plus assignments and time limits; never an identity or the
    complainant's words (#13, item 7)."""
    user = current_staff()
    assert user is not None
    the_case = _their_case(user, reference)
    view = casereads.secretariat_view(service_context(), the_case, user)
    return render_template(
        "staff/secretariat_case.html",
        case=the_case,
        view=view,
        stage=STAGE_NAMES[view.facts.stage],
        involvement_names=INVOLVEMENT_NAMES,
        leverage_names=LEVERAGE_NAMES,
        status_names=OBLIGATION_STATUS_NAMES,
        remedy_status_names=REMEDY_STATUS_NAMES,
        role_names=ASSIGNMENT_ROLE_NAMES,
        obligation_label=obligation_label,
        limits=[
            (limit_label(limit), limit.due_at, limit.paused, limit.overdue)
            for limit in view.time_limits
        ],
        timeline=[(e.at, describe(e, SECRETARIAT, view.staff_names)) for e in view.events],
    )


@blueprint.get("/companies")
@staff_required(Role.SECRETARIAT)
def companies() -> str:
    """Each company's record of missed deadlines in the user's mechanisms: its own time
    limits (to respond, its obligations) missed or overdue, and whether escalated."""
    user = current_staff()
    assert user is not None
    ctx = service_context()
    records = company_cases.missed_deadlines(
        ctx, [mechanism.id for mechanism in user.mechanisms], ctx.now()
    )
    return render_template("staff/secretariat_companies.html", records=records)
