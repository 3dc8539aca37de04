"""Complaints received another way (issue #5): a reviewer or a secretariat user records a
complaint that came by phone, letter or in person, through the filing service; the
receipt code is shown once; nobody records for a mechanism they do not run or serve;
nothing typed is lost."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from grievance.models import Case, CaseEvent, Channel, Role
from grievance.services import accounts
from grievance.services.actors import Actor
from grievance.services.errors import InvalidInput, NotAllowed
from grievance.services.filing import file_case, find_by_receipt, recording_mechanisms
from tests.conftest import START
from tests.factories import (
    filing,
    make_company,
    make_mechanism,
    make_reviewer,
    make_site,
    make_staff,
)
from tests.integration.test_staff_auth import sign_in

PATH = "/staff/record-complaint"
STATEMENT = "ওভারটাইমের টাকা তিন মাস ধরে দেওয়া হয়নি। সুপারভাইজার বলেছে মুখ বন্ধ রাখতে।"
CODE = re.compile(r"\b\d{4} \d{4} \d{4} \d{4}\b")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _submission(page: str) -> str:
    match = re.search(r'name="submission" type="hidden" value="([^"]+)"', page)
    assert match, "no submission id on the page"
    return match.group(1)


def form_data(mechanism, **overrides) -> dict:
    data = {
        "mechanism": mechanism.code,
        "channel": "phone",
        "received_on": "2026-02-27",
        "language": "bn",
        "statement": STATEMENT,
        "country": "BD",
        "site": "",
        "location": "Ashulia, sewing line 4",
        "occurred": "Since December",
        "companies": "",
        "themes": ["living_wage"],
        "urgent": "no",
        "kind": "affected",
        "represents": "",
        "anonymity": "confidential",
        "name": "Rahima Begum",
        "contact": "sms",
        "phone": "+880 1711 000123",
        "email": "",
    }
    data.update(overrides)
    return data


def send(client, data: dict, query: str = "?lang=en"):
    page = client.get(PATH + query).get_data(as_text=True)
    full = {"csrf_token": _token(page), "submission": _submission(page), **data}
    return client.post(PATH + query, data=full)


def secretariat_client(app, ctx, clock, *mechanisms):
    user, seed = make_staff(ctx, Role.SECRETARIAT, mechanisms=list(mechanisms))
    client = app.test_client()
    sign_in(client, user, seed, clock)
    return user, client


def reviewer_client(app, ctx, clock):
    user = make_reviewer(ctx, languages=["bn"])
    seed = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
    accounts.enrol_totp_secret(ctx, user, seed, last_step=None)
    ctx.session.flush()
    client = app.test_client()
    sign_in(client, user, seed, clock)
    return user, client


def cases_of(ctx, mechanism) -> list[Case]:
    return list(ctx.session.scalars(select(Case).where(Case.mechanism_id == mechanism.id)))


# -- recording ----------------------------------------------------------------------------


def test_a_secretariat_user_records_a_phone_call(app, ctx, clock):
    mechanism = make_mechanism(ctx, "RCP")
    user, client = secretariat_client(app, ctx, clock, mechanism)
    response = send(client, form_data(mechanism))
    assert response.status_code == 200
    assert "Location" not in response.headers  # the code is on this page, never in a URL
    page = response.get_data(as_text=True)
    codes = CODE.findall(page)
    assert len(codes) == 1  # shown once, grouped in fours
    assert "Read it out slowly" in page
    (case,) = cases_of(ctx, mechanism)
    assert case.reference in page
    assert case.channel is Channel.PHONE
    arrived = datetime(2026, 2, 27, tzinfo=AMSTERDAM)  # the start of the day it arrived
    assert case.received_at == arrived
    assert case.stage_entered_at == arrived
    assert (case.language, case.country, case.theme_codes) == ("bn", "BD", ["living_wage"])
    assert ctx.vault.open(case.id, "statement", case.statement_enc) == STATEMENT
    event = ctx.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "case_filed")
    ).one()
    assert event.payload["recorded_by_staff"] is True
    assert event.payload["channel"] == "phone"
    assert (event.actor_role, event.actor_id) == (Role.SECRETARIAT, user.id)
    complainant = find_by_receipt(ctx, mechanism, codes[0].replace(" ", ""))
    assert complainant is not None
    assert complainant.case_id == case.id
    assert complainant.phone_lookup is not None  # the SMS contact, sealed
    for header in response.headers.values():
        assert codes[0].replace(" ", "") not in header.replace(" ", "")
    # nowhere else: not on the form again, not on the home page
    again = client.get(PATH).get_data(as_text=True) + client.get("/staff").get_data(as_text=True)
    assert codes[0] not in again


def test_a_reviewer_records_a_complaint_made_in_person(app, ctx, clock):
    mechanism = make_mechanism(ctx, "RCR")
    site = make_site(ctx, make_company(ctx, mechanism, name="Dhaka Knit"))
    user, client = reviewer_client(app, ctx, clock)
    response = send(
        client,
        form_data(
            mechanism,
            channel="in_person",
            received_on=START.date().isoformat(),
            site=str(site.id),
            anonymity="anonymous",
            name="",
            contact="none",
            phone="",
        ),
    )
    assert response.status_code == 200
    assert "Print this page and give the paper" in response.get_data(as_text=True)
    (case,) = cases_of(ctx, mechanism)
    assert (case.channel, case.site_id) == (Channel.IN_PERSON, site.id)
    assert case.received_at == datetime(2026, 3, 2, tzinfo=AMSTERDAM)
    event = case.events[0]
    assert event.payload["recorded_by_staff"] is True
    assert (event.actor_role, event.actor_id) == (Role.REVIEWER, user.id)


def test_sending_the_same_form_again_records_nothing_twice(app, ctx, clock):
    mechanism = make_mechanism(ctx, "RCT")
    _user, client = secretariat_client(app, ctx, clock, mechanism)
    page = client.get(PATH).get_data(as_text=True)
    data = {"csrf_token": _token(page), "submission": _submission(page), **form_data(mechanism)}
    first = client.post(PATH + "?lang=en", data=data)
    assert first.status_code == 200
    (code,) = CODE.findall(first.get_data(as_text=True))
    second = client.post(PATH + "?lang=en", data=data)  # a reload of the receipt page
    assert second.status_code == 409
    text = second.get_data(as_text=True)
    assert "already recorded" in text
    assert code not in text
    assert not CODE.search(text)
    assert len(cases_of(ctx, mechanism)) == 1


# -- who may record for which mechanism ----------------------------------------------------------


def test_a_secretariat_user_records_only_for_the_mechanisms_they_run(app, ctx, clock):
    ours, theirs = make_mechanism(ctx, "RCA"), make_mechanism(ctx, "RCB")
    user, client = secretariat_client(app, ctx, clock, ours)
    page = client.get(PATH + "?lang=en").get_data(as_text=True)
    assert "RCA" in page
    assert "RCB" not in page
    response = send(client, form_data(theirs))
    assert response.status_code == 422
    assert cases_of(ctx, theirs) == []
    # the filing service refuses it too, whatever the form
    with pytest.raises(NotAllowed):
        file_case(ctx, filing(theirs, channel=Channel.PHONE), Actor.for_user(user))
    assert [m.code for m in recording_mechanisms(ctx, Actor.for_user(user))] == ["RCA"]


def test_a_reviewer_serves_every_mechanism_once_they_have_a_profile(app, ctx, clock):
    first, second = make_mechanism(ctx, "RCC"), make_mechanism(ctx, "RCD")
    reviewer = make_reviewer(ctx)
    assert recording_mechanisms(ctx, Actor.for_user(reviewer)) == [first, second]
    without, seed = make_staff(ctx, Role.REVIEWER)  # an account with no reviewer profile
    assert recording_mechanisms(ctx, Actor.for_user(without)) == []
    with pytest.raises(NotAllowed):
        file_case(ctx, filing(first, channel=Channel.LETTER), Actor.for_user(without))
    client = app.test_client()
    sign_in(client, without, seed, clock)
    page = client.get(PATH + "?lang=en")
    assert page.status_code == 200
    assert "profile has not been saved yet" in page.get_data(as_text=True)
    response = client.post(
        PATH, data={"csrf_token": _token(page.get_data(as_text=True)), **form_data(first)}
    )
    assert response.status_code == 403
    assert cases_of(ctx, first) == []


def test_staff_record_only_what_came_by_phone_letter_or_in_person(app, ctx, clock):
    mechanism = make_mechanism(ctx, "RCW")
    user, client = secretariat_client(app, ctx, clock, mechanism)
    assert send(client, form_data(mechanism, channel="web")).status_code == 422
    with pytest.raises(InvalidInput) as refused:
        file_case(ctx, filing(mechanism, channel=Channel.WEB), Actor.for_user(user))
    assert "channel" in refused.value.errors
    assert cases_of(ctx, mechanism) == []


@pytest.mark.parametrize("role", [Role.COMPANY, Role.ADMIN])
def test_other_roles_are_refused(app, ctx, clock, role):
    make_mechanism(ctx, "RCO")
    user, seed = make_staff(ctx, role)
    client = app.test_client()
    sign_in(client, user, seed, clock)
    assert client.get(PATH).status_code == 403
    page = client.get("/staff").get_data(as_text=True)
    assert f'href="{PATH}"' not in page


def test_anonymous_visitors_are_sent_to_sign_in(app, ctx):
    response = app.test_client().get(PATH)
    assert response.status_code == 302
    assert "/staff/sign-in" in response.headers["Location"]


def test_the_staff_home_links_to_it_for_reviewers_and_secretariat(app, ctx, clock):
    mechanism = make_mechanism(ctx, "RCL")
    _user, client = secretariat_client(app, ctx, clock, mechanism)
    assert f'href="{PATH}"' in client.get("/staff").get_data(as_text=True)
    _user, client = reviewer_client(app, ctx, clock)
    assert f'href="{PATH}"' in client.get("/staff").get_data(as_text=True)


# -- bad input, expired pages ----------------------------------------------------------------------


def test_bad_input_gets_a_clear_message_and_loses_nothing_typed(app, ctx, clock):
    mechanism = make_mechanism(ctx, "RCE")
    _user, client = secretariat_client(app, ctx, clock, mechanism)
    response = send(client, form_data(mechanism, statement="   ", received_on="27/02/2026"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please check your answers" in page
    assert "Tell us what happened." in page
    assert "Give the day as year-month-day, like 2026-03-02." in page
    assert 'value="Rahima Begum"' in page
    assert 'value="Ashulia, sewing line 4"' in page
    assert 'value="27/02/2026"' in page
    assert re.search(r'checked[^>]*value="living_wage"|value="living_wage"[^>]*checked', page)
    assert cases_of(ctx, mechanism) == []
    future = send(client, form_data(mechanism, received_on="2026-03-03"))
    assert future.status_code == 422
    assert "This day has not come yet" in future.get_data(as_text=True)
    assert STATEMENT in future.get_data(as_text=True)
    assert cases_of(ctx, mechanism) == []


def test_a_language_the_chosen_mechanism_does_not_offer(app, ctx, clock):
    english = make_mechanism(ctx, "RCN", overrides={"languages": ["en"]})
    bengali = make_mechanism(ctx, "RCM")
    _user, client = secretariat_client(app, ctx, clock, english, bengali)
    response = send(client, form_data(english, language="bn"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The mechanism you chose does not offer this language." in page
    assert STATEMENT in page
    assert cases_of(ctx, english) == []


def test_csrf_is_enforced_and_what_was_typed_comes_back(app, ctx, clock):
    mechanism = make_mechanism(ctx, "RCX")
    _user, client = secretariat_client(app, ctx, clock, mechanism)
    client.get(PATH)
    # a token of ours from a session that is over (another browser's, here): expired
    stale = _token(app.test_client().get("/staff/sign-in").get_data(as_text=True))
    response = client.post(PATH + "?lang=en", data={"csrf_token": stale, **form_data(mechanism)})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The complaint was not recorded yet" in page
    assert STATEMENT in page
    assert 'value="Rahima Begum"' in page
    assert not CODE.search(page)
    assert cases_of(ctx, mechanism) == []


def test_a_session_that_ended_during_a_long_call_loses_nothing(app, ctx, clock):
    mechanism = make_mechanism(ctx, "RCS")
    _user, client = secretariat_client(app, ctx, clock, mechanism)
    page = client.get(PATH).get_data(as_text=True)
    clock.set(START + timedelta(minutes=45))  # the staff session ends after 30 idle minutes
    response = client.post(
        PATH + "?lang=en",
        data={"csrf_token": _token(page), "submission": _submission(page), **form_data(mechanism)},
    )
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert "Your session ended" in text
    assert STATEMENT in text
    assert "Ashulia, sewing line 4" in text
    assert "/staff/sign-in" in text
    assert cases_of(ctx, mechanism) == []
