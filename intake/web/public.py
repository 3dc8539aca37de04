"""Public pages: the front page, and each mechanism's published procedure (R01)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from grievance.extensions import db
from grievance.http import mechanisms
from grievance.http.context import service_context
from grievance.http.forms import ANONYMITY_CHOICES
from grievance.http.labels import OUTCOMES, PROCEDURE, STAGE_NAMES, describe
from grievance.models import MECHANISM_CODE, Mechanism

blueprint = Blueprint("public", __name__)


@blueprint.get("/")
def index() -> str:
    """The way in: make a complaint, follow one with its receipt code, each mechanism's
    other ways in, what happens next and who will know what (issue #15, item 2)."""
    rows = db.session.scalars(
        select(Mechanism).options(selectinload(Mechanism.policies)).order_by(Mechanism.name)
    ).all()
    ctx = service_context()
    return render_template(
        "public/index.html",
        mechanisms=[mechanisms.shown(ctx, row) for row in rows],
        anonymity_choices=ANONYMITY_CHOICES,
    )


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
        mechanism_name=mechanisms.name_of(service_context(), mechanism),
        version=version,
        steps=[(stage, STAGE_NAMES[stage], text, limits[stage]) for stage, text in PROCEDURE],
        outcomes=[(STAGE_NAMES[stage], text, limits[stage]) for stage, text in OUTCOMES],
        business_days=policy.calendar.business_days,
    )
