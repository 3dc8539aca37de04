"""Public pages: the front page, and each mechanism's published procedure (R01)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_babel import gettext, ngettext
from sqlalchemy import select

from grievance import service_context
from grievance.extensions import db
from grievance.models import Mechanism
from grievance.policies import Calendar, TimeLimit
from grievance.web.labels import OUTCOMES, PROCEDURE, STAGE_NAMES

blueprint = Blueprint("public", __name__)


@blueprint.get("/")
def index() -> str:
    mechanisms = db.session.scalars(select(Mechanism).order_by(Mechanism.name)).all()
    return render_template("public/index.html", mechanisms=mechanisms)


def duration(limit: TimeLimit, calendar: Calendar) -> str:
    if limit.months is not None:
        return str(ngettext("%(num)d month", "%(num)d months", limit.months))
    assert limit.days is not None
    if calendar.business_days:
        return str(ngettext("%(num)d working day", "%(num)d working days", limit.days))
    return str(ngettext("%(num)d day", "%(num)d days", limit.days))


def describe(limit: TimeLimit, calendar: Calendar) -> str:
    """'Acknowledge receipt: within 7 days', in the reader's language."""
    label = gettext(limit.label)  # policy labels are extracted by grievance.policies.extract
    if limit.recurring:
        return str(
            gettext(
                "%(label)s: at least every %(duration)s",
                label=label,
                duration=duration(limit, calendar),
            )
        )
    return str(
        gettext("%(label)s: within %(duration)s", label=label, duration=duration(limit, calendar))
    )


@blueprint.get("/procedure/<code>")
def procedure(code: str) -> str:
    mechanism = db.session.scalar(select(Mechanism).where(Mechanism.code == code.upper()))
    if mechanism is None:
        abort(404)
    version = max((row.version for row in mechanism.policies), default=0)
    policy = service_context().policy(mechanism)
    limits = {
        stage: [describe(limit, policy.calendar) for limit in policy.time_limits_starting_on(stage)]
        for stage in STAGE_NAMES
    }
    return render_template(
        "public/procedure.html",
        mechanism=mechanism,
        version=version,
        steps=[(stage, STAGE_NAMES[stage], text, limits[stage]) for stage, text in PROCEDURE],
        outcomes=[(STAGE_NAMES[stage], text, limits[stage]) for stage, text in OUTCOMES],
        business_days=policy.calendar.business_days,
    )
