"""Changing what the factory gave the apps, for one test: both surfaces of the combined
app share one `AppServices`, so both are changed together."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask import Flask

from grievance.app import staff_app_of
from grievance.http.context import EXTENSION_KEY, AppServices, app_services


def surfaces(app: Flask) -> tuple[Flask, ...]:
    staff = app.extensions.get("grievance.staff_app")
    return (app, staff) if staff is not None else (app,)


def set_services(app: Flask, **changes: Any) -> AppServices:
    """Replace settings, clock or key ring on `app` and its staff app; the former value
    is returned, to put back with `restore_services`."""
    before = app_services(app)
    restore_services(app, replace(before, **changes))
    return before


def restore_services(app: Flask, services: AppServices) -> None:
    for surface in surfaces(app):
        surface.extensions[EXTENSION_KEY] = services


def patch_services(monkeypatch: pytest.MonkeyPatch, app: Flask, **changes: Any) -> AppServices:
    """`set_services` undone at the end of the test."""
    changed = replace(app_services(app), **changes)
    for surface in surfaces(app):
        monkeypatch.setitem(surface.extensions, EXTENSION_KEY, changed)
    return changed


__all__ = ["patch_services", "restore_services", "set_services", "staff_app_of", "surfaces"]
