"""Filing a case: numbering, receipt codes, encryption at rest, every code point kept,
validation that writes nothing, the first event and deadlines, phone lookups, consents."""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from grievance.crypto.keyring import Keyring, Purpose
from grievance.crypto.secrets import (
    format_receipt_code,
    normalise_receipt_code,
    receipt_lookup,
)
from grievance.crypto.vault import Vault
from grievance.models import (
    Anonymity,
    Base,
    CaseEvent,
    Channel,
    Complainant,
    ComplainantKind,
    Consent,
    ContactChannel,
    Deadline,
    DeadlineState,
    ReceiptScheme,
    Role,
    Stage,
)
from grievance.services import filing as filing_service
from grievance.services import involvement
from grievance.services.actors import SYSTEM, Actor
from grievance.services.errors import Code, InvalidInput, NotAllowed
from grievance.services.filing import ComplainantDetails, file_case, find_by_receipt
from tests.conftest import START
from tests.factories import (
    filing,
    make_company,
    make_mechanism,
    make_reviewer,
    make_site,
    make_user,
    new_case,
    table_counts,
)
from tests.texts_rules import TEXTS, kept, refused

BENGALI_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")


def file(ctx, mechanism, actor: Actor = SYSTEM, **overrides):
    return file_case(ctx, filing(mechanism, **overrides), actor)


def raw_values(session) -> Iterator[tuple[str, str, object]]:
    """Every value of every row of every table, as the database returns it to plain SQL."""
    for table in Base.metadata.sorted_tables:
        for row in session.execute(text(f'SELECT * FROM "{table.name}"')).mappings():
            for column, value in row.items():
                yield table.name, column, value


def stored_in(session, needle: str) -> list[str]:
    """The columns whose raw value contains `needle` (as text, UTF-8 bytes or in JSON)."""
    found = []
    encoded = needle.encode()
    for table, column, value in raw_values(session):
        if value is None:
            continue
        if isinstance(value, memoryview):
            value = bytes(value)
        if isinstance(value, bytes):
            if encoded in value:
                found.append(f"{table}.{column}")
            continue
        if isinstance(value, str):
            forms = [value]
            with contextlib.suppress(ValueError):  # JSON as text may escape non-ASCII
                forms.append(json.dumps(json.loads(value), ensure_ascii=False))
        else:
            forms = [json.dumps(value, ensure_ascii=False, default=str)]
        if any(needle in form for form in forms):
            found.append(f"{table}.{column}")
    return found


# -- references -----------------------------------------------------------------------


def test_references_are_numbered_per_mechanism_and_year(ctx, clock):
    tex = make_mechanism(ctx, "TEX")
    assert file(ctx, tex).case.reference == "TEX-2026-00001"
    assert file(ctx, tex).case.reference == "TEX-2026-00002"
    other = make_mechanism(ctx, "AGR")
    assert file(ctx, other).case.reference == "AGR-2026-00001"
    assert file(ctx, tex).case.reference == "TEX-2026-00003"

    clock.set(datetime(2027, 1, 1, 0, 30, tzinfo=UTC))
    assert file(ctx, tex).case.reference == "TEX-2027-00001"
    assert file(ctx, other).case.reference == "AGR-2027-00001"
    # A letter received in the old year is numbered in it.
    letter = file(
        ctx,
        tex,
        channel=Channel.LETTER,
        received_at=datetime(2026, 12, 30, 14, 0, tzinfo=UTC),
    )
    assert letter.case.reference == "TEX-2026-00004"
    assert file(ctx, tex).case.reference == "TEX-2027-00002"


def test_the_slow_parts_of_a_filing_come_before_its_reference_number(ctx, monkeypatch):
    """The mechanism's reference counter stays locked from `next_reference` to the commit,
    so filings in one mechanism wait for each other that long: the receipt code's Argon2id
    hash (the floor of a filing) and the reviewers' loads are read before it, once."""
    tex = make_mechanism(ctx, "TEX")
    make_reviewer(ctx, languages=["bn"])
    make_reviewer(ctx, languages=["bn"])
    calls: list[str] = []

    def spy(module, name):
        original = getattr(module, name)

        def called(*args, **kwargs):
            calls.append(name)
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, called)

    spy(filing_service.receipts, "fresh_receipt")
    spy(filing_service.routing, "candidates")
    spy(filing_service, "next_reference")
    filed = file(ctx, tex)
    assert calls == ["fresh_receipt", "candidates", "next_reference"]
    assert len(filed.case.assignments) == 2  # routed with the candidates read before


