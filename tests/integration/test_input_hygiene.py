"""Input hygiene (issue #12, item 8): one check of a person's text for every channel
(`grievance.services.texts`). NUL and the other control characters but tab, line feed and
carriage return are refused with a clear message; a text made only of invisible
characters (zero-width spaces, direction marks) is no text. Tried through the web form,
the follow-up page, the JSON API, SMS, staff recording and the reviewer's actions."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from grievance.models import Case, Direction, Message, Stage
from grievance.services import cases, messages, timekeeping, translations
from grievance.services.actors import Actor
from grievance.services.errors import Code, InvalidInput
from intake.api import PROBLEMS
from intake.sms.texts import Text
from tests import factories
from tests.fake_twilio import FakeTwilio
from tests.integration.test_followup import _sign_in as follow_up
from tests.integration.test_followup import _token
from tests.integration.test_intake_form import _post as post_complaint
from tests.integration.test_record_complaint import form_data, secretariat_client
from tests.integration.test_record_complaint import send as record
from tests.integration.test_reviewer_workspace import _act, _client
from tests.sms_helpers import SmsLine, receipt_code_in, rendered, shared_fake, sms_line

STATEMENT = "আমাদের তিন মাসের ওভারটাইমের টাকা দেওয়া হয়নি।"
CONTROL = (
    "This text had a hidden control character that cannot be kept. We took it out: "
    "please check the text and send it again."
)
#: Looks empty: a zero-width space, direction marks, an ideographic space, a BOM.
INVISIBLE = "\u200b\u200e\u200f\u3000\ufeff"


def count(ctx, model) -> int:
    return ctx.session.scalar(select(func.count()).select_from(model)) or 0


def error_of(page: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error" role="alert">([^<]*)</p>', page)
    assert found, page
    return html.unescape(found.group(1))


# -- the web form ------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["statement", "location", "companies", "occurred"])
def test_the_complaint_form_refuses_a_nul(app, ctx, field):
    factories.make_mechanism(ctx, code="WEB")
    typed = {"statement": STATEMENT, field: "Line 4\x00"}
    response = post_complaint(app.test_client(), typed)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_of(page, field) == CONTROL
    assert "\x00" not in page
    assert "Line 4" in page  # the rest comes back, to check and send again
    assert count(ctx, Case) == 0


def test_a_statement_of_invisible_characters_is_no_statement(app, ctx):
    factories.make_mechanism(ctx, code="WEB")
    response = post_complaint(app.test_client(), {"statement": INVISIBLE})
    assert response.status_code == 422
    assert error_of(response.get_data(as_text=True), "statement") == "Tell us what happened."
    assert count(ctx, Case) == 0


# -- the JSON API ------------------------------------------------------------------------------


def _api_file(client, **fields):
    body = {"mechanism": "API", "language": "bn", "statement": STATEMENT, **fields}
    return client.post("/api/v1/complaints", json=body)


@pytest.mark.parametrize(
    ("fields", "path", "code"),
    [
        ({"statement": "Paid\x00 nothing"}, "statement", Code.INVALID_CHARACTER),
        ({"statement": INVISIBLE}, "statement", Code.REQUIRED),
        ({"site": "Gazipur\x1b[2J"}, "site", Code.INVALID_CHARACTER),
        ({"companies": ["Dhaka Knit\x00"]}, "companies", Code.INVALID_CHARACTER),
    ],
)
def test_the_api_refuses_a_control_character_or_an_invisible_statement(
    app, ctx, fields, path, code
):
    factories.make_mechanism(ctx, code="API")
    response = _api_file(app.test_client(), **fields)
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"path": path, "message": PROBLEMS[code]}]
    assert count(ctx, Case) == 0


@pytest.mark.parametrize(
    ("body", "code"), [("Hello\x00", Code.INVALID_CHARACTER), (INVISIBLE, Code.REQUIRED)]
)
def test_the_api_refuses_such_a_message(app, ctx, body, code):
    factories.make_mechanism(ctx, code="API")
    client = app.test_client()
    receipt = _api_file(client).get_json()["receipt_code"]
    response = client.post(
        "/api/v1/followup/messages", json={"receipt_code": receipt, "body": body}
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"path": "body", "message": PROBLEMS[code]}]
    assert count(ctx, Message) == 0


# -- the follow-up page ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "said"), [("Hello\x00", CONTROL), (INVISIBLE, "Write a message or add a file.")]
)
def test_the_follow_up_page_refuses_such_a_message(app, ctx, body, said):
    filed, _lead, _second = factories.staff_case(ctx)
    client = app.test_client()
    assert follow_up(client, filed.receipt_code).status_code == 302
    page = client.get("/follow-up/case?lang=en").get_data(as_text=True)
    response = client.post(
        "/follow-up/case?lang=en", data={"csrf_token": _token(page), "body": body}
    )
    assert response.status_code == 422
    assert error_of(response.get_data(as_text=True), "body") == said
    assert count(ctx, Message) == 0


# -- staff recording ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "typed", "said"),
    [
        ("statement", "Paid\x00", CONTROL),
        ("location", "Ashulia\x07", CONTROL),
        ("statement", INVISIBLE, "Tell us what happened."),
    ],
)
def test_staff_recording_refuses_them_too(app, ctx, clock, field, typed, said):
    mechanism = factories.make_mechanism(ctx, "RCH")
    _user, client = secretariat_client(app, ctx, clock, mechanism)
    response = record(client, form_data(mechanism, **{field: typed}))
    assert response.status_code == 422
    assert error_of(response.get_data(as_text=True), field) == said
    assert count(ctx, Case) == 0


# -- the reviewer's actions, and every reason a service keeps ---------------------------------


def test_a_reviewer_message_with_a_nul_is_refused_on_its_field(app, ctx, clock):
    filed, lead, _second = factories.staff_case(ctx)
    client = _client(app, ctx, clock, lead)
    response = _act(client, filed.case, "messages", "message", {"body": "Call us\x00"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert CONTROL in page
    assert "\x00" not in page
    assert count(ctx, Message) == 0


def _reasons(ctx) -> Iterator[tuple[str, object]]:
    filed, lead, _second = factories.staff_case(ctx)
    case = cases.transition(ctx, filed.case, Stage.ACKNOWLEDGED, Actor.for_user(lead))
    actor = Actor.for_user(lead)
    yield "move", lambda text: cases.decide(ctx, case, Stage.ADMISSIBILITY, actor, text)
    yield "pause", lambda text: timekeeping.pause_clock(ctx, case, actor, text)
    yield "recuse", lambda text: cases.recuse(ctx, case, actor, text)
    yield "translate", lambda text: translations.add_translation(ctx, case, actor, "en", text)
    yield (
        "message",
        lambda text: messages.add_message(ctx, case, actor, text, case.channel),
    )


def test_every_text_a_service_keeps_refuses_a_nul(ctx):
    """A reason, a translation or a message with NUL was kept (and PostgreSQL's JSON
    cannot hold it: the case log's payload failed with a server error)."""
    for name, call in _reasons(ctx):
        with pytest.raises(InvalidInput) as raised:
            call("Because\x00")  # type: ignore[operator]
        assert set(raised.value.errors.values()) == {Code.INVALID_CHARACTER}, name


# -- SMS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with shared_fake() as running:
        yield running


@pytest.fixture
def line(app, ctx, session, settings, fake) -> Iterator[SmsLine]:
    factories.make_mechanism(ctx)
    factories.make_reviewer(ctx, languages=["bn"])
    factories.make_reviewer(ctx, languages=["bn"])
    session.commit()
    with sms_line(app, ctx, settings, fake=fake) as running:
        yield running


def test_sms_asks_again_for_a_message_with_a_control_character(line, ctx):
    phone = line.phone("+8801711000066")
    phone.send("আমাদের কারখানায় তিন মাস ধরে বেতন দেওয়া হয়নি", "১", "২")
    # an invisible message is no part of the statement, and gets no answer
    assert phone.send(INVISIBLE) == []
    assert phone.send("বেতন\x00 দেওয়া হয়নি") == [rendered(Text.UNREADABLE, "bn")]
    phone.send("ওভারটাইমের টাকাও না", "শেষ", "গাজীপুর")
    (filed,) = phone.send("ঢাকা গার্মেন্টস")
    assert receipt_code_in(filed)
    case = ctx.session.scalars(select(Case)).one()
    statement = ctx.vault.open(case.id, "statement", case.statement_enc)
    assert "\x00" not in statement
    assert "\u200b" not in statement
    assert "ওভারটাইমের টাকাও না" in statement
    # after filing: the same for a message to the reviewers
    assert phone.send("কেউ কি\x00 আছেন?") == [rendered(Text.UNREADABLE, "bn")]
    assert phone.send(INVISIBLE) == []
    written = ctx.session.scalars(
        select(Message).where(Message.direction == Direction.FROM_COMPLAINANT)
    ).all()
    assert written == []


# -- bytes that are no UTF-8 ---------------------------------------------------------------------

UNREADABLE = "We could not read what was sent"


def _form_token(client, path: str) -> str:
    return _token(client.get(path).get_data(as_text=True))


def _urlencoded(client, path: str, body: str):
    return client.post(
        path, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )


def test_the_complaint_form_refuses_percent_escapes_that_are_no_utf8(app, ctx):
    """Werkzeug kept `%FF%FE` literally, and the case was filed with it; the API refuses
    those bytes. Now both do."""
    factories.make_mechanism(ctx, code="WEB")
    client = app.test_client()
    token = _form_token(client, "/complaint")
    fields = "mechanism=WEB&urgent=no&kind=affected&anonymity=anonymous&contact=none"
    response = _urlencoded(
        client, "/complaint?lang=en", f"csrf_token={token}&{fields}&statement=Paid%FF%FE"
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert UNREADABLE in page
    assert "%FF" not in page
    assert count(ctx, Case) == 0
    # escapes of real UTF-8 are read as ever (ক is %E0%A6%95)
    filed = _urlencoded(
        client, "/complaint?lang=en", f"csrf_token={token}&{fields}&statement=%E0%A6%95"
    )
    assert filed.status_code == 303, filed.get_data(as_text=True)  # to the receipt
    assert count(ctx, Case) == 1


def test_a_multipart_field_that_is_no_utf8_is_refused(app, ctx):
    """A multipart field's bytes were decoded with replacement characters."""
    factories.make_mechanism(ctx, code="WEB")
    client = app.test_client()
    token = _form_token(client, "/complaint")
    boundary = "b0undary"
    fields = {
        "csrf_token": token.encode(),
        "mechanism": b"WEB",
        "statement": b"Paid \xff\xfe nothing",
    }
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value
            + b"\r\n"
            for name, value in fields.items()
        )
        + f"--{boundary}--\r\n".encode()
    )
    response = client.post(
        "/complaint?lang=en",
        follow_redirects=True,
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 400
    assert UNREADABLE in response.get_data(as_text=True)
    assert count(ctx, Case) == 0


def test_the_follow_up_and_the_staff_pages_refuse_them_too(app, ctx, clock):
    filed, _lead, _second = factories.staff_case(ctx)
    client = app.test_client()
    assert follow_up(client, filed.receipt_code).status_code == 302
    token = _form_token(client, "/follow-up/case")
    response = _urlencoded(client, "/follow-up/case?lang=en", f"csrf_token={token}&body=%C3%28")
    assert response.status_code == 400
    assert UNREADABLE in response.get_data(as_text=True)
    assert count(ctx, Message) == 0

    mechanism = factories.make_mechanism(ctx, "RCU")
    _user, staff = secretariat_client(app, ctx, clock, mechanism)
    token = _form_token(staff, "/staff/record-complaint")
    response = _urlencoded(
        staff, "/staff/record-complaint?lang=en", f"csrf_token={token}&statement=%80"
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert UNREADABLE in page
    assert "/staff" in page  # the staff surface's own error page
