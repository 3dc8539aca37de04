"""The public case registry as JSON (issue 16, item 1): `GET /api/v1/registry/<MECHANISM>`
gives exactly the rows of the page `/registry/<MECHANISM>` with the same filters and
`after` (`services.registry`), with the `after` of the next page. Read-only, no cookies;
withheld cases are in no answer."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue

from grievance.extensions import csrf
from grievance.extensions import intake_limiter as limiter
from grievance.http.context import service_context
from grievance.services import registry as service

blueprint = Blueprint("registry_api", __name__, url_prefix="/api/v1/registry")
csrf.exempt(blueprint)  # GET only, no cookies

READS = "120 per minute; 3000 per hour"


@blueprint.get("/<code>")
@limiter.limit(READS)
def registry(code: str) -> ResponseReturnValue:
    ctx = service_context()
    mechanism = service.mechanism_named(ctx, code)
    if mechanism is None:
        abort(404)
    filters = service.filters_from(ctx, mechanism, request.args)
    page = service.page(ctx, mechanism, filters, service.after_from(request.args))
    return jsonify(
        {
            "mechanism": mechanism.code,
            "filters": filters.query(),
            "cases": [entry.as_json() for entry in page.entries],
            "next_after": page.next_after,
        }
    )
