"""Health endpoints for load balancers and orchestrators, on each surface (the staff
app's under `/staff/`):

- `/livez`: liveness, 200 while the process answers at all (it touches nothing else:
  a database outage must not get healthy workers restarted);
- `/readyz` (and `/healthz`, its older name): readiness, 200 when the database answers,
  503 otherwise, so that a load balancer stops sending requests to a server that cannot
  serve them.
"""

from __future__ import annotations

import logging

from flask import Blueprint
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from grievance.extensions import db

log = logging.getLogger(__name__)
blueprint = Blueprint("health", __name__)


@blueprint.get("/livez")
def livez() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200


@blueprint.get("/readyz")
@blueprint.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.error("health check: database unavailable (%s)", type(error).__name__)
        db.session.rollback()
        return {"status": "unavailable", "database": "down"}, 503
    return {"status": "ok", "database": "up"}, 200
