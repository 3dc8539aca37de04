"""R08 (LkSG §8(1)): a case does not leave investigation without the complainant heard,
by a message of theirs since it entered the stage, a conversation a reviewer logs, or a
reviewer's logged reason why they could not be heard. In the services (every caller),
on the case page (the action, the refusal), and for the walk of the tests' factories."""

from __future__ import annotations

import pytest

from grievance.models import Channel, Role, Stage, Visibility
from grievance.services import cases, hearing, messages
from grievance.services.actors import Actor
from grievance.services.errors import NotAllowed, ReasonRequired
from grievance.services.hearing import ComplainantNotHeard
from tests.factories import case_state, events_of, make_user, staff_case, walk_to
from tests.integration.test_reviewer_workspace import _act, _case_path, _client, _page


@pytest.fixture
def investigated(ctx):
    """A case just put into investigation, the complainant not heard in it (they wrote
    before, in admissibility: that does not count)."""
    filed, lead, second = staff_case(ctx)
    walk_to(ctx, filed, Stage.ADMISSIBILITY, lead, second)
    complainant = Actor.for_complainant(filed.complainant)
    messages.add_message(ctx, filed.case, complainant, "Before the investigation.", Channel.WEB)
    cases.transition(ctx, filed.case, Stage.INVESTIGATION, Actor.for_user(lead), "In scope.")
    return filed, lead, second


def test_no_leaving_investigation_unheard_and_nothing_written(ctx, investigated):
    filed, lead, _ = investigated
    case, actor = filed.case, Actor.for_user(lead)
    before = case_state(ctx.session, case.id)
    assert not hearing.heard(ctx, case)
    with pytest.raises(ComplainantNotHeard):
        cases.propose_decision(ctx, case, Stage.FINDINGS, actor, "Wages unpaid.")
    with pytest.raises(ComplainantNotHeard):
        cases.decide(ctx, case, Stage.FINDINGS, actor, "Wages unpaid.")
    with pytest.raises(ComplainantNotHeard):
        cases.transition(ctx, case, Stage.DIALOGUE, actor, "Talk first.")
    assert case_state(ctx.session, case.id) == before


def test_a_message_from_the_complainant_in_investigation_is_hearing_them(ctx, investigated):
    filed, lead, second = investigated
    complainant = Actor.for_complainant(filed.complainant)
    messages.add_message(ctx, filed.case, complainant, "Yes, in March too.", Channel.SMS)
    assert hearing.heard(ctx, filed.case)
    proposal = cases.propose_decision(
        ctx, filed.case, Stage.FINDINGS, Actor.for_user(lead), "Wages unpaid."
    )
    case = cases.confirm_decision(ctx, proposal, Actor.for_user(second))
    assert case.stage is Stage.FINDINGS


def test_a_reviewer_logs_why_the_complainant_could_not_be_heard(ctx, investigated):
    filed, lead, _ = investigated
    case, actor = filed.case, Actor.for_user(lead)
    with pytest.raises(ReasonRequired):
        hearing.record_hearing(ctx, case, actor, heard=False, note="   ")
    hearing.record_hearing(ctx, case, actor, heard=False, note="Phone off for three weeks.")
    event = events_of(ctx.session, case)[-1]
    assert event.kind == "complainant_not_heard"
    assert event.payload == {"reason": "Phone off for three weeks."}
    assert event.visibility is Visibility.REVIEWERS  # the reason is the reviewers' only
    assert cases.transition(ctx, case, Stage.DIALOGUE, actor).stage is Stage.DIALOGUE


def test_a_conversation_outside_the_system_is_logged_as_hearing(ctx, investigated):
    filed, lead, _ = investigated
    hearing.record_hearing(
        ctx, filed.case, Actor.for_user(lead), heard=True, note="Met at the union office."
    )
    assert events_of(ctx.session, filed.case)[-1].kind == "complainant_heard"
    assert hearing.heard(ctx, filed.case)


def test_only_the_cases_reviewers_log_it_and_only_in_investigation(ctx, investigated):
    filed, lead, second = investigated
    case = filed.case
    for actor in (
        Actor.for_complainant(filed.complainant),
        Actor.for_user(make_user(ctx, Role.SECRETARIAT, mechanisms=[case.mechanism])),
        Actor.for_user(make_user(ctx, Role.REVIEWER)),  # not on the case
    ):
        with pytest.raises(NotAllowed):
            hearing.record_hearing(ctx, case, actor, heard=True, note="Spoke to them.")
    hearing.record_hearing(ctx, case, Actor.for_user(lead), heard=True, note="By phone.")
    proposal = cases.propose_decision(ctx, case, Stage.FINDINGS, Actor.for_user(lead), "R.")
    cases.confirm_decision(ctx, proposal, Actor.for_user(second))
    with pytest.raises(NotAllowed):  # in findings: nothing more to log
        hearing.record_hearing(ctx, case, Actor.for_user(lead), heard=True, note="Again.")


def test_a_withdrawal_needs_no_hearing(ctx, investigated):
    filed, _, _ = investigated
    complainant = Actor.for_complainant(filed.complainant)
    case = cases.transition(ctx, filed.case, Stage.WITHDRAWN, complainant, "Settled.")
    assert case.stage is Stage.WITHDRAWN


def test_a_reopened_investigation_hears_the_complainant_again(ctx, clock):
    filed, lead, second = staff_case(ctx)
    walk_to(ctx, filed, Stage.FINDINGS, lead, second)  # heard in the first investigation
    complainant = Actor.for_complainant(filed.complainant)
    cases.transition(ctx, filed.case, Stage.APPEAL, complainant, "Facts wrong.")
    case = cases.transition(ctx, filed.case, Stage.INVESTIGATION, Actor.for_user(lead), "Upheld.")
    assert not hearing.heard(ctx, case)
    with pytest.raises(ComplainantNotHeard):
        cases.propose_decision(ctx, case, Stage.FINDINGS, Actor.for_user(lead), "Again.")


def test_the_case_page_refuses_the_move_says_why_and_offers_the_record(
    app, ctx, clock, investigated
):
    filed, lead, _ = investigated
    case = filed.case
    client = _client(app, ctx, clock, lead)
    page = _page(client, _case_path(case))
    assert 'id="form-hearing"' in page
    refused = _act(client, case, "move", "move", {"target": "dialogue", "reason": "Talk."})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "The investigation cannot end before the complainant is heard" in text
    assert "Talk.</textarea>" in text  # what was typed is kept
    empty = _act(client, case, "hearing", "hearing", {"outcome": "not_heard", "note": ""})
    assert empty.status_code == 422
    done = _act(client, case, "hearing", "hearing", {"outcome": "not_heard", "note": "No answer."})
    assert done.status_code == 303
    page = _page(client, _case_path(case))
    assert "The complainant could not be heard: No answer." in page
    moved = _act(client, case, "move", "move", {"target": "dialogue", "reason": "Talk."})
    assert moved.status_code == 303
    ctx.session.refresh(case)
    assert case.stage is Stage.DIALOGUE
    assert 'id="form-hearing"' not in _page(client, _case_path(case))
