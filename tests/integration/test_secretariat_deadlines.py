"""The secretariat's deadlines page (issue #6): what is overdue and due this week in the
mechanisms they run, by reviewer and by company; nothing of another mechanism."""

from __future__ import annotations

from datetime import timedelta

import pytest

from grievance.models import Role, Stage
from grievance.services import cases, involvement
from grievance.services.actors import SYSTEM, Actor
from tests.conftest import START
from tests.factories import make_company, make_mechanism, make_staff, staff_case
from tests.integration.test_staff_auth import sign_in


@pytest.fixture
def board(ctx, clock):
    """Two mechanisms: in DLA a case overdue for acknowledgement with a company, and one
    acknowledged (its progress update due later); in DLB a case of another secretariat."""
    ours, theirs = make_mechanism(ctx, code="DLA"), make_mechanism(ctx, code="DLB")
    late, lead, _ = staff_case(ctx, mechanism=ours)
    involvement.add_company(ctx, late.case, make_company(ctx, ours, name="Dhaka Knitwear"), SYSTEM)
    acknowledged, other_lead, _ = staff_case(ctx, mechanism=ours)
    cases.transition(ctx, acknowledged.case, Stage.ACKNOWLEDGED, Actor.for_user(other_lead))
    elsewhere, _, _ = staff_case(ctx, mechanism=theirs)
    clock.set(START + timedelta(days=8))  # acknowledgement was due within 7 days
    return ours, theirs, late, lead, acknowledged, elsewhere


def _secretariat(ctx, clock, app, *mechanisms):
    user, seed = make_staff(ctx, Role.SECRETARIAT, mechanisms=list(mechanisms))
    client = app.test_client()
    sign_in(client, user, seed, clock)
    return client


def test_overdue_and_due_soon_of_their_mechanisms_only(app, ctx, clock, board):
    ours, _theirs, late, lead, acknowledged, elsewhere = board
    client = _secretariat(ctx, clock, app, ours)
    response = client.get("/staff/secretariat/deadlines?lang=en")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    overdue = page.split('id="overdue"')[1].split('id="due-soon"')[0]
    assert late.case.reference in overdue
    assert "Acknowledge receipt" in overdue
    assert lead.display_name in overdue
    assert "Dhaka Knitwear" in overdue
    assert acknowledged.case.reference not in overdue
    assert elsewhere.case.reference not in page  # another secretariat's mechanism
    assert "By reviewer" in page
    assert "By company" in page


def test_a_longer_window_shows_what_is_due_later(app, ctx, clock, board):
    ours, _theirs, _late, _lead, acknowledged, _elsewhere = board
    client = _secretariat(ctx, clock, app, ours)
    week = client.get("/staff/secretariat/deadlines?lang=en&days=7").get_data(as_text=True)
    month = client.get("/staff/secretariat/deadlines?lang=en&days=30").get_data(as_text=True)
    soon = month.split('id="due-soon"')[1]
    assert acknowledged.case.reference not in week.split('id="due-soon"')[1]
    assert acknowledged.case.reference in soon  # its progress update, 30 days on


def test_another_mechanism_cannot_be_asked_for(app, ctx, clock, board):
    ours, theirs, *_ = board
    client = _secretariat(ctx, clock, app, ours)
    assert client.get(f"/staff/secretariat/deadlines?mechanism={theirs.code}").status_code == 404
    assert client.get(f"/staff/secretariat/deadlines?mechanism={ours.code}").status_code == 200


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.COMPANY, Role.ADMIN])
def test_other_roles_are_refused_without_data(app, ctx, clock, board, role):
    ours, _theirs, late, *_ = board
    user, seed = make_staff(ctx, role, mechanisms=[ours] if role is Role.ADMIN else None)
    client = app.test_client()
    sign_in(client, user, seed, clock)
    response = client.get("/staff/secretariat/deadlines?lang=en")
    assert response.status_code == 403
    assert late.case.reference not in response.get_data(as_text=True)


def test_without_signing_in_the_page_asks_for_it(app, board):
    response = app.test_client().get("/staff/secretariat/deadlines")
    assert response.status_code == 302
    assert "/staff/sign-in" in response.headers["Location"]


def test_the_page_is_in_the_readers_language(app, ctx, clock, board):
    ours, *_ = board
    client = _secretariat(ctx, clock, app, ours)
    page = client.get("/staff/secretariat/deadlines?lang=nl").get_data(as_text=True)
    assert '<html lang="nl"' in page
    assert "Acknowledge receipt" not in page


def test_case_numbers_link_to_the_secretariats_read_only_case_view(app, ctx, clock, board):
    ours, _theirs, late, lead, _acknowledged, elsewhere = board
    client = _secretariat(ctx, clock, app, ours)
    page = client.get("/staff/secretariat/deadlines?lang=en").get_data(as_text=True)
    link = f'href="/staff/secretariat/cases/{late.case.reference}"'
    assert link in page
    view = client.get(f"/staff/secretariat/cases/{late.case.reference}?lang=en")
    assert view.status_code == 200
    text = view.get_data(as_text=True)
    assert "Dhaka Knitwear" in text
    assert lead.display_name in text  # assignments
    assert "Acknowledge receipt" in text  # time limits
    assert text.count("<form") == 1  # read-only: only the sign-out form of the menu
    # another mechanism's case, or none: the same 404
    assert client.get(f"/staff/secretariat/cases/{elsewhere.case.reference}").status_code == 404
    assert client.get("/staff/secretariat/cases/NONE-1").status_code == 404


def test_remedy_action_rows_are_told_apart_by_their_description(app, ctx, clock, board):
    from grievance.services.remedy_plan import ItemInput
    from tests.factories import approve_plan, walk_to

    ours, *_ = board
    filed, lead, second = staff_case(ctx, mechanism=ours)
    walk_to(ctx, filed, Stage.REMEDY_PLAN, lead, second)
    due = (clock.now() + timedelta(days=3)).date()
    approve_plan(
        ctx, filed, lead, second,
        [ItemInput("apology", text, due_on=due) for text in ("Back pay.", "A written apology.")],
    )  # fmt: skip
    client = _secretariat(ctx, clock, app, ours)
    page = client.get("/staff/secretariat/deadlines?lang=en").get_data(as_text=True)
    assert page.count("Remedy action: Back pay.") == 1
    assert page.count("Remedy action: A written apology.") == 1


def test_the_companies_record_of_missed_deadlines(app, ctx, clock, board):
    ours, _theirs, _late, _lead, _acknowledged, _elsewhere = board
    clock.advance(days=30)  # the 30 days to respond have passed
    client = _secretariat(ctx, clock, app, ours)
    page = client.get("/staff/secretariat/companies?lang=en").get_data(as_text=True)
    assert "Dhaka Knitwear" in page
    assert "response to the complaint" in page
    assert "Overdue" in page
