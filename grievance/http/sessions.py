"""Each surface signs its own session cookie (DESIGN §2, after SecureDrop): a staff cookie
is no intake cookie even when copied under the other's name, since each is signed with
its own salt. The intake session has no persistent expiry: gone when the browser closes."""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface, SessionMixin


class SurfaceSessionInterface(SecureCookieSessionInterface):
    def __init__(self, surface: str, *, persistent: bool) -> None:
        self.salt = f"{surface}-session"
        self.persistent = persistent

    def get_expiration_time(self, app: Flask, session: SessionMixin):  # type: ignore[no-untyped-def]
        if not self.persistent:
            return None  # a browser-session cookie
        return super().get_expiration_time(app, session)
