"""Phone numbers as people write them (`grievance.services.phones`): one number, one
E.164 form, whether typed with its country code, in the national format of a known
country, or given by an SMS gateway as the sender; anything else refused with its
reason, never with another error."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat

from grievance.models import Channel
from grievance.policies import PolicyError, load_policy
from grievance.services.errors import Code, InvalidInput
from grievance.services.phones import MESSAGES, InvalidPhoneNumber, PhoneProblem, parse_phone
from intake.sms.twilio import parse_address
from tests.phone_numbers import FORMATS, REGIONS, Valid, valid_numbers

E164 = re.compile(r"\+[1-9][0-9]{1,14}")
#: Enough examples to cover the world's numbering plans a little, fast enough for the suite.
PROPERTY = settings(max_examples=300, deadline=None)
BENGALI = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")


# -- the numbers of the issue ------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        ("+44 (0)7700 900123", None),  # once '+4407700900123', which no SMS comes from
        ("+4407700900123", None),  # and that, typed
        ("+44 (0)7700 900123", "BD"),  # a country code wins over the default country
        ("07700 900123", "GB"),
        ("07700-900-123", "GB"),
        ("+447700900123", None),
        ("0044 7700 900123", None),  # the international prefix of most of the world
        ("0044 7700 900123", "US"),  # even where it is another (011)
        ("011 44 7700 900123", "US"),
        (" tel:+44-7700-900123 ", None),
        ("＋４４ ７７００ ９００１２３", None),  # full-width, as an East Asian keyboard types
    ],
)
def test_a_british_number_however_written_is_one_number(typed, region):
    assert parse_phone(typed, region) == "+447700900123"
    assert parse_address("+447700900123") == (Channel.SMS, "+447700900123")


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        ("01711-000001", "BD"),
        ("01711 000001", "BD"),
        ("1711000001", "BD"),
        ("+880 1711-000001", None),
        ("+880 01711-000001", None),
        ("00880 1711 000001", None),
        ("00880 1711 000001", "NL"),
        ("+৮৮০ ১৭১১-০০০০০১", None),  # Bengali digits
        ("০১৭১১-০০০০০১", "BD"),
        ("+٨٨٠١٧١١٠٠٠٠٠١", None),  # Arabic-Indic digits
    ],
)
def test_a_bangladeshi_number_however_written_is_one_number(typed, region):
    assert parse_phone(typed, region) == "+8801711000001"


def test_an_sms_sender_and_a_whatsapp_sender_are_the_typed_number():
    typed = parse_phone("07700 900123", "GB")
    assert parse_address("+447700900123") == (Channel.SMS, typed)
    assert parse_address("whatsapp:+447700900123") == (Channel.WHATSAPP, typed)
    assert parse_address("WhatsApp:+8801711000001") == (
        Channel.WHATSAPP,
        parse_phone("01711-000001", "BD"),
    )


@pytest.mark.parametrize(
    ("typed", "region", "problem"),
    [
        ("07700 900123", None, PhoneProblem.NEEDS_COUNTRY_CODE),
        ("01711000001", None, PhoneProblem.NEEDS_COUNTRY_CODE),
        ("01711000001", "ZZ", PhoneProblem.NEEDS_COUNTRY_CODE),  # no country: as none
        ("01711000001", "gb", PhoneProblem.NEEDS_COUNTRY_CODE),  # codes are upper case
        ("12345", None, PhoneProblem.NEEDS_COUNTRY_CODE),  # a short code
        ("", "BD", PhoneProblem.NOT_A_NUMBER),
        ("   ", None, PhoneProblem.NOT_A_NUMBER),
        ("call me please", "BD", PhoneProblem.NOT_A_NUMBER),
        ("VODAFONE", None, PhoneProblem.NOT_A_NUMBER),
        ("+12", None, PhoneProblem.NOT_A_NUMBER),
        ("+", None, PhoneProblem.NOT_A_NUMBER),
        ("x" * 300, None, PhoneProblem.NOT_A_NUMBER),
        ("+999 1234 5678", None, PhoneProblem.UNKNOWN_COUNTRY_CODE),
        ("00999 1234 5678", None, PhoneProblem.UNKNOWN_COUNTRY_CODE),
        ("01711", "BD", PhoneProblem.WRONG_LENGTH),
        ("+880 1711", None, PhoneProblem.WRONG_LENGTH),
        ("+880 1711 000001 000001", None, PhoneProblem.WRONG_LENGTH),
        ("900123", "GB", PhoneProblem.WRONG_LENGTH),  # a local number: no area code
        ("+1234", None, PhoneProblem.WRONG_LENGTH),
        # 8 digits: no British number; '077009001' would have 9, but no British number
        # starts with 0 (a hand-made '+44' + digits would have kept it)
        ("07700 9001", "GB", PhoneProblem.NOT_OF_ITS_COUNTRY),
        ("+44 07700 9001", None, PhoneProblem.NOT_OF_ITS_COUNTRY),
        ("+44 7700 900123 ext. 5", None, PhoneProblem.EXTENSION),
        ("tel:+447700900123;ext=1", None, PhoneProblem.EXTENSION),
    ],
)
def test_what_is_not_a_number_is_refused_with_its_reason(typed, region, problem):
    with pytest.raises(InvalidPhoneNumber) as raised:
        parse_phone(typed, region)
    assert raised.value.problem is problem
    assert isinstance(raised.value, InvalidInput)  # what every channel already answers
    assert raised.value.errors == {"phone": Code.INVALID_PHONE}  # never the number itself
    assert raised.value.message == MESSAGES[problem]


def test_a_possible_number_is_taken_though_no_operator_has_it_yet():
    """Numbering plans change faster than a mechanism updates: a number of a possible
    length is one, valid in today's plan or not (Ofcom keeps 07700 900xxx for fiction)."""
    number = phonenumbers.parse("+447700900123")
    assert phonenumbers.is_possible_number(number)
    assert not phonenumbers.is_valid_number(number)
    assert parse_phone("+447700900123") == "+447700900123"