# -- receipt codes --------------------------------------------------------------------


def test_the_receipt_code_is_sixteen_digits_and_stored_nowhere(ctx):
    mechanism = make_mechanism(ctx, "TEX")
    filed = file(ctx, mechanism)
    code = filed.receipt_code
    assert re.fullmatch(r"[0-9]{16}", code)
    assert filed.complainant.receipt_lookup != code
    scheme = ctx.session.get(ReceiptScheme, filed.complainant.receipt_scheme_version)
    pepper = ctx.keyring.key(Purpose.RECEIPT, scheme.pepper_version)
    assert filed.complainant.receipt_lookup == receipt_lookup(code, pepper, scheme.salt, ctx.kdf)
    ctx.session.flush()
    row = ctx.session.execute(
        text("SELECT * FROM complainant WHERE id = :id"), {"id": filed.complainant.id}
    ).mappings()
    for column, value in row.one().items():
        assert code not in str(value), f"complainant.{column} holds the receipt code"
    assert stored_in(ctx.session, code) == []
    assert stored_in(ctx.session, format_receipt_code(code)) == []
    # the scan does find what is stored in clear (it is not blind)
    assert stored_in(ctx.session, filed.complainant.receipt_lookup) == [
        "complainant.receipt_lookup"
    ]


def test_receipt_codes_differ_between_filings(ctx):
    mechanism = make_mechanism(ctx, "TEX")
    codes = {file(ctx, mechanism).receipt_code for _ in range(3)}
    assert len(codes) == 3


def test_find_by_receipt_finds_the_complainant_however_the_code_is_typed(ctx):
    mechanism = make_mechanism(ctx, "TEX")
    first, second = file(ctx, mechanism), file(ctx, mechanism)
    code = first.receipt_code
    typed = [
        code,
        format_receipt_code(code),
        "-".join(code[i : i + 4] for i in range(0, 16, 4)),
        f"  {code[:8]} - {code[8:]}  ",
        code.translate(BENGALI_DIGITS),
        format_receipt_code(code).translate(BENGALI_DIGITS),
    ]
    for entry in typed:
        normalised = normalise_receipt_code(entry)
        assert normalised == code, entry
        assert find_by_receipt(ctx, mechanism, normalised) == first.complainant, entry
    assert find_by_receipt(ctx, mechanism, second.receipt_code) == second.complainant
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert find_by_receipt(ctx, mechanism, wrong) is None
    # the code is a case of this mechanism: it opens nothing in another
    assert find_by_receipt(ctx, make_mechanism(ctx, "AGR"), code) is None


# -- encryption at rest ---------------------------------------------------------------

STATEMENT = "Overtime unpaid for three months — আমাদের ওভারটাইমের টাকা দেওয়া হয়নি।"
IDENTITY = {
    "name": "Rahima Begum রহিমা",
    "details": "Sewing operator on line 7 since 2019",
    "represents": "Garment Workers Union of Ashulia",
}
CASE_TEXTS = {
    "location": "Ashulia, Savar, near the Baipayl bus stand",
    "companies": "Dhaka Knitwear Limited",
    "occurred": "From December to February",
}
PHONE = "+880 1711-000001"


def _confidential_person(**overrides) -> ComplainantDetails:
    values = {
        "anonymity": Anonymity.CONFIDENTIAL,
        "kind": ComplainantKind.UNION,
        "contact_channel": ContactChannel.SMS,
        "contact_address": PHONE,
        **IDENTITY,
    }
    values.update(overrides)
    return ComplainantDetails(**values)


