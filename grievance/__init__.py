"""The grievance mechanism: domain, services and the staff-facing app.

The app factories live in `grievance.app` (`create_intake_app`, `create_staff_app`, and
`create_app` for both in one process); they are offered here too, imported on first use
so that importing a model or a service never builds a web app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grievance.config import LOCALES, MIGRATIONS, TEMPLATES

if TYPE_CHECKING:
    from grievance.app import create_app, create_intake_app, create_staff_app

__all__ = [
    "LOCALES",
    "MIGRATIONS",
    "TEMPLATES",
    "create_app",
    "create_intake_app",
    "create_staff_app",
]

_FACTORIES = frozenset({"create_app", "create_intake_app", "create_staff_app"})


def __getattr__(name: str) -> Any:
    if name in _FACTORIES:
        from grievance import app

        return getattr(app, name)
    raise AttributeError(f"module 'grievance' has no attribute {name!r}")