# -- the mechanism's country, in its policy ------------------------------------------------


def test_a_mechanism_policy_names_its_country():
    assert load_policy().country is None
    assert load_policy(overrides={"country": "NL"}).country == "NL"
    for wrong in ("nl", "NLD", "XX"):
        with pytest.raises(PolicyError, match="country"):
            load_policy(overrides={"country": wrong})


# -- properties ------------------------------------------------------------------------------


@PROPERTY
@given(
    valid=valid_numbers(),
    style=st.sampled_from(FORMATS),
    elsewhere=st.none() | st.sampled_from(REGIONS),
)
def test_any_valid_number_written_by_phonenumbers_reads_back_as_itself(
    valid: Valid, style: int, elsewhere: str | None
) -> None:
    """In its national format, read in its own country; with its country code, read
    anywhere (or where no country is known)."""
    written = valid.written(style)
    region = valid.region if style == PhoneNumberFormat.NATIONAL else elsewhere
    assert parse_phone(written, region) == valid.e164
    assert parse_address(valid.e164) == (Channel.SMS, valid.e164)


@PROPERTY
@given(valid=valid_numbers(), script=st.sampled_from(["০১২৩৪৫৬৭৮৯", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९"]))
def test_a_number_in_another_scripts_digits_is_the_same_number(valid: Valid, script: str) -> None:
    digits = str.maketrans("0123456789", script)
    national = valid.written(PhoneNumberFormat.NATIONAL).translate(digits)
    international = valid.written(PhoneNumberFormat.INTERNATIONAL).translate(digits)
    assert parse_phone(national, valid.region) == valid.e164
    assert parse_phone(international) == valid.e164


#: Text that looks a little like a phone number: digits of several scripts, plus signs,
#: separators, letters (vanity numbers), 'ext', 'tel:'.
NUMBERISH = st.lists(
    st.sampled_from(
        [
            *"0123456789০১৭৮٠+＋ -.()/x#*;AZ\u00a0\u200f",
            *("ext", "tel:", "00", "(0)", "whatsapp:"),
        ]
    ),
    max_size=30,
).map("".join)


@PROPERTY
@given(
    text=st.one_of(st.text(max_size=60), NUMBERISH, st.text(max_size=300)),
    region=st.none() | st.sampled_from([*REGIONS, "ZZ", "001", "", "gb"]),
)
@example(text="\x00", region=None)
@example(text="+" + "9" * 249, region=None)
@example(text="0" * 251, region="GB")
def test_garbage_is_refused_with_the_specific_error_only(text: str, region: str | None) -> None:
    """Whatever is typed: an E.164 number that reads back as itself, or `InvalidPhoneNumber`,
    never another exception."""
    try:
        number = parse_phone(text, region)
    except InvalidPhoneNumber:  # with its problem: the constructor requires one
        return
    assert E164.fullmatch(number), number
    assert parse_phone(number) == number
    assert parse_phone(number, region) == number
    assert parse_address(number) == (Channel.SMS, number)


@PROPERTY
@given(valid=valid_numbers(regions=["BD", "IN", "PK", "KH", "MM", "VN", "TR", "ET", "KE"]))
def test_national_numbers_of_supply_chain_countries_read_back(valid: Valid) -> None:
    """More examples where the complainants are: the country's own way of writing."""
    national = valid.written(PhoneNumberFormat.NATIONAL)
    assert parse_phone(national, valid.region) == valid.e164
    assert parse_phone(national.translate(BENGALI), valid.region) == valid.e164
