"""The table of the reviewer's actions (`grievance.web.reviewer.actions.ACTIONS`): every
action has its route, its form and its section of the case page, the page offers exactly
what the table says, and an action added to the table is routed, refused, and brought
back after an expired page with nothing else to write."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from flask import template_rendered
from sqlalchemy import select
from wtforms import TextAreaField
from wtforms.validators import DataRequired

from grievance import TEMPLATES, create_staff_app
from grievance.app import staff_app_of
from grievance.models import Anonymity, Complainant, ComplainantKind, ContactChannel, Stage
from grievance.services import cases, timekeeping
from grievance.services.actors import Actor
from grievance.services.filing import ComplainantDetails
from grievance.web import reviewer as reviewer_web
from grievance.web.reviewer import actions
from grievance.web.reviewer.actions import ACTIONS, Action, Submission, action_for
from grievance.web.reviewer.forms import WorkspaceForm
from tests.factories import staff_case, walk_to
from tests.integration.test_reviewer_workspace import _case_path, _client, _page, _token

CASE_TEMPLATE = (TEMPLATES / "reviewer" / "case.html").read_text(encoding="utf-8")
#: A form of the case page: where it posts, and its id (`form-<name>`).
FORM = re.compile(r'<form method="post" action="([^"]+)" id="form-([\w-]+)"')


@pytest.fixture
def board(ctx):
    """A confidential complainant's case (whose identity may be revealed), its lead and
    its second reviewer."""
    person = ComplainantDetails(
        anonymity=Anonymity.CONFIDENTIAL,
        kind=ComplainantKind.AFFECTED,
        contact_channel=ContactChannel.SMS,
        contact_address="+8801711000002",
        name="Amina Khatun",
    )
    return staff_case(ctx, complainant=person)


def test_every_action_has_a_route_a_form_and_a_template_section(app):
    staff = staff_app_of(app)
    rules = {rule.endpoint: rule for rule in staff.url_map.iter_rules()}
    for field in ("name", "endpoint", "path"):
        values = [getattr(action, field) for action in ACTIONS]
        assert len(values) == len(set(values)), f"two actions share a {field}"
    for action in ACTIONS:
        endpoint = f"reviewer.{action.endpoint}"
        rule = rules[endpoint]
        assert rule.rule == f"/staff/reviewer{action.rule}"
        assert rule.methods == {"POST", "OPTIONS"}
        assert action_for(endpoint) is action
        assert issubclass(action.form, WorkspaceForm)
        assert f"url_for('reviewer.{action.endpoint}'" in CASE_TEMPLATE, action.name
        assert f'id="form-{action.name}' in CASE_TEMPLATE, action.name
        assert (action.shown is actions.always) != (
            f"offered.{action.name}" in CASE_TEMPLATE
            or f'offered["{action.name}" ~' in CASE_TEMPLATE
        ), f"{action.name}: the template offers its form as the table says"
    # and no action route of the case page outside the table (the companies of a case
    # have a page and forms of their own: web/reviewer/companies.py)
    posted = {
        name
        for name, rule in rules.items()
        if name.startswith("reviewer.")
        and not name.startswith("reviewer.companies_")
        and not name.startswith("reviewer.remedy_")  # the remedy page's own (test_remedy_pages)
        and "POST" in (rule.methods or ())
    }
    assert posted == {f"reviewer.{action.endpoint}" for action in ACTIONS}
    assert action_for("reviewer.case") is None
    assert action_for("reviewer.queue") is None


@contextmanager
def _rendered(app):
    """The context of each template the staff app renders meanwhile."""
    seen: list[dict] = []

    def record(sender, template, context, **extra):
        seen.append(context)

    staff = staff_app_of(app)
    template_rendered.connect(record, staff)
    try:
        yield seen
    finally:
        template_rendered.disconnect(record, staff)


def _offered_forms(app, client, case) -> set[str]:
    """The forms a case page shows, checked against what the table offers on it and
    each posting to its action's route; their names."""
    with _rendered(app) as seen:
        page = _page(client, _case_path(case))
    context = next(c for c in seen if "offered" in c)
    shown = {name: path for path, name in FORM.findall(page)}
    offered = {name for name, on in context["offered"].items() if on}
    assert set(shown) == offered
    assert set(context["forms"]) == set(context["offered"])
    urls = staff_app_of(app).url_map.bind("localhost")
    for action in ACTIONS:
        for complainant in context["view"].complainants if action.each_complainant else [None]:
            args = {"complainant_id": complainant.id} if complainant else {}
            name = action.form_name(args)
            if name in shown:
                path = urls.build(
                    f"reviewer.{action.endpoint}", {"reference": case.reference, **args}
                )
                assert shown[name] == path
    return offered


