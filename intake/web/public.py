"""Public pages: the front page, and each mechanism's published procedure (R01)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select
from werkzeug.wrappers import Response

from grievance.extensions import db
from grievance.http.context import service_context
from grievance.http.labels import OUTCOMES, PROCEDURE, STAGE_NAMES, describe
from grievance.models import MECHANISM_CODE, Mechanism

blueprint = Blueprint("public", __name__)


@blueprint.get("/")
def index() -> str:
    mechanisms = db.session.scalars(select(Mechanism).order_by(Mechanism.name)).all()
    return render_template("public/index.html", mechanisms=mechanisms)


@blueprint.get("/favicon.ico")
def favicon() -> Response:
    """What browsers and tools ask for at the root, whatever the page says."""
    return current_app.send_static_file("favicon.ico")


@blueprint.get("/procedure/<code>")
def procedure(code: str) -> str:
    code = code.upper()
    if MECHANISM_CODE.fullmatch(code) is None:
        abort(404)
    mechanism = db.session.scalar(select(Mechanism).where(Mechanism.code == code))
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
