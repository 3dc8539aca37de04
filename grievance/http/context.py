"""What the factory gives every blueprint: the settings, the clock and the key ring, as
one typed value (`AppServices`), and the services' `Context` for the current request or
command. Blueprints and commands ask here; nothing reads them back by a string key.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g

from grievance.clock import Clock
from grievance.config import Settings
from grievance.crypto.keyring import Keyring
from grievance.extensions import db
from grievance.services.context import Context

EXTENSION_KEY = "grievance"


@dataclass(frozen=True)
class AppServices:
    """Built once by the app factory, shared by both surfaces of one process."""

    settings: Settings
    clock: Clock
    keyring: Keyring


def install(app: Flask, services: AppServices) -> None:
    app.extensions[EXTENSION_KEY] = services


def app_services(app: Flask | None = None) -> AppServices:
    found = (app or current_app).extensions[EXTENSION_KEY]
    assert isinstance(found, AppServices)
    return found


def replace_keyring(keyring: Keyring) -> None:
    """After `rotate-keys`: the rest of the command sees the new key ring."""
    current = app_services()
    current_app.extensions[EXTENSION_KEY] = AppServices(current.settings, current.clock, keyring)


def current_settings() -> Settings:
    return app_services().settings


def service_context() -> Context:
    """The services' context for the current request or command (one per app context)."""
    if "service_context" not in g:
        services = app_services()
        g.service_context = Context(
            session=db.session(),
            clock=services.clock,
            keyring=services.keyring,
            kdf=services.settings.kdf,
        )
    context: Context = g.service_context
    return context
