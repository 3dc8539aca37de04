"""Public pages: the front page, and each mechanism's published procedure (R01)."""

from __future__ import annotations

import re

from flask import Blueprint, abort, render_template
from sqlalchemy import select

from grievance import service_context
from grievance.extensions import db
from grievance.models import Mechanism
from grievance.web.labels import OUTCOMES, PROCEDURE, STAGE_NAMES, describe

blueprint = Blueprint("public", __name__)

#: What a mechanism's code looks like (`Mechanism.code`, at most 8 characters: TEX, NST):
#: anything else is no mechanism, and never reaches a query (PostgreSQL refuses U+0000).
MECHANISM_CODE = re.compile(r"[A-Z0-9]{1,8}")


@blueprint.get("/")
def index() -> str:
    mechanisms = db.session.scalars(select(Mechanism).order_by(Mechanism.name)).all()
    return render_template("public/index.html", mechanisms=mechanisms)


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