def test_statement_and_identity_are_stored_encrypted(ctx):
    mechanism = make_mechanism(ctx, "TEX")
    filed = file(
        ctx, mechanism, statement=STATEMENT, complainant=_confidential_person(), **CASE_TEXTS
    )
    # a non-ASCII value that is meant to be stored in clear, inside JSON: the scan sees it
    company = make_company(ctx, mechanism, name="ঢাকা Knit কোম্পানি")
    involvement.add_company(ctx, filed.case, company, SYSTEM)
    ctx.session.flush()
    assert "case_event.payload" in stored_in(ctx.session, "ঢাকা Knit কোম্পানি")

    secrets = [STATEMENT, *IDENTITY.values(), *CASE_TEXTS.values()]
    secrets += [PHONE, "+8801711000001", "8801711000001", "1711-000001", "1711000001"]
    secrets += ["আমাদের ওভারটাইমের", "Rahima", "রহিমা"]
    for secret in secrets:
        assert stored_in(ctx.session, secret) == [], secret

    case, person, vault = filed.case, filed.complainant, ctx.vault
    assert case.statement_enc
    assert person.name_enc
    assert person.contact_enc
    assert vault.open(case.id, "statement", case.statement_enc) == STATEMENT
    for name, value in CASE_TEXTS.items():
        assert vault.open(case.id, name, getattr(case, f"{name}_enc")) == value
    prefix = f"complainant.{person.id}"
    for name, value in IDENTITY.items():
        assert vault.open(case.id, f"{prefix}.{name}", getattr(person, f"{name}_enc")) == value
    assert vault.open(case.id, f"{prefix}.contact", person.contact_enc) == "+8801711000001"


def test_an_anonymous_filing_stores_no_identity(ctx):
    filed = file(ctx, make_mechanism(ctx, "TEX"))
    person = filed.complainant
    assert (person.name_enc, person.details_enc, person.represents_enc) == (None, None, None)
    assert (person.contact_enc, person.phone_lookup) == (None, None)


VIETNAMESE = "Chúng tôi bị trả lương thấp hơn mức tối thiểu. Tiếng Việt."
PRESERVED = {
    "arabic": "لم يدفعوا أجور العمل الإضافي منذ ثلاثة أشهر، ولا نستطيع أن نشتكي.",
    "urdu": "ہمیں تین مہینے سے اوور ٹائم کی تنخواہ نہیں ملی۔",
    "tamil": "மூன்று மாதங்களாக கூடுதல் நேர ஊதியம் வழங்கப்படவில்லை",
    "hindi_zwj": "क्\u200dष और क्\u200cष — हमें वेतन नहीं मिला",
    "burmese": "လုပ်ခ မရပါ",
    "emoji": "😡 we are not paid 👩🏽‍🏭👨‍👩‍👧 ✊🏿 🇧🇩 💸❤️",
}


def test_decomposed_vietnamese_comes_back_composed(ctx):
    decomposed = unicodedata.normalize("NFD", VIETNAMESE)
    assert decomposed != VIETNAMESE
    name = unicodedata.normalize("NFD", "Nguyễn Thị Hương")
    filed = file(
        ctx,
        make_mechanism(ctx, "TEX"),
        language="vi",
        statement=decomposed,
        complainant=_confidential_person(
            kind=ComplainantKind.AFFECTED,
            name=name,
            contact_channel=ContactChannel.NONE,
            contact_address="",
            details="",
            represents="",
        ),
    )
    case, person = filed.case, filed.complainant
    opened = ctx.vault.open(case.id, "statement", case.statement_enc)
    assert opened == VIETNAMESE
    assert len(opened) < len(decomposed)
    assert unicodedata.normalize("NFD", opened) == decomposed, "a code point was lost"
    opened_name = ctx.vault.open(case.id, f"complainant.{person.id}.name", person.name_enc)
    assert opened_name == "Nguyễn Thị Hương"


def test_the_length_limit_counts_composed_characters(ctx):
    """20,000 characters as the person sees them, whatever their keyboard sent."""
    composed = "ệ" * 20_000
    decomposed = unicodedata.normalize("NFD", composed)
    assert len(decomposed) == 60_000
    filed = file(ctx, make_mechanism(ctx, "TEX"), language="vi", statement=decomposed)
    assert ctx.vault.open(filed.case.id, "statement", filed.case.statement_enc) == composed
    with pytest.raises(InvalidInput):
        file(ctx, filed.case.mechanism, language="vi", statement=decomposed + "e")


@pytest.mark.parametrize("statement", PRESERVED.values(), ids=PRESERVED.keys())
def test_every_code_point_survives(ctx, statement):
    assert unicodedata.normalize("NFC", statement) == statement
    filed = file(ctx, make_mechanism(ctx, "TEX"), statement=f"  {statement}\n")
    opened = ctx.vault.open(filed.case.id, "statement", filed.case.statement_enc)
    assert opened == statement
    assert [ord(c) for c in opened] == [ord(c) for c in statement]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(statement=st.one_of(st.text(min_size=1, max_size=300), TEXTS))
