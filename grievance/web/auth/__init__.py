"""Staff sign-in (Flask-Login): e-mail and password, then a TOTP code or a recovery code;
forced password change and second-factor enrolment; the account page; sign-out; and
`staff_required(*roles)` for every staff page.

- `session.py`: Flask-Login's glue and the session's checks at every request (idle and
  absolute limits, sessions ended by the account service), `current_staff`,
  `staff_required`, `setup_step`, `forbidden`;
- `devices.py`: the device cookie that keeps a browser's owner out of someone else's
  sign-in locks;
- `forms.py`: the forms, the names of the roles, what a refused password is told;
- `sign_in.py`: the `/staff` blueprint, signing in (password, then code) and out;
- `account.py`: the staff home and the user's own account (password, second factor,
  recovery codes).

The other staff pages import what they need from here.
"""

from grievance.web.auth import account as _account  # noqa: F401 - its pages join the blueprint
from grievance.web.auth.devices import client_key_for
from grievance.web.auth.forms import PASSWORD_PROBLEMS, ROLE_NAMES
from grievance.web.auth.session import (
    StaffIdentity,
    current_staff,
    forbidden,
    init_login,
    load_staff,
    setup_step,
    staff_required,
)
from grievance.web.auth.sign_in import blueprint, sign_in_limit

__all__ = [
    "PASSWORD_PROBLEMS",
    "ROLE_NAMES",
    "StaffIdentity",
    "blueprint",
    "client_key_for",
    "current_staff",
    "forbidden",
    "init_login",
    "load_staff",
    "setup_step",
    "sign_in_limit",
    "staff_required",
]