def test_the_case_page_offers_exactly_the_forms_the_table_says(app, ctx, clock, board):
    filed, lead, second = board
    case = filed.case
    complainant = ctx.session.scalars(
        select(Complainant).where(Complainant.case_id == case.id)
    ).one()
    reveal = f"reveal{complainant.id}"
    lead_client = _client(app, ctx, clock, lead)
    second_client = _client(app, ctx, clock, second)
    every: set[str] = set()

    def offered(client, on=None) -> set[str]:
        names = _offered_forms(app, client, on if on is not None else case)
        every.update(names)
        return names

    always = {"severity", "risk", "recuse"}
    received = offered(lead_client)
    assert received == always | {
        "acknowledge",
        "message",
        "information",
        "move",
        "translation",
        reveal,
    }

    timekeeping.pause_clock(ctx, case, Actor.for_user(lead), "Which month?")
    waiting = offered(lead_client)
    assert "resume" in waiting
    assert "information" not in waiting
    timekeeping.resume_clock(ctx, case, Actor.for_user(lead))

    case = cases.transition(ctx, case, Stage.ACKNOWLEDGED, Actor.for_user(lead))
    case = cases.transition(ctx, case, Stage.ADMISSIBILITY, Actor.for_user(lead))
    proposal = cases.propose_decision(
        ctx, case, Stage.INADMISSIBLE, Actor.for_user(lead), "Outside the covenant."
    )
    proposer = offered(lead_client)
    assert {"withdraw", "move"} <= proposer
    assert not {"confirm", "acknowledge"} & proposer
    assert {"confirm", "withdraw"} <= offered(second_client)

    cases.confirm_decision(ctx, proposal, Actor.for_user(second))
    ended = offered(lead_client)  # inadmissible: no move a reviewer takes, nothing to wait on
    assert not {"move", "information", "confirm", "withdraw"} & ended

    case.identities_erased_at = clock.now()
    ctx.session.flush()
    erased = offered(lead_client)
    assert not {"message", "translation", reveal} & erased

    # in investigation: hearing the complainant (R08), on another case of its own
    other, other_lead, other_second = staff_case(ctx)
    walk_to(ctx, other, Stage.INVESTIGATION, other_lead, other_second)
    assert "hearing" in offered(_client(app, ctx, clock, other_lead), other.case)
    assert "hearing" not in received

    assert every == {a.name for a in ACTIONS if not a.each_complainant} | {reveal}


# -- one entry: an action added to the table ------------------------------------------------


class NoteForm(WorkspaceForm):
    note = TextAreaField("Note", validators=[DataRequired("Write the note.")])


def test_adding_an_action_takes_one_entry_in_the_table(
    app, ctx, clock, board, settings, keyring, monkeypatch
):
    """Its route, its form on the case page, its refusals and its expired page all follow
    from the entry: nothing else is written for it (but its section of the template)."""
    noted: list[tuple[int, str]] = []

    def note(s: Submission) -> None:
        noted.append((s.case.id, s.form.note.data))

    entry = Action("note", "add_note", "/note", NoteForm, note, done="Noted.", anchor="log")
    monkeypatch.setattr(actions, "ACTIONS", (*actions.ACTIONS, entry))
    monkeypatch.setattr(reviewer_web, "blueprint", reviewer_web.make_blueprint())
    staff = create_staff_app(settings, clock=clock, keyring=keyring)
    staff.test_client_class = app.test_client_class
    filed, lead, *_ = board
    client = _client(staff, ctx, clock, lead)
    path = f"{_case_path(filed.case)}/note?lang=en"
    token = _token(_page(client, _case_path(filed.case)))

    done = client.post(path, data={"note-csrf_token": token, "note-note": "Call on Monday."})
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"{_case_path(filed.case)}#log")
    assert noted == [(filed.case.id, "Call on Monday.")]
    assert "Noted." in _page(client, _case_path(filed.case))

    refused = client.post(path, data={"note-csrf_token": token, "note-note": ""})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Please check what you wrote." in page
    assert 'href="#form-note"' in page  # the form that came back is the new one

    # a token of ours from a session that is over (another browser's, here): expired
    stale = _token(staff.test_client().get("/staff/sign-in").get_data(as_text=True))
    expired = client.post(path, data={"note-csrf_token": stale, "note-note": "Again."})
    assert expired.status_code == 400
    page = expired.get_data(as_text=True)
    assert "The page had expired: nothing was done." in page
    assert 'href="#form-note"' in page
    assert noted == [(filed.case.id, "Call on Monday.")]
