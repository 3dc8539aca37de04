"""What each surface sets on every response and how it keeps its session: one
`Surface` value per app, so that the intake and the staff app can differ (cookie names,
content security policy, session lifetime) and each can run on its own host."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, request

from grievance.http.requests import InMemoryRequest
from grievance.http.sessions import SurfaceSessionInterface

STRICT_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass(frozen=True)
class Surface:
    """One of the two faces of the mechanism (`intake` or `staff`)."""

    name: str
    #: The endpoint of the surface's front page (the brand link, the error pages).
    home_endpoint: str
    content_security_policy: str = STRICT_CSP
    #: A persistent session (staff: bounded by PERMANENT_SESSION_LIFETIME) or one that
    #: ends when the browser closes (the anonymous surface).
    persistent_session: bool = False


INTAKE = Surface("intake", home_endpoint="public.index")
STAFF = Surface("staff", home_endpoint="staff.home", persistent_session=True)


def configure_surface(app: Flask, surface: Surface, *, https: bool) -> None:
    app.extensions["grievance.surface"] = surface
    app.request_class = InMemoryRequest
    app.session_interface = SurfaceSessionInterface(
        surface.name, persistent=surface.persistent_session
    )
    app.config.update(
        SESSION_COOKIE_NAME=f"__Host-{surface.name}" if https else surface.name,
        SESSION_COOKIE_SECURE=https,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PREFERRED_URL_SCHEME="https" if https else "http",
    )

    @app.context_processor
    def _surface_globals() -> dict[str, Any]:
        return {"surface": surface.name, "home_endpoint": surface.home_endpoint}

    @app.after_request
    def _security_headers(response: Any) -> Any:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", surface.content_security_policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        # The full address stays on this site (Flask-WTF's https origin check needs a
        # same-origin Referer on every POST) and reaches no other site.
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        )
        if request.endpoint != "static":
            headers.setdefault("Cache-Control", "no-store")
        if https:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        return response
