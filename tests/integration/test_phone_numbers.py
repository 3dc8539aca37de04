"""A phone number through every channel: typed on the web form, sent to the JSON API or
recorded by staff, with its country code or in the national format of the country the
complaint is read in (the known site's, the complaint's, the mechanism's policy's), it
is stored in E.164 and found by the same keyed hash (`Complainant.phone_lookup`) as the
SMS that comes from it. What is not a number is refused, in the reader's language on a
page, at `contact.phone` in the API."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from babel.support import Translations
from sqlalchemy import select

from grievance import LOCALES
from grievance.models import Anonymity, Case, Channel, Complainant, ContactChannel, Message
from grievance.services import contacts, messages
from grievance.services.actors import SYSTEM, Actor
from grievance.services.filing import ComplainantDetails, file_case
from intake.sms.texts import Text
from intake.sms.twilio import parse_address
from tests import factories
from tests.fake_twilio import FakeTwilio
from tests.integration.test_record_complaint import form_data, secretariat_client, send
from tests.sms_helpers import OUR_NUMBER, SmsLine, rendered, shared_fake, sms_line

BRITISH = "+447700900123"
BANGLADESHI = "+8801711000001"
#: How a British number is typed, in a mechanism whose country is Great Britain.
BRITISH_TYPED = ["+44 (0)7700 900123", "07700 900123", "+447700900123", "0044 7700 900123"]
RECEIPT = re.compile(r'class="receipt-code"[^>]*><strong>([0-9 ]+)</strong>')
#: What the forms say (`grievance.http.forms`), in English: the catalogs translate them.
PHONE_NEEDS_COUNTRY_CODE = "Give your phone number with its country code, starting with +."
PHONE_UNREADABLE = "We cannot read this phone number. Check its digits and its country code."


def sms_handle(ctx, sender: str) -> str:
    """The keyed hash an SMS from `sender` is looked up by (as the webhook reads it)."""
    parsed = parse_address(sender)
    assert parsed is not None
    return contacts.phone_handle(ctx, parsed[1])


def complainant_of(ctx, reference: str) -> Complainant:
    case = ctx.session.scalars(select(Case).where(Case.reference == reference)).one()
    (complainant,) = case.complainants
    return complainant


def stored_number(ctx, complainant: Complainant) -> str:
    prefix = f"complainant.{complainant.id}"
    return ctx.vault.open(complainant.case_id, f"{prefix}.contact", complainant.contact_enc)


def translated(message: str, language: str) -> str:
    said = Translations.load(str(LOCALES), [language]).gettext(message)
    assert said != message or language == "en", f"not translated into {language}"
    return said


# -- the filing service --------------------------------------------------------------------


@pytest.mark.parametrize("typed", BRITISH_TYPED)
def test_a_typed_number_has_the_lookup_of_the_sms_it_sends(ctx, typed):
    mechanism = factories.make_mechanism(ctx, "GBM", overrides={"country": "GB"})
    person = ComplainantDetails(
        anonymity=Anonymity.CONFIDENTIAL, contact_channel=ContactChannel.SMS, contact_address=typed
    )
    filed = file_case(ctx, factories.filing(mechanism, complainant=person, country=None), SYSTEM)
    assert filed.complainant.phone_lookup == sms_handle(ctx, BRITISH)
    assert filed.complainant.phone_lookup == sms_handle(ctx, "whatsapp:" + BRITISH)
    assert stored_number(ctx, filed.complainant) == BRITISH


def test_a_bangladeshi_national_number_is_the_number_an_sms_comes_from(ctx):
    mechanism = factories.make_mechanism(ctx, "GBM", overrides={"country": "GB"})
    person = ComplainantDetails(
        anonymity=Anonymity.OPEN,
        contact_channel=ContactChannel.WHATSAPP,
        contact_address="01711-000001",
    )
    filed = file_case(ctx, factories.filing(mechanism, complainant=person, country="BD"), SYSTEM)
    assert filed.complainant.phone_lookup == sms_handle(ctx, "whatsapp:" + BANGLADESHI)
    assert stored_number(ctx, filed.complainant) == BANGLADESHI


# -- the web form --------------------------------------------------------------------------


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "no CSRF token on the form"
    return match.group(1)


def _post_form(client, lang: str = "en", **data: str):
    page = client.get(f"/complaint?lang={lang}").get_data(as_text=True)
    form = {
        "csrf_token": _token(page),
        "mechanism": "WEB",
        "statement": "Our overtime has not been paid for three months.",
        "urgent": "no",
        "kind": "affected",
        "anonymity": "confidential",
        "contact": "sms",
        **data,
    }
    return client.post(f"/complaint?lang={lang}", follow_redirects=True, data=form)


@pytest.mark.parametrize(
    ("mechanism_country", "typed", "country", "number"),
    [
        ("GB", "07700 900123", "", BRITISH),
        ("GB", "+44 (0)7700 900123", "BD", BRITISH),
        ("GB", "01711-000001", "BD", BANGLADESHI),  # the complaint's country first
        (None, "০১৭১১-০০০০০১", "BD", BANGLADESHI),  # typed in Bengali digits
    ],
)
def test_the_web_form_takes_a_national_number_where_the_complaint_is(
    app, ctx, mechanism_country, typed, country, number
):
    overrides = {"country": mechanism_country} if mechanism_country else None
    factories.make_mechanism(ctx, "WEB", overrides=overrides)
    response = _post_form(app.test_client(), phone=typed, country=country)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert RECEIPT.search(page)
    complainant = ctx.session.scalars(select(Complainant)).one()
    assert complainant.phone_lookup == sms_handle(ctx, number)
    assert stored_number(ctx, complainant) == number


@pytest.mark.parametrize(
    ("mechanism_country", "typed", "message"),
    [
        (None, "07700 900123", PHONE_NEEDS_COUNTRY_CODE),  # no country to read it in
        (None, "", PHONE_NEEDS_COUNTRY_CODE),
        ("GB", "07700 9001", PHONE_UNREADABLE),
        ("GB", "07700 900123 45", PHONE_UNREADABLE),
        ("GB", "+999 7700 900123", PHONE_UNREADABLE),
        ("GB", "call me", PHONE_UNREADABLE),
    ],
)
@pytest.mark.parametrize("lang", ["en", "bn", "ar"])
def test_the_web_form_says_in_the_readers_language_what_is_wrong_with_a_number(
    app, ctx, mechanism_country, typed, message, lang
):
    overrides = {"country": mechanism_country} if mechanism_country else None
    factories.make_mechanism(ctx, "WEB", overrides=overrides)
    response = _post_form(app.test_client(), lang=lang, phone=typed)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert translated(message, lang) in page
    assert ctx.session.scalar(select(Complainant.id)) is None


# -- the JSON API --------------------------------------------------------------------------


def _file(client, **extra):
    body = {"mechanism": "API", "language": "en", "statement": "Unpaid overtime.", **extra}
    return client.post("/api/v1/complaints", json=body)


@pytest.mark.parametrize(
    ("typed", "country", "number"),
    [
        ("07700 900123", None, BRITISH),
        ("+44 (0)7700 900123", None, BRITISH),
        ("01711-000001", "BD", BANGLADESHI),
    ],
)
def test_the_api_takes_a_national_number_where_the_complaint_is(app, ctx, typed, country, number):
    factories.make_mechanism(ctx, "API", overrides={"country": "GB"})
    extra = {"country": country} if country else {}
    contact = {"channel": "whatsapp", "phone": typed}
    response = _file(app.test_client(), anonymity="confidential", contact=contact, **extra)
    assert response.status_code == 201, response.get_json()
    complainant = complainant_of(ctx, response.get_json()["reference"])
    assert complainant.phone_lookup == sms_handle(ctx, "whatsapp:" + number)
    assert stored_number(ctx, complainant) == number


@pytest.mark.parametrize(
    ("overrides", "typed", "message"),
    [
        (None, "07700 900123", "Give a phone number with its country code."),
        (
            {"country": "GB"},
            "07700 900123 45",
            "This number has too few or too many digits for its country.",
        ),
        ({"country": "GB"}, "07700 9001", "No number of its country is written like this."),
        ({"country": "GB"}, "+999 7700 900123", "No country has this country code."),
        (
            {"country": "GB"},
            "tel:+447700900123;ext=2",
            "Give a number without an extension: a text cannot reach one.",
        ),
    ],
)
def test_the_api_refuses_what_is_not_a_number_at_contact_phone(app, ctx, overrides, typed, message):
    factories.make_mechanism(ctx, "API", overrides=overrides)
    contact = {"channel": "sms", "phone": typed}
    response = _file(app.test_client(), anonymity="confidential", contact=contact)
    assert response.status_code == 422
    assert response.get_json() == {"errors": [{"path": "contact.phone", "message": message}]}
    assert ctx.session.scalar(select(Case.id)) is None


# -- staff recording -----------------------------------------------------------------------


def test_staff_record_a_national_number_of_the_sites_country(app, ctx, clock):
    mechanism = factories.make_mechanism(ctx, "RCP", overrides={"country": "GB"})
    site = factories.make_site(ctx, factories.make_company(ctx, mechanism), country="BD")
    _, client = secretariat_client(app, ctx, clock, mechanism)
    data = form_data(mechanism, site=str(site.id), country="", phone="01711-000001")
    response = send(client, data)
    assert response.status_code == 200, response.get_data(as_text=True)
    (case,) = ctx.session.scalars(select(Case).where(Case.mechanism_id == mechanism.id))
    (complainant,) = case.complainants
    assert complainant.phone_lookup == sms_handle(ctx, BANGLADESHI)
    assert stored_number(ctx, complainant) == BANGLADESHI


def test_staff_record_a_national_number_of_the_mechanisms_country(app, ctx, clock):
    mechanism = factories.make_mechanism(ctx, "RCP", overrides={"country": "GB"})
    _, client = secretariat_client(app, ctx, clock, mechanism)
    response = send(client, form_data(mechanism, country="", phone="07700 900123"))
    assert response.status_code == 200, response.get_data(as_text=True)
    (case,) = ctx.session.scalars(select(Case).where(Case.mechanism_id == mechanism.id))
    assert case.complainants[0].phone_lookup == sms_handle(ctx, BRITISH)


@pytest.mark.parametrize("lang", ["en", "bn"])
def test_staff_are_told_in_their_language_when_a_number_cannot_be_read(app, ctx, clock, lang):
    mechanism = factories.make_mechanism(ctx, "RCP")
    _, client = secretariat_client(app, ctx, clock, mechanism)
    data = form_data(mechanism, country="BD", phone="01711")  # too short for Bangladesh
    response = send(client, data, query=f"?lang={lang}")
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert translated(PHONE_UNREADABLE, lang) in page
    assert ctx.session.scalar(select(Case.id).where(Case.mechanism_id == mechanism.id)) is None


# -- SMS: the number a complaint gave is the number that texts ------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    with shared_fake() as running:
        yield running


@pytest.fixture
def line(app, ctx, session, settings, fake) -> Iterator[SmsLine]:
    session.commit()
    with sms_line(app, ctx, settings, fake=fake) as running:
        yield running


def test_a_number_typed_in_its_national_format_is_the_phone_that_texts(app, ctx, session, line):
    """Filed on the web with '07700 900123' in a British mechanism: the reviewers' reply
    reaches +447700900123, and the receipt code texted from there is no new phone."""
    factories.make_mechanism(ctx, "WEB", overrides={"country": "GB"})
    lead = factories.make_reviewer(ctx, languages=["en"])
    second = factories.make_reviewer(ctx, languages=["en"])
    page = _post_form(app.test_client(), phone="07700 900123").get_data(as_text=True)
    shown = RECEIPT.search(page)
    assert shown, page
    code = shown.group(1)
    complainant = ctx.session.scalars(select(Complainant)).one()
    case = ctx.session.get_one(Case, complainant.case_id)
    factories.put_reviewers(ctx, case, lead, second)
    session.commit()

    messages.add_message(ctx, case, Actor.for_user(lead), "We are looking into it.", Channel.WEB)
    session.commit()
    line.work()
    sent = line.fake.messages[-1]
    assert (sent["To"], sent["From"]) == (BRITISH, OUR_NUMBER)

    phone = line.phone(BRITISH)
    assert phone.received() == [f"{case.reference}: We are looking into it."]
    assert phone.send(code) == [rendered(Text.ATTACHED, "en", reference=case.reference)]
    assert factories.events_of(session, case, "contact_changed") == []  # the same phone
    assert phone.send("Thank you.") == [rendered(Text.MESSAGE_SENT, "en")]
    last = session.scalars(
        select(Message).where(Message.case_id == case.id).order_by(Message.id.desc())
    ).first()
    assert last is not None
    assert messages.read_message(ctx, last) == "Thank you."
