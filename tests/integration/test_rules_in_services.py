"""Every rule of a complaint is the filing service's (DESIGN invariant 8, "channels are
thin"): a channel may check a rule first, for a message next to the answer, but none can
bypass it. For each rule that used to live in one channel only, every channel that can
break it is tried here: the web form, the JSON API, staff recording and SMS. Each refuses
with a clear message in its own words (the service gives a code; `grievance.http.refusals`,
`intake.api.PROBLEMS`, the SMS texts), and nothing is filed.

- only an open complaint shares the complainant's identity with the companies (the web
  form checked it; the API took anonymous + share);
- the day a complaint arrived is not in the future (the staff recording view checked it);
- the lengths of the texts (the form and the API checked what was typed; SMS answers were
  not checked; now the service checks what is kept, after NFC);
- a country is a real country (the form offered only those; the API took any two capitals).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from babel.support import Translations
from sqlalchemy import func, select

from grievance import LOCALES
from grievance.http.forms import ComplaintForm
from grievance.models import Case, Complainant
from intake.api import PROBLEMS
from intake.sms.texts import Text
from tests import factories
from tests.fake_twilio import FakeTwilio
from tests.integration.test_intake_form import _post as post_complaint
from tests.integration.test_record_complaint import STATEMENT as RECORDED
from tests.integration.test_record_complaint import form_data, secretariat_client
from tests.integration.test_record_complaint import send as record
from tests.sms_helpers import SmsLine, receipt_code_in, rendered, shared_fake, sms_line

STATEMENT = "আমাদের তিন মাসের ওভারটাইমের টাকা দেওয়া হয়নি। লাইন ৭।"
#: Devanagari qa: one code point as typed, two once kept (NFC decomposes it), so a form that
#: counts what was typed lets 500 of them through, and the service, counting what is kept
#: (1,000), refuses them.
QA = "\u0958"
SHARE_ONLY_OPEN = "Only an open complaint can share who you are with the companies."
TOO_LONG_500 = "Please keep it under 500 characters."


def cases(ctx) -> int:
    return ctx.session.scalar(select(func.count()).select_from(Case)) or 0


def error_of(page: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error" role="alert">([^<]*)</p>', page)
    assert found, page
    return html.unescape(found.group(1))


@pytest.fixture
def without_form_checks(monkeypatch):
    """The complaint form's own checks of these rules, switched off: what is left is the
    service's."""
    monkeypatch.setattr(ComplaintForm, "validate_share_identity", lambda self, field: None)


# -- only an open complaint shares the identity ------------------------------------------------


@pytest.mark.parametrize("form_checks", [True, False], ids=["form", "service"])
@pytest.mark.parametrize("anonymity", ["anonymous", "confidential"])
def test_web_form_shares_the_identity_only_for_an_open_complaint(
    app, ctx, request, form_checks, anonymity
):
    factories.make_mechanism(ctx, code="WEB")
    if not form_checks:
        request.getfixturevalue("without_form_checks")
    typed = {"statement": STATEMENT, "anonymity": anonymity, "share_identity": "y"}
    if anonymity == "confidential":
        typed["name"] = "Rahela"
    response = post_complaint(app.test_client(), typed)
    assert response.status_code == 422
    assert SHARE_ONLY_OPEN in html.unescape(response.get_data(as_text=True))
    assert cases(ctx) == 0
    opened = post_complaint(app.test_client(), {**typed, "anonymity": "open"})
    assert opened.status_code == 200
    assert cases(ctx) == 1


def test_web_form_says_the_services_refusal_in_the_readers_language(app, ctx, without_form_checks):
    factories.make_mechanism(ctx, code="WEB")
    typed = {"statement": STATEMENT, "share_identity": "y"}
    page = post_complaint(app.test_client(), typed, lang="bn").get_data(as_text=True)
    bengali = Translations.load(str(LOCALES), ["bn"]).gettext(SHARE_ONLY_OPEN)
    assert bengali != SHARE_ONLY_OPEN
    assert bengali in html.unescape(page)
    assert cases(ctx) == 0


@pytest.mark.parametrize("anonymity", ["anonymous", "confidential"])
def test_api_shares_the_identity_only_for_an_open_complaint(app, ctx, anonymity):
    factories.make_mechanism(ctx, code="API")
    body = {
        "mechanism": "API",
        "language": "bn",
        "statement": STATEMENT,
        "anonymity": anonymity,
        "consents": {"share_identity_with_company": True},
    }
    response = app.test_client().post("/api/v1/complaints", json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {"path": "consents.share_identity_with_company", "message": PROBLEMS["share_requires_open"]}
    ]
    assert cases(ctx) == 0
    body["anonymity"] = "open"
    assert app.test_client().post("/api/v1/complaints", json=body).status_code == 201
    person = ctx.session.scalars(select(Complainant)).one()
    assert {c.purpose: c.granted for c in person.consents}["share_identity_with_company"]


