"""Follow-up with the receipt code: stage, time limits, the parties' view of the log and
the conversation with the reviewers; limited attempts; nothing of anyone else's case."""

from __future__ import annotations

import html
import re

import pytest
from babel.support import Translations
from sqlalchemy import select

from grievance import LOCALES
from grievance.extensions import intake_limiter as limiter
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


# -- a message being written is not lost -------------------------------------------------------

TEXT = "মালিক বলেছে কাল থেকে বেতন দেবে।\nকিন্তু এখনো দেয়নি। <b>&</b>"


def _carried(page: str) -> str | None:
    found = re.search(r'<input type="hidden" name="body" value="([^"]*)">', page)
    return html.unescape(found.group(1)) if found else None


def _box(page: str) -> str:
    found = re.search(r'<textarea id="body" name="body"[^>]*>([^<]*)</textarea>', page)
    assert found, page
    return html.unescape(found.group(1))


def _sent(ctx) -> list[Message]:
    return list(
        ctx.session.scalars(select(Message).where(Message.direction == Direction.FROM_COMPLAINANT))
    )


def test_a_stale_message_form_keeps_the_message_when_still_signed_in(app, ctx, followed):
    """The token is another sign-in's (a second tab signed in again): nothing is sent, the
    text comes back in its box with a fresh token."""
    client = app.test_client()
    _sign_in(client, followed.receipt_code)
    stale = _token(client.get("/follow-up/case").get_data(as_text=True))
    _sign_in(client, followed.receipt_code)  # a new session, a new token
    response = client.post("/follow-up/case?lang=en", data={"csrf_token": stale, "body": TEXT})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your message was not sent yet" in page
    assert "attach your files again" in page
    assert _box(page) == TEXT
    assert _sent(ctx) == []
    fresh = _token(page)
    assert fresh != stale
    assert (
        client.post("/follow-up/case", data={"csrf_token": fresh, "body": TEXT}).status_code == 302
    )
    assert [messages.read_message(ctx, m) for m in _sent(ctx)] == [TEXT.strip()]


def test_a_message_survives_a_lost_cookie_through_signing_in_again(app, ctx, followed):
    client = app.test_client()
    _sign_in(client, followed.receipt_code)
    stale = _token(client.get("/follow-up/case").get_data(as_text=True))
    client = app.test_client()  # the browser dropped the session cookie
    response = client.post("/follow-up/case?lang=en", data={"csrf_token": stale, "body": TEXT})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your message was not sent yet" in page
    assert 'name="code"' in page  # the sign-in form, with the text carried along
    assert _carried(page) == TEXT
    assert followed.receipt_code not in page
    assert _sent(ctx) == []
    _then_signing_in_gives_the_message_back(client, ctx, followed, page)


def test_a_message_survives_a_silent_session_expiring(app, ctx, clock, followed):
    client = app.test_client()
    _sign_in(client, followed.receipt_code)
    token = _token(client.get("/follow-up/case").get_data(as_text=True))
    clock.advance(minutes=31)  # writing a long message
    response = client.post("/follow-up/case?lang=en", data={"csrf_token": token, "body": TEXT})
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert _carried(page) == TEXT
    assert _sent(ctx) == []
    _then_signing_in_gives_the_message_back(client, ctx, followed, page)


def _then_signing_in_gives_the_message_back(client, ctx, followed, page: str) -> None:
    # a wrong code first: the text is still carried
    wrong = "1" * 16 if followed.receipt_code != "1" * 16 else "2" * 16
    failed = client.post(
        "/follow-up?lang=en", data={"csrf_token": _token(page), "code": wrong, "body": TEXT}
    )
    assert failed.status_code == 401
    assert _carried(failed.get_data(as_text=True)) == TEXT
    signed_in = client.post(
        "/follow-up?lang=en",
        data={"csrf_token": _token(page), "code": followed.receipt_code, "body": _carried(page)},
    )
    case_page = signed_in.get_data(as_text=True)
    assert signed_in.status_code == 200  # the case page itself, not a redirect
    assert followed.case.reference in case_page
    assert "Your message was not sent yet" in case_page
    assert _box(case_page) == TEXT
    assert _sent(ctx) == []  # not sent before the person checks it
    sent = client.post(
        "/follow-up/case", data={"csrf_token": _token(case_page), "body": _box(case_page)}
    )
    assert sent.status_code == 302
    assert [messages.read_message(ctx, m) for m in _sent(ctx)] == [TEXT.strip()]


def test_a_stale_sign_in_form_asks_for_the_code_again(app):
    stale = _token(app.test_client().get("/follow-up").get_data(as_text=True))
    response = app.test_client().post(
        "/follow-up?lang=en", data={"csrf_token": stale, "code": "1234 5678 9012 3456"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The page had expired. Please enter your receipt code again." in page
    assert "1234" not in page
    assert _token(page) != stale


def test_a_message_that_grows_past_the_limit_when_kept_is_refused_in_place(app, ctx, followed):
    """U+0958 (Devanagari qa) is a composition exclusion: NFC writes it as two code points,
    so 10,000 of them pass the form's length check and are 20,000 once kept."""
    client = app.test_client()
    _sign_in(client, followed.receipt_code)
    page = client.get("/follow-up/case").get_data(as_text=True)
    body = "\u0958" * 10_000
    response = client.post(
        "/follow-up/case?lang=bn", data={"csrf_token": _token(page), "body": body}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(r'<p class="error" id="body-error" role="alert">([^<]*)</p>', page)
    assert error, page[-2000:]
    expected = Translations.load(str(LOCALES), ["bn"]).gettext(
        "Please keep it under %(max)d characters."
    ) % {"max": 10_000}
    assert html.unescape(error.group(1)) == expected
    assert _box(page) == body  # kept as typed
    assert _sent(ctx) == []


@pytest.mark.parametrize("lang", ["bn", "nl"])
def test_a_message_too_long_is_refused_in_the_readers_language(app, followed, lang):
    client = app.test_client()
    _sign_in(client, followed.receipt_code)
    page = client.get("/follow-up/case").get_data(as_text=True)
    response = client.post(
        f"/follow-up/case?lang={lang}", data={"csrf_token": _token(page), "body": "x" * 10_001}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Field cannot be longer" not in page
    expected = Translations.load(str(LOCALES), [lang]).gettext(
        "Please keep it under %(max)d characters."
    ) % {"max": 10_000}
    assert expected in page