def test_any_statement_comes_back_as_its_nfc_form(ctx, statement):
    """Kept as written (NFC, stripped); refused when it holds a control character or
    nothing visible (`tests/texts_rules.py`)."""
    expected = kept(statement)
    savepoint = ctx.session.begin_nested()
    try:
        mechanism = make_mechanism(ctx, "HYP")
        if expected is None:
            with pytest.raises(InvalidInput) as raised:
                file(ctx, mechanism, statement=statement)
            code = Code.INVALID_CHARACTER if refused(statement) else Code.REQUIRED
            assert raised.value.errors == {"statement": code}
            return
        filed = file(ctx, mechanism, statement=statement)
        assert ctx.vault.open(filed.case.id, "statement", filed.case.statement_enc) == expected
    finally:
        savepoint.rollback()
        ctx.session.expunge_all()


# -- validation -----------------------------------------------------------------------


def _person(**values) -> ComplainantDetails:
    return ComplainantDetails(**{"anonymity": Anonymity.ANONYMOUS, **values})


LONG = "অ" * 501  # one character over the limit of the location, the companies, ...

INVALID = {
    "empty statement": ({"statement": " \n\t "}, {"statement": Code.REQUIRED}),
    "statement too long": ({"statement": "x" * 20_001}, {"statement": Code.TOO_LONG}),
    "location too long": ({"location": LONG}, {"location": Code.TOO_LONG}),
    "companies too long": ({"companies": LONG}, {"companies": Code.TOO_LONG}),
    "occurred too long": ({"occurred": LONG[:201]}, {"occurred": Code.TOO_LONG}),
    "unknown language": ({"language": "xx"}, {"language": Code.NOT_OFFERED}),
    "unknown theme": ({"themes": ["living_wage", "astrology"]}, {"themes": Code.UNKNOWN}),
    "country not a code": ({"country": "Bangladesh"}, {"country": Code.UNKNOWN}),
    "country not a country": ({"country": "ZZ"}, {"country": Code.UNKNOWN}),
    "unknown site": ({"site_id": 987_654}, {"site": Code.UNKNOWN}),
    "received tomorrow": (
        {"channel": Channel.LETTER, "received_at": START + timedelta(days=1)},
        {"received_at": Code.RECEIVED_IN_FUTURE},
    ),
    "anonymous with a name": (
        {"complainant": _person(name="Rahima")},
        {"anonymity": Code.NAMED_WHEN_ANONYMOUS},
    ),
    "anonymous with details": (
        {"complainant": _person(details="Line 7")},
        {"anonymity": Code.NAMED_WHEN_ANONYMOUS},
    ),
    "name too long": (
        {"complainant": _person(anonymity=Anonymity.CONFIDENTIAL, name=LONG[:201])},
        {"name": Code.TOO_LONG},
    ),
    "details too long": (
        {"complainant": _person(anonymity=Anonymity.OPEN, details=LONG * 4)},
        {"details": Code.TOO_LONG},
    ),
    "union without represents": (
        {"complainant": _person(kind=ComplainantKind.UNION, represents="  ")},
        {"represents": Code.REQUIRED},
    ),
    "cso without represents": (
        {"complainant": _person(kind=ComplainantKind.CSO)},
        {"represents": Code.REQUIRED},
    ),
    "represents too long": (
        {"complainant": _person(kind=ComplainantKind.UNION, represents=LONG)},
        {"represents": Code.TOO_LONG},
    ),
    "sms without a phone": (
        {"complainant": _person(contact_channel=ContactChannel.SMS)},
        {"contact_address": Code.INVALID_PHONE},
    ),
    "sms without country code, no country known": (
        {
            "country": None,
            "complainant": _person(
                contact_channel=ContactChannel.SMS, contact_address="01711000001"
            ),
        },
        {"contact_address": Code.INVALID_PHONE},
    ),
    "sms too short for its country": (
        {"complainant": _person(contact_channel=ContactChannel.SMS, contact_address="01711")},
        {"contact_address": Code.INVALID_PHONE},
    ),
    "whatsapp with letters": (
        {
            "complainant": _person(
                contact_channel=ContactChannel.WHATSAPP, contact_address="call me please"
            )
        },
        {"contact_address": Code.INVALID_PHONE},
    ),
    "e-mail not an address": (
        {"complainant": _person(contact_channel=ContactChannel.EMAIL, contact_address="rahima")},
        {"contact_address": Code.INVALID_EMAIL},
    ),
    "e-mail too long": (
        {
            "complainant": _person(
                contact_channel=ContactChannel.EMAIL, contact_address="r" * 250 + "@example.org"
            )
        },
        {"contact_address": Code.TOO_LONG},
    ),
    "address without channel": (
        {"complainant": _person(contact_address="+8801711000001")},
        {"contact_address": Code.CONTACT_WITHOUT_CHANNEL},
    ),
    "unknown consent": (
        {"complainant": _person(consents={"publish_summary": True, "sell_data": True})},
        {"consents": Code.UNKNOWN},
    ),
    "anonymous sharing the identity": (
        {"complainant": _person(consents={"share_identity_with_company": True})},
        {"consents.share_identity_with_company": Code.SHARE_REQUIRES_OPEN},
    ),
    "confidential sharing the identity": (
        {
            "complainant": _person(
                anonymity=Anonymity.CONFIDENTIAL, consents={"share_identity_with_company": True}
            )
        },
        {"consents.share_identity_with_company": Code.SHARE_REQUIRES_OPEN},
    ),
    "everything at once": (
        {
            "statement": "",
            "language": "xx",
            "themes": ["astrology"],
            "complainant": _person(
                kind=ComplainantKind.UNION,
                name="Rahima",
                contact_channel=ContactChannel.SMS,
                contact_address="017",
                consents={"sell_data": True, "share_identity_with_company": True},
            ),
        },
        {
            "statement": Code.REQUIRED,
            "language": Code.NOT_OFFERED,
            "themes": Code.UNKNOWN,
            "represents": Code.REQUIRED,
            "anonymity": Code.NAMED_WHEN_ANONYMOUS,
            "contact_address": Code.INVALID_PHONE,
            "consents": Code.UNKNOWN,
            "consents.share_identity_with_company": Code.SHARE_REQUIRES_OPEN,
        },
    ),
}