@pytest.mark.parametrize("form_checks", [True, False], ids=["form", "service"])
def test_staff_recording_shares_the_identity_only_for_an_open_complaint(
    app, ctx, clock, request, form_checks
):
    mechanism = factories.make_mechanism(ctx, "RSH")
    _user, client = secretariat_client(app, ctx, clock, mechanism)
    if not form_checks:
        request.getfixturevalue("without_form_checks")
    response = record(client, form_data(mechanism, share_identity="y"))  # confidential
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert SHARE_ONLY_OPEN in page
    assert RECORDED in page  # nothing typed is lost
    assert cases(ctx) == 0


# -- the day a complaint arrived ------------------------------------------------------------------


def test_staff_recording_refuses_a_day_that_has_not_come_yet(app, ctx, clock):
    """The view no longer checks it: the filing service refuses `received_at` in the future
    and the form shows it on the day's field."""
    mechanism = factories.make_mechanism(ctx, "RFU")
    _user, client = secretariat_client(app, ctx, clock, mechanism)
    response = record(client, form_data(mechanism, received_on="2026-03-03"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_of(page, "received_on") == (
        "This day has not come yet: give the day the complaint arrived."
    )
    assert cases(ctx) == 0
    today = record(client, form_data(mechanism, received_on="2026-03-02"))
    assert today.status_code == 200
    assert cases(ctx) == 1


# -- the lengths of the texts, as kept ------------------------------------------------------------


def test_web_form_refuses_a_text_that_is_too_long_once_kept(app, ctx):
    factories.make_mechanism(ctx, code="WEB")
    typed = {"statement": STATEMENT, "location": QA * 500}  # 500 typed: the form lets it by
    response = post_complaint(app.test_client(), typed)
    assert response.status_code == 422
    assert error_of(response.get_data(as_text=True), "location") == TOO_LONG_500
    assert cases(ctx) == 0


def test_staff_recording_refuses_a_text_that_is_too_long_once_kept(app, ctx, clock):
    mechanism = factories.make_mechanism(ctx, "RLE")
    _user, client = secretariat_client(app, ctx, clock, mechanism)
    response = record(client, form_data(mechanism, companies=QA * 500))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert error_of(page, "companies") == TOO_LONG_500
    assert RECORDED in html.unescape(page)
    assert cases(ctx) == 0


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        ({"site": QA * 500}, "site"),
        ({"companies": ["ক" * 300, "খ" * 300]}, "companies"),  # 601 once joined
    ],
)
def test_api_refuses_a_text_that_is_too_long_once_kept(app, ctx, extra, path):
    factories.make_mechanism(ctx, code="API")
    body = {"mechanism": "API", "language": "bn", "statement": STATEMENT, **extra}
    response = app.test_client().post("/api/v1/complaints", json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"path": path, "message": "At most 500 characters."}]
    assert cases(ctx) == 0


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


def test_sms_asks_again_for_an_answer_too_long_to_file(line, ctx):
    """The dialogue takes any answer; the filing service refuses a place of more than 500
    characters. The SMS says so in the person's language, asks for the place again and
    goes on: nothing is filed until the answer fits, and nothing else is asked again."""
    phone = line.phone("+8801711000077")
    phone.send("আমাদের কারখানায় তিন মাস ধরে বেতন দেওয়া হয়নি", "১", "২", "শেষ")
    assert phone.send("গ" * 501) == [rendered(Text.COMPANY, "bn")]
    assert phone.send("ঢাকা গার্মেন্টস") == [
        rendered(Text.TOO_LONG, "bn", max="500"),
        rendered(Text.LOCATION, "bn"),
    ]
    assert cases(ctx) == 0
    assert phone.send("গাজীপুর") == [rendered(Text.COMPANY, "bn")]
    (filed,) = phone.send("ঢাকা গার্মেন্টস")
    assert receipt_code_in(filed)
    case = ctx.session.scalars(select(Case)).one()
    assert ctx.vault.open(case.id, "location", case.location_enc) == "গাজীপুর"


# -- a real country -----------------------------------------------------------------------------


@pytest.mark.parametrize("country", ["ZZ", "XX", "EU"])
def test_api_takes_only_a_real_country(app, ctx, country):
    factories.make_mechanism(ctx, code="API")
    body = {"mechanism": "API", "language": "bn", "statement": STATEMENT, "country": country}
    response = app.test_client().post("/api/v1/complaints", json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"] == [{"path": "country", "message": PROBLEMS["unknown"]}]
    assert cases(ctx) == 0


@pytest.mark.parametrize("country", ["ZZ", "EU"])
def test_web_form_and_staff_recording_take_only_a_real_country(app, ctx, clock, country):
    factories.make_mechanism(ctx, code="WEB")
    web = post_complaint(app.test_client(), {"statement": STATEMENT, "country": country})
    assert web.status_code == 422
    assert error_of(web.get_data(as_text=True), "country") == "Not a valid choice."
    mechanism = factories.make_mechanism(ctx, "RCO")
    _user, client = secretariat_client(app, ctx, clock, mechanism)
    recorded = record(client, form_data(mechanism, country=country))
    assert recorded.status_code == 422
    assert error_of(recorded.get_data(as_text=True), "country") == "Not a valid choice."
    assert cases(ctx) == 0
