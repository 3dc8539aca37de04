"""Our own error pages, app-wide, for every HTTP error the framework or a view raises (a
stale form, an unknown address, a wrong method, files too large, a rate limit, a crash).

People get a page in their own language and direction (`templates/errors/error.html`,
extending `base.html`, so the language links work), saying what to do next. Nothing of
the request is on it: no address, no value sent, no exception text, no description.

Programs get JSON instead: the partner API (`/api/…`) in its own error shape, the health
check in its own. The API's own handlers (its refusals, its rate limit) come first; this
one answers what never reached them (an unknown operation, a wrong method, a crash).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

blueprint = Blueprint("errors", __name__)

#: Paths for programs, not people.
API_PREFIX = "/api/"
HEALTH_PATHS = frozenset(
    prefix + name for prefix in ("", "/staff") for name in ("/healthz", "/livez", "/readyz")
)


def error_response(code: int) -> Response:
    """The answer for an HTTP error `code` on the current path, without its headers."""
    if request.path.startswith(API_PREFIX):
        # The shape of intake.api's refusals; English, as its other messages.
        message = f"{HTTP_STATUS_CODES.get(code, 'Error')}."
        response = jsonify(errors=[{"path": "", "message": message}])
    elif request.path in HEALTH_PATHS:
        response = jsonify(status="error")
    else:
        response = make_response(render_template("errors/error.html", code=code))
    response.status_code = code
    response.headers["Cache-Control"] = "no-store"  # also on a static path: never kept
    return response


@blueprint.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    """Every HTTP error, also a crash (Flask hands it over as a 500). Handlers of a
    blueprint for a status of its own (the API's 429, a form's CSRF error) come first."""
    if error.response is not None:  # a response made on purpose, e.g. by an extension
        return error.response  # type: ignore[return-value]
    code = error.code or 500
    response = error_response(code)
    for name, value in error.get_headers():  # Allow (405), Retry-After (429) …
        if name.lower() != "content-type":
            response.headers[name] = value
    return response
