"""Two surfaces, two cookies (DESIGN §8, after SecureDrop): the anonymous intake and
follow-up pages never share a session with the staff app, and their session is short."""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

#: Paths of the anonymous surface. By path, not blueprint: the session is opened before
#: the URL is matched.
INTAKE_PATHS = ("/complaint", "/follow-up")


class SurfaceSessionInterface(SecureCookieSessionInterface):
    """The staff cookie for staff pages; a separately signed, short-lived one (no
    persistent expiry: gone when the browser closes) for the anonymous surface."""

    def _intake(self) -> bool:
        return request.path.startswith(INTAKE_PATHS)

    def get_cookie_name(self, app: Flask) -> str:
        name = super().get_cookie_name(app)
        if self._intake():
            return name.replace("staff", "intake")
        return name

    def get_signing_serializer(self, app: Flask):  # type: ignore[no-untyped-def]
        serializer = super().get_signing_serializer(app)
        if serializer is not None and self._intake():
            serializer.salt = b"intake-session"  # a staff cookie is no intake cookie
        return serializer

    def get_expiration_time(self, app: Flask, session):  # type: ignore[no-untyped-def]
        if self._intake():
            return None  # a browser-session cookie
        return super().get_expiration_time(app, session)