@pytest.mark.parametrize(("overrides", "errors"), INVALID.values(), ids=INVALID.keys())
def test_invalid_input_names_its_fields_with_codes_and_writes_nothing(ctx, overrides, errors):
    mechanism = make_mechanism(ctx, "TEX")
    before = table_counts(ctx.session)
    with pytest.raises(InvalidInput) as raised:
        file(ctx, mechanism, **overrides)
    assert raised.value.errors == errors
    for field, code in errors.items():  # the limit a message names comes with the code
        assert ("max" in raised.value.limits.get(field, {})) is (code is Code.TOO_LONG)
    assert table_counts(ctx.session) == before
    # not even a reference number was used up
    assert file(ctx, mechanism).case.reference == "TEX-2026-00001"


def test_the_limits_are_on_the_text_as_kept(ctx):
    """At the limit is fine, and so is what only white space around it makes longer."""
    mechanism = make_mechanism(ctx, "TEX")
    filed = file(
        ctx,
        mechanism,
        location=" " + LONG[:500] + "\n",
        companies=LONG[:500],
        occurred=LONG[:200],
        complainant=_person(
            anonymity=Anonymity.OPEN,
            kind=ComplainantKind.UNION,
            represents=LONG[:500],
            name=LONG[:200],
            details=LONG[:200] * 10,
            consents={"share_identity_with_company": True},
        ),
    )
    assert ctx.vault.open(filed.case.id, "location", filed.case.location_enc) == LONG[:500]
    shares = {c.purpose: c.granted for c in filed.complainant.consents}
    assert shares["share_identity_with_company"] is True


def test_valid_contact_details_pass(ctx):
    mechanism = make_mechanism(ctx, "TEX")
    site = make_site(ctx, make_company(ctx, mechanism))
    filed = file(
        ctx,
        mechanism,
        site_id=site.id,
        complainant=_confidential_person(
            contact_channel=ContactChannel.EMAIL, contact_address=" rahima@example.org "
        ),
    )
    person = filed.complainant
    assert filed.case.site_id == site.id
    assert person.phone_lookup is None
    assert (
        ctx.vault.open(filed.case.id, f"complainant.{person.id}.contact", person.contact_enc)
        == "rahima@example.org"
    )


