"""The WSGI entry points (DESIGN §2).

- `wsgi:app`: both surfaces in one process, the staff pages under `/staff/` (what
  `make run` serves and what `flask --app wsgi …` commands use);
- `wsgi:intake_app`: the complainants' and the public's surface alone;
- `wsgi:staff_app`: the staff surface alone, to keep it off the public internet.

`gunicorn wsgi:intake_app` on the public host and `gunicorn wsgi:staff_app` on an
internal one; each app is built only when its name is asked for.
"""

from __future__ import annotations

from typing import Any

from grievance.app import create_app, create_intake_app, create_staff_app

_FACTORIES = {"app": create_app, "intake_app": create_intake_app, "staff_app": create_staff_app}
_built: dict[str, Any] = {}


def __getattr__(name: str) -> Any:
    if name not in _FACTORIES:
        raise AttributeError(f"module 'wsgi' has no attribute {name!r}")
    if name not in _built:
        _built[name] = _FACTORIES[name]()
    return _built[name]
