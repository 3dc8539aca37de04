"""The reviewer's workspace (issue #5): the queue of the cases they are on, each case's
page, and the actions on it.

Thin over the services: every action is one form (Flask-WTF, CSRF) calling one service,
which checks the role and the assignment again, locks the case and writes the log. A
reviewer reaches only the cases they are assigned to now: any other reference is a 404,
whether the case exists or not. A refused action comes back on the case page with a
translated message and everything typed still in its form; a done one redirects to it.
The complainant's identity is shown only by the reveal action, once, in the response to
its POST (never in a URL; `Cache-Control: no-store` is set on every page).

The modules, each depending only on those listed before it:

- `common`: the signed-in reviewer, their case or a 404, the way back to the case page;
- `forms`: the forms of the case page, each filling in what depends on the case;
- `actions`: the table of actions (`ACTIONS`), one entry each: name, path, form,
  handler (one service call), messages, when the case page offers it;
- `queue`: the queue page;
- `case`: the case page (and file downloads), with the forms the table offers;
- `companies`: the companies of a case, their involvement (four eyes), obligations and
  conversation (#13);
- `dispatch`: the action routes, derived from the table: running a form and its
  handler, refusals, expired forms;
- `remedy`: the case's remedy plan page and its actions.

This module makes the blueprint and lets each of them register its routes.
"""

from __future__ import annotations

from flask import Blueprint

from grievance.web.reviewer import case, companies, dispatch, queue, remedy

__all__ = ["blueprint", "make_blueprint"]


def make_blueprint() -> Blueprint:
    """The workspace's blueprint, its action routes made from the table as it is now."""
    blueprint = Blueprint("reviewer", __name__, url_prefix="/staff/reviewer")
    queue.register(blueprint)
    case.register(blueprint)
    dispatch.register(blueprint)
    companies.register_routes(blueprint)
    remedy.register(blueprint)
    return blueprint


blueprint = make_blueprint()
