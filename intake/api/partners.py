"""Partner applications' keys on the JSON API (`grievance.services.api_clients`).

Each POST of the API reads the `Authorization` header once (`caller()`, kept for the
request):

- no header: anonymous, as before: complaints count against the per-address limits
  (`ANONYMOUS_COMPLAINTS`, by the HMAC of the client's address);
- `Bearer <key>` with a client's valid key: the client's own limits (its complaints an
  hour and a day, counted by its id) instead of the per-address ones; the case it files
  names the client in its log; each request is a line of the client's audit trail;
- anything else (a wrong, unknown, revoked or malformed key): 401 in the API's error
  shape, with `WWW-Authenticate`, and nothing done. The limits the request would have as
  anonymous count it first (the key is refused by the view, after them), so that trying
  keys costs an address its budget; a refused key whose id names a client is a line of
  that client's audit trail too.

The receipt-code limits of the follow-up endpoints stay per address, key or not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import Response, g, request

from grievance.extensions import db
from grievance.extensions import intake_limiter as limiter
from grievance.http.context import service_context
from grievance.models import ApiClient, Case
from grievance.services import api_clients
from grievance.services.api_clients import KeyRefusal, KeyRefused

#: Complaints without a key, per client address (an IPv6 /64).
ANONYMOUS_COMPLAINTS = "20 per hour; 200 per day"
#: The API's paths start with this; the audit trail names an endpoint by the rest.
PREFIX = "/api/v1/"
#: What a refused key is told (one message: which of wrong, unknown or revoked, it need
#: not learn here; the audit trail keeps it).
REFUSED_KEY = "The API key is wrong or revoked."
CHALLENGE = 'Bearer realm="grievance-api", error="invalid_token"'
#: The OpenAPI security scheme's name.
SCHEME = "partnerKey"
SECURITY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "A partner application's key (`gmk_…`), made by an administrator. "
    "Optional: without it, complaints count against the limits of the client's address; "
    "with it, against the partner's own limits. A wrong or revoked key is refused (401).",
}


@dataclass(frozen=True)
class Caller:
    """Who the request says it is: anonymous, a client (by id, with its limits), or a
    refused key (and the client its id names, if any)."""

    client_id: int | None = None
    #: The client's limits in Flask-Limiter's notation; empty for anyone else.
    limits: str = ""
    refusal: KeyRefusal | None = None
    named_client_id: int | None = None

    @property
    def audited_client_id(self) -> int | None:
        return self.client_id if self.client_id is not None else self.named_client_id


ANONYMOUS = Caller()


def caller() -> Caller:
    if "api_caller" not in g:
        g.api_caller = _authenticate(request.headers.get("Authorization"))
    found: Caller = g.api_caller
    return found


def _authenticate(authorization: str | None) -> Caller:
    try:
        key = api_clients.bearer_key(authorization)
        if key is None:
            return ANONYMOUS
        client = api_clients.authenticate(service_context(), key)
    except KeyRefused as refused:
        named = refused.client.id if refused.client is not None else None
        return Caller(refusal=refused.refusal, named_client_id=named)
    per_hour, per_day = client.complaints_per_hour, client.complaints_per_day
    return Caller(client_id=client.id, limits=f"{per_hour} per hour; {per_day} per day")


def current_client() -> ApiClient | None:
    """The client the request's key authenticated, or None."""
    client_id = caller().client_id
    return db.session.get(ApiClient, client_id) if client_id is not None else None


def _is_client() -> bool:
    return caller().client_id is not None


def _client_limits() -> str:
    return caller().limits


def _client_key() -> str:
    return f"api-client-{caller().client_id}"


#: Complaints without a valid key: today's limits, per address.
complaints_per_address = limiter.limit(ANONYMOUS_COMPLAINTS, exempt_when=_is_client)
#: Complaints with a valid key: the client's own limits, per client.
complaints_per_client = limiter.limit(_client_limits, key_func=_client_key)


class WrongKey(Exception):
    """The request's key opens nothing (the API answers 401)."""


P = ParamSpec("P")
R = TypeVar("R")


def refuse_wrong_keys(view: Callable[P, R]) -> Callable[P, R]:
    """Refuse a request whose key opens nothing; innermost, under the limits, so that
    those count it first."""

    @wraps(view)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        if caller().refusal is not None:
            raise WrongKey()
        return view(*args, **kwargs)

    return checked


def _endpoint() -> str:
    return request.path.removeprefix(PREFIX)


def record_filing(case: Case, status: int) -> None:
    """The audit line of a complaint a client filed, in the filing's own transaction."""
    client_id = caller().client_id
    if client_id is None:
        return
    api_clients.record_use(service_context(), client_id, _endpoint(), status, case=case)
    g.api_use_recorded = True


def record_use(response: Response) -> Response:
    """After each request of the API that named a client: its line of the audit trail,
    unless the view wrote it already (`record_filing`). A request that failed (5xx)
    committed nothing: its work is rolled back, and its line written alone."""
    found: Caller | None = g.get("api_caller")
    if found is None or found.audited_client_id is None:
        return response
    if response.status_code >= 500:
        db.session.rollback()
    elif g.get("api_use_recorded"):
        return response
    api_clients.record_use(
        service_context(),
        found.audited_client_id,
        _endpoint(),
        response.status_code,
        refusal=found.refusal,
    )
    db.session.commit()
    return response
