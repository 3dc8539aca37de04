"""Cross-site requests (issue #12, item 7):

- a POST without a valid CSRF token had its text shown back on this site's pages (the
  forms that keep what was typed when their page expired). Now only an expired token of
  ours (its signature good, its session gone) brings the typed text back; a missing or
  forged one, or a request the browser says came from another site, shows the general
  error page with nothing from the request. Tried on each such form: the complaint form,
  the follow-up sign-in and message, staff recording, a reviewer's action;
- a CR or LF in the sign-in's `next=` gave a server error: control characters are refused.
"""

from __future__ import annotations

import re

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from grievance.models import Case, Message, Role
from tests import factories
from tests.integration.test_followup import _sign_in as follow_up
from tests.integration.test_record_complaint import form_data, secretariat_client
from tests.integration.test_reviewer_workspace import _client
from tests.integration.test_staff_auth import _path, code_now, code_step, password_step

MARK = "Typed by someone else: call 0800 SCAM"
GENERAL = "Something went wrong with this page"


def _token(page: str) -> str:
    match = re.search(r'name="[\w-]*csrf_token"[^>]*value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _ours_but_expired(app, path: str = "/complaint") -> str:
    """A token signed by this site, from a session that is over (another browser's)."""
    return _token(app.test_client().get(path).get_data(as_text=True))


FORGED = URLSafeTimedSerializer("not-our-secret-key", salt="wtf-csrf-token").dumps("x" * 40)
#: How a cross-site form post comes: no token, a forged one, or one of ours fetched by the
#: attacker and posted from their site (the browser says where the request came from).
ATTACKS = {
    "missing": (None, {}),
    "forged": (FORGED, {}),
    "garbage": ("stale", {}),
    "ours-from-another-origin": ("OURS", {"Origin": "https://attacker.example"}),
    "ours-cross-site-fetch": ("OURS", {"Sec-Fetch-Site": "cross-site"}),
    "ours-from-an-opaque-origin": ("OURS", {"Origin": "null"}),
}


def _token_for(app, kind: str, path: str = "/complaint") -> str | None:
    token = ATTACKS[kind][0]
    return _ours_but_expired(app, path) if token == "OURS" else token


def _with_token(data: dict, field: str, token: str | None) -> dict:
    return {**data, field: token} if token is not None else data


def _shows_nothing(response) -> None:
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert GENERAL in page
    assert "0800 SCAM" not in page


def count(ctx, model) -> int:
    return ctx.session.scalar(select(func.count()).select_from(model)) or 0


# -- the complaint form ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ATTACKS)
def test_the_complaint_form_shows_nothing_of_a_cross_site_post(app, ctx, kind):
    factories.make_mechanism(ctx, code="WEB")
    data = _with_token(
        {"mechanism": "WEB", "statement": MARK, "location": MARK},
        "csrf_token",
        _token_for(app, kind),
    )
    response = app.test_client().post("/complaint?lang=en", data=data, headers=ATTACKS[kind][1])
    _shows_nothing(response)
    assert count(ctx, Case) == 0


def test_the_complaint_form_keeps_what_was_typed_when_its_page_expired(app, ctx):
    factories.make_mechanism(ctx, code="WEB")
    data = {"csrf_token": _ours_but_expired(app), "mechanism": "WEB", "statement": MARK}
    response = app.test_client().post(
        "/complaint?lang=en", data=data, headers={"Origin": "http://localhost"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Your complaint was not sent yet" in page
    assert "0800 SCAM" in page


# -- the follow-up pages ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ATTACKS)
def test_the_follow_up_sign_in_shows_nothing_of_a_cross_site_post(app, kind):
    data = _with_token({"code": "1234", "body": MARK}, "csrf_token", _token_for(app, kind))
    response = app.test_client().post("/follow-up?lang=en", data=data, headers=ATTACKS[kind][1])
    _shows_nothing(response)


@pytest.mark.parametrize("kind", ATTACKS)
def test_the_follow_up_message_shows_nothing_of_a_cross_site_post(app, ctx, kind):
    filed, _lead, _second = factories.staff_case(ctx)
    client = app.test_client()
    assert follow_up(client, filed.receipt_code).status_code == 302
    data = _with_token({"body": MARK}, "csrf_token", _token_for(app, kind))
    response = client.post("/follow-up/case?lang=en", data=data, headers=ATTACKS[kind][1])
    _shows_nothing(response)
    assert count(ctx, Message) == 0


def test_the_follow_up_message_comes_back_when_its_page_expired(app, ctx):
    filed, _lead, _second = factories.staff_case(ctx)
    client = app.test_client()
    assert follow_up(client, filed.receipt_code).status_code == 302
    data = {"csrf_token": _ours_but_expired(app, "/follow-up"), "body": MARK}
    response = client.post("/follow-up/case?lang=en", data=data)
    assert response.status_code == 400
    assert "0800 SCAM" in response.get_data(as_text=True)


# -- staff recording and the reviewer's actions ------------------------------------------------


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "signed-out"])
@pytest.mark.parametrize("kind", ATTACKS)
def test_staff_recording_shows_nothing_of_a_cross_site_post(app, ctx, clock, kind, signed_in):
    mechanism = factories.make_mechanism(ctx, "RCX")
    _user, client = secretariat_client(app, ctx, clock, mechanism)
    if not signed_in:
        client = app.test_client()
    data = _with_token(
        form_data(mechanism, statement=MARK, location=MARK),
        "csrf_token",
        _token_for(app, kind, "/staff/sign-in"),
    )
    response = client.post("/staff/record-complaint?lang=en", data=data, headers=ATTACKS[kind][1])
    _shows_nothing(response)
    assert count(ctx, Case) == 0


@pytest.mark.parametrize("kind", ATTACKS)
def test_a_reviewer_action_shows_nothing_of_a_cross_site_post(app, ctx, clock, kind):
    filed, lead, _second = factories.staff_case(ctx)
    client = _client(app, ctx, clock, lead)
    data = _with_token(
        {"message-body": MARK}, "message-csrf_token", _token_for(app, kind, "/staff/sign-in")
    )
    response = client.post(
        f"/staff/reviewer/cases/{filed.case.reference}/messages?lang=en",
        data=data,
        headers=ATTACKS[kind][1],
    )
    _shows_nothing(response)
    assert count(ctx, Message) == 0


# -- next= -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_path",
    ["/staff/account\r\nSet-Cookie: x=1", "/staff\n", "/\t/attacker.example", "/staff\x00"],
    ids=["crlf", "lf", "tab-host", "nul"],
)
def test_a_control_character_in_next_is_refused_not_a_server_error(app, ctx, clock, next_path):
    user, seed = factories.make_staff(ctx, Role.REVIEWER)
    client = app.test_client()
    page = client.get("/staff/sign-in", query_string={"next": next_path, "lang": "en"})
    assert page.status_code == 200
    assert "Set-Cookie" not in page.get_data(as_text=True)
    response = password_step(client, user.email, query_string={"next": next_path})
    assert _path(response) == "/staff/sign-in/code"
    done = code_step(client, code_now(seed, clock))
    assert done.status_code == 302
    assert _path(done) == "/staff"  # not where next= pointed
    assert "x=1" not in done.headers.get("Set-Cookie", "")