@pytest.mark.parametrize("role", [Role.ADMIN, Role.COMPANY])
def test_admins_and_companies_cannot_file(ctx, role):
    mechanism = make_mechanism(ctx, "TEX")
    company = make_company(ctx, mechanism) if role is Role.COMPANY else None
    actor = Actor.for_user(make_user(ctx, role, company=company))
    before = table_counts(ctx.session)
    with pytest.raises(NotAllowed):
        file(ctx, mechanism, actor)
    assert table_counts(ctx.session) == before


@pytest.mark.parametrize(
    ("role", "by_staff"),
    [
        (Role.SYSTEM, False),
        (Role.COMPLAINANT, False),
        (Role.REVIEWER, True),
        (Role.SECRETARIAT, True),
    ],
)
def test_who_may_file_and_whether_staff_recorded_it(ctx, role, by_staff):
    mechanism = make_mechanism(ctx, "TEX")
    if role is Role.REVIEWER:
        actor = Actor.for_user(make_reviewer(ctx))
    elif role is Role.SECRETARIAT:
        actor = Actor.for_user(make_user(ctx, role, mechanisms=[mechanism]))
    else:
        actor = Actor(role=role)
    filed = file(ctx, mechanism, actor, channel=Channel.PHONE if by_staff else Channel.WEB)
    event = filed.case.events[0]
    assert (event.actor_role, event.actor_id) == (role, actor.user_id)
    assert event.payload["recorded_by_staff"] is by_staff


# -- the first event and deadlines ----------------------------------------------------


def test_the_first_event_is_case_filed_with_the_first_deadlines(ctx):
    mechanism = make_mechanism(ctx, "TEX")
    filed = file(ctx, mechanism, themes=["living_wage", "child_labour"], urgent=True)
    case = filed.case
    assert case.stage is Stage.RECEIVED
    assert case.received_at == case.stage_entered_at == START
    assert case.event_count == 1
    event = ctx.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).one()
    assert event.seq == 1
    assert event.kind == "case_filed"
    assert (event.stage_from, event.stage_to) == (None, Stage.RECEIVED)
    assert event.hash == case.log_head
    assert event.payload == {
        "reference": "TEX-2026-00001",
        "mechanism": "TEX",
        "themes": ["child_labour", "living_wage"],
        "country": "BD",
        "policy_version": 0,
        "channel": "web",
        "language": "bn",
        "urgent": True,
        "complainant_kind": "affected",
        "anonymity": "anonymous",
        "recorded_by_staff": False,
        "deadlines_opened": [
            {"code": "acknowledge", "due_at": "2026-03-09T09:00:00.000000Z"},
            {"code": "admissibility", "due_at": "2026-05-31T09:00:00.000000Z"},
        ],
    }
    deadlines = ctx.session.scalars(
        select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.due_at)
    ).all()
    assert [(d.code, d.state, d.opened_at, d.due_at) for d in deadlines] == [
        ("acknowledge", DeadlineState.OPEN, START, datetime(2026, 3, 9, 9, 0, tzinfo=UTC)),
        ("admissibility", DeadlineState.OPEN, START, datetime(2026, 5, 31, 9, 0, tzinfo=UTC)),
    ]
    assert deadlines[0].due_at - START == timedelta(days=7)
    assert deadlines[1].due_at - START == timedelta(days=90)


def test_a_letter_received_earlier_keeps_its_date(ctx):
    mechanism = make_mechanism(ctx, "TEX")
    received = START - timedelta(days=10, hours=3)
    filed = file(ctx, mechanism, channel=Channel.LETTER, received_at=received)
    case = filed.case
    assert case.received_at == case.stage_entered_at == received
    assert case.created_at == START
    assert case.events[0].created_at == START
    due = {
        d.code: d.due_at
        for d in ctx.session.scalars(select(Deadline).where(Deadline.case_id == case.id))
    }
    assert due == {
        "acknowledge": received + timedelta(days=7),
        "admissibility": received + timedelta(days=90),
    }
    # a day that has not come yet is refused (see INVALID); now is the latest
    now = file(ctx, mechanism, channel=Channel.LETTER, received_at=START)
    assert now.case.received_at == START


# -- phone lookups and consents -------------------------------------------------------


