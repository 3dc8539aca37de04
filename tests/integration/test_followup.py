"""Follow-up with the receipt code: stage, time limits, the parties' view of the log and
the conversation with the reviewers; limited attempts; nothing of anyone else's case."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from grievance.extensions import limiter
from grievance.models import Channel, Direction, Message, Stage
from grievance.services import cases, messages
from grievance.services.actors import Actor
from tests.factories import staff_case


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match
    return match.group(1)


def _sign_in(client, code: str):
    page = client.get("/follow-up?lang=en").get_data(as_text=True)
    return client.post("/follow-up?lang=en", data={"csrf_token": _token(page), "code": code})


@pytest.fixture
def followed(ctx, clock):
    filed, lead, _second = staff_case(ctx)
    case = cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, Actor.for_user(lead))
    messages.add_message(
        ctx, case, Actor.for_user(lead), "আমরা কারখানার সাথে কথা বলছি।", Channel.WEB, filed.complainant
    )
    cases.assess_severity(
        ctx, case, Actor.for_user(lead), scale=4, scope=3, irremediability=2, likelihood=4
    )
    return filed


def test_the_code_opens_the_case_with_its_stage_limits_log_and_messages(app, followed):
    client = app.test_client()
    spaced = " ".join(followed.receipt_code[i : i + 4] for i in range(0, 16, 4))
    response = _sign_in(client, spaced)
    assert response.status_code == 302
    page = client.get("/follow-up/case?lang=en").get_data(as_text=True)
    assert followed.case.reference in page
    assert "Where it is now: Acknowledged" in page
    assert "Update the complainant on progress" in page  # an open time limit, with its date
    assert "আমরা কারখানার সাথে কথা বলছি।" in page
    assert "Your complaint was received." in page
    assert "Stage: Acknowledged." in page
    # reviewers-only events stay out of the complainant's view
    assert "severity" not in page.lower()


def test_the_complainant_writes_to_the_reviewers(app, ctx, followed):
    client = app.test_client()
    _sign_in(client, followed.receipt_code)
    page = client.get("/follow-up/case").get_data(as_text=True)
    text = "ধন্যবাদ। আরও ছবি আছে।"
    response = client.post("/follow-up/case", data={"csrf_token": _token(page), "body": text})
    assert response.status_code == 302
    sent = ctx.session.scalars(
        select(Message).where(Message.direction == Direction.FROM_COMPLAINANT)
    ).one()
    assert sent.case_id == followed.case.id
    assert messages.read_message(ctx, sent) == text
    assert text in client.get("/follow-up/case").get_data(as_text=True)


def test_an_empty_message_is_refused_in_place(app, followed):
    client = app.test_client()
    _sign_in(client, followed.receipt_code)
    page = client.get("/follow-up/case").get_data(as_text=True)
    response = client.post("/follow-up/case", data={"csrf_token": _token(page), "body": "  "})
    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True)


def test_a_wrong_code_opens_nothing_and_attempts_are_limited(app, followed):
    client = app.test_client()
    wrong = "1" * 16 if followed.receipt_code != "1" * 16 else "2" * 16
    for _ in range(10):
        response = _sign_in(client, wrong)
        assert response.status_code == 401
        assert "We do not know this code" in response.get_data(as_text=True)
    assert _sign_in(client, followed.receipt_code).status_code == 429  # even the right one, for now
    assert client.get("/follow-up/case").status_code == 302  # not signed in


def test_the_limit_counts_per_client_without_its_address(app, followed):
    for _ in range(10):
        _sign_in(app.test_client(), "0" * 16)
    other = app.test_client()
    page = other.get("/follow-up", environ_base={"REMOTE_ADDR": "10.1.2.3"}).get_data(as_text=True)
    response = other.post(
        "/follow-up",
        data={"csrf_token": _token(page), "code": followed.receipt_code},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert response.status_code == 302  # another client is not locked out
    keys = " ".join(str(key) for key in limiter.storage.storage)  # type: ignore[attr-defined]
    assert keys  # the limiter did count
    assert "127.0.0.1" not in keys
    assert "10.1.2.3" not in keys


def test_without_the_code_there_is_no_case_and_signing_out_ends_it(app, followed):
    client = app.test_client()
    assert client.get("/follow-up/case").status_code == 302
    _sign_in(client, followed.receipt_code)
    page = client.get("/follow-up/case").get_data(as_text=True)
    client.post("/follow-up/sign-out", data={"csrf_token": _token(page)})
    assert client.get("/follow-up/case").status_code == 302


def test_a_silent_session_expires(app, clock, followed):
    client = app.test_client()
    _sign_in(client, followed.receipt_code)
    clock.advance(minutes=31)
    assert client.get("/follow-up/case").status_code == 302
