"""The secretariat's pages: the deadlines of the mechanisms they run (issue #6, R04).

Read-only; scoped to the signed-in user's mechanisms, never another's."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext

from grievance.http.context import service_context
from grievance.models import Mechanism, Role
from grievance.services.overview import DeadlineRow, deadline_overview
from grievance.web.auth import current_staff, staff_required

blueprint = Blueprint("secretariat", __name__, url_prefix="/staff/secretariat")

#: The windows offered for "due soon", in days.
WINDOWS = (7, 14, 30)


def _label(mechanisms: dict[str, Mechanism], row: DeadlineRow) -> str:
    """The time limit's name in the reader's language, from the mechanism's policy."""
    limit = service_context().policy(mechanisms[row.mechanism]).time_limit_for(row.code)
    return str(gettext(limit.label)) if limit else str(gettext("Remedy action"))


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