def test_phone_lookup_is_a_keyed_hash_of_the_normalised_number(ctx, keyring):
    mechanism = make_mechanism(ctx, "TEX")

    def lookup(address: str, channel: ContactChannel = ContactChannel.SMS) -> str | None:
        person = _confidential_person(contact_channel=channel, contact_address=address)
        return file(ctx, mechanism, complainant=person).complainant.phone_lookup

    first = lookup("+880 1711-000001")
    assert first is not None
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert lookup("00880 1711 000001") == first
    assert lookup("+৮৮০ ১৭১১ ০০০০০১", ContactChannel.WHATSAPP) == first
    assert lookup("+880 1711-000002") != first
    assert first == Vault(ctx.session, keyring, ctx.now).lookup_hash("phone", "+8801711000001")
    other_keyring = Keyring.generate()
    assert first != Vault(ctx.session, other_keyring, ctx.now).lookup_hash(
        "phone", "+8801711000001"
    ), "the lookup does not depend on the key ring's secret"
    found = ctx.session.scalars(select(Complainant).where(Complainant.phone_lookup == first)).all()
    assert len(found) == 3


def test_a_number_without_its_country_code_is_read_where_the_complaint_is(ctx):
    """The known site's country, else the complaint's, else the mechanism's policy's."""
    region = filing_service.phone_region
    mechanism = make_mechanism(ctx, "TEX", overrides={"country": "GB"})
    plain = make_mechanism(ctx, "NST")
    site = make_site(ctx, make_company(ctx, mechanism), country="BD")
    assert region(ctx, mechanism) == "GB"
    assert region(ctx, mechanism, country="IN") == "IN"
    assert region(ctx, mechanism, country="IN", site_id=site.id) == "BD"
    assert region(ctx, mechanism, country="Bangladesh", site_id=987_654) == "GB"
    assert region(ctx, plain) is None

    def stored(address: str, **overrides) -> str:
        person = _confidential_person(contact_address=address)
        filed = file(ctx, mechanism, complainant=person, **overrides)
        prefix = f"complainant.{filed.complainant.id}"
        return ctx.vault.open(filed.case.id, f"{prefix}.contact", filed.complainant.contact_enc)

    assert stored("07700 900123", country=None) == "+447700900123"
    assert stored("01711-000001") == "+8801711000001"  # the factory's country: BD
    assert stored("01711-000001", country="GB", site_id=site.id) == "+8801711000001"
    with pytest.raises(InvalidInput) as raised:
        file(
            ctx,
            plain,
            complainant=_confidential_person(contact_address="07700 900123"),
            country=None,
        )
    assert raised.value.errors == {"contact_address": Code.INVALID_PHONE}
    assert raised.value.reasons == {"contact_address": "Give a phone number with its country code."}


def test_consents_are_recorded_per_purpose(ctx):
    mechanism = make_mechanism(ctx, "TEX")
    consents = {"share_identity_with_company": False, "publish_summary": True}
    filed = file(ctx, mechanism, complainant=_confidential_person(consents=consents))
    rows = ctx.session.scalars(
        select(Consent)
        .where(Consent.complainant_id == filed.complainant.id)
        .order_by(Consent.purpose)
    ).all()
    assert [(c.purpose, c.granted, c.recorded_at, c.withdrawn_at) for c in rows] == [
        ("publish_summary", True, START, None),
        ("share_identity_with_company", False, START, None),
    ]
    only_one = file(ctx, mechanism, complainant=_person(consents={"publish_summary": False}))
    rows = ctx.session.scalars(
        select(Consent).where(Consent.complainant_id == only_one.complainant.id)
    ).all()
    assert [(c.purpose, c.granted) for c in rows] == [("publish_summary", False)]


def test_a_receipt_code_is_found_in_whichever_mechanism_as_typed(ctx):
    from grievance.services.filing import find_complainant

    first = new_case(ctx, make_mechanism(ctx, code="ONE"))
    second = new_case(ctx, make_mechanism(ctx, code="TWO"))
    bengali = second.receipt_code.translate(BENGALI_DIGITS)
    assert find_complainant(ctx, bengali).id == second.complainant.id
    dashed = "-".join(first.receipt_code[i : i + 4] for i in range(0, 16, 4))
    assert find_complainant(ctx, dashed).id == first.complainant.id
    assert find_complainant(ctx, "not a code") is None
    assert find_complainant(ctx, "1" * 15) is None
