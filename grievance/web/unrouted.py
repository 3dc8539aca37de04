"""The secretariat's page of cases no reviewer can take (#15, item 8): which open cases
of their mechanisms wait with a lead or second role empty, since when, and why (how many
reviewers are full, in conflict, unavailable or gone from the case). Read-only, scoped to
the signed-in user's mechanisms; the remedy is theirs: a reviewer's capacity or
availability, a new reviewer, or putting someone on the case."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import ngettext

from grievance.http.context import service_context
from grievance.http.labels import ASSIGNMENT_ROLE_NAMES, STAGE_NAMES
from grievance.models import Role
from grievance.services.routing_scores import Exclusion
from grievance.services.unrouted import UnroutedCase, unrouted_cases
from grievance.web.auth import current_staff, staff_required

blueprint = Blueprint("unrouted", __name__, url_prefix="/staff/secretariat")


def _why(row: UnroutedCase) -> list[str]:
    """Each reason in the reader's language, most reviewers first."""
    said = {
        Exclusion.AT_CAPACITY: lambda n: ngettext(
            "%(num)d reviewer is at their capacity", "%(num)d reviewers are at their capacity", n
        ),
        Exclusion.CONFLICT: lambda n: ngettext(
            "%(num)d reviewer has a conflict of interest with a company of the case",
            "%(num)d reviewers have a conflict of interest with a company of the case",
            n,
        ),
        Exclusion.UNAVAILABLE: lambda n: ngettext(
            "%(num)d reviewer is unavailable", "%(num)d reviewers are unavailable", n
        ),
        Exclusion.LEFT_CASE: lambda n: ngettext(
            "%(num)d reviewer left the case before", "%(num)d reviewers left the case before", n
        ),
    }
    counts = sorted(row.passed_over.items(), key=lambda item: (-item[1], item[0].value))
    return [said[why](count) for why, count in counts if why in said]


@blueprint.get("/unrouted")
@staff_required(Role.SECRETARIAT)
def cases() -> str:
    user = current_staff()
    assert user is not None
    rows = unrouted_cases(service_context(), [m.code for m in user.mechanisms])
    return render_template(
        "staff/unrouted.html",
        rows=rows,
        why={row.reference: _why(row) for row in rows},
        stage_names=STAGE_NAMES,
        role_names=ASSIGNMENT_ROLE_NAMES,
    )
