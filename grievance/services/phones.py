"""Phone numbers as people write them, read with `phonenumbers` (libphonenumber's data).

'+44 (0)7700 900123', '07700 900123' written in Great Britain, '0044 7700 900123' and
'+447700900123' are one number: each is stored, and found again by its keyed hash
(`Complainant.phone_lookup`), in E.164 ('+447700900123'), the form in which an SMS
gateway gives the number a message comes from. A number written without its country
code is read as a number of the `default_region` (ISO 3166-1 alpha-2): the filing
service chooses it (`filing.phone_region`); without one, only a number with its country
code is one.

A number must be possible (its country code exists, its length and its shape are ones
its country's numbering plan has), not valid by the allocations of the day: those change
faster than a mechanism updates, and a range that is not in service yet (or is kept for
examples, like Ofcom's 07700 900xxx) is still a number someone gave us.

Pure: no Flask, no database.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat, ValidationResult

from grievance.services.errors import Code, InvalidInput


class PhoneProblem(StrEnum):
    """Why a text is not a phone number (each has its message; channels translate)."""

    #: Written without a country code, where no country was known to read it in.
    NEEDS_COUNTRY_CODE = "needs_country_code"
    NOT_A_NUMBER = "not_a_number"
    UNKNOWN_COUNTRY_CODE = "unknown_country_code"
    #: Too few or too many digits for its country (or a local number without its area code).
    WRONG_LENGTH = "wrong_length"
    #: Of a length its country has, but of no shape of its numbers.
    NOT_OF_ITS_COUNTRY = "not_of_its_country"
    #: An extension ('ext. 12'): a text cannot reach one.
    EXTENSION = "extension"


MESSAGES = {
    PhoneProblem.NEEDS_COUNTRY_CODE: "Give a phone number with its country code.",
    PhoneProblem.NOT_A_NUMBER: "This is not a phone number.",
    PhoneProblem.UNKNOWN_COUNTRY_CODE: "No country has this country code.",
    PhoneProblem.WRONG_LENGTH: "This number has too few or too many digits for its country.",
    PhoneProblem.NOT_OF_ITS_COUNTRY: "No number of its country is written like this.",
    PhoneProblem.EXTENSION: "Give a number without an extension: a text cannot reach one.",
}


class InvalidPhoneNumber(InvalidInput):
    """A text that is not a phone number; `problem` says why, `errors` names `field`."""

    def __init__(self, problem: PhoneProblem, field: str = "phone") -> None:
        self.problem = problem
        super().__init__({field: Code.INVALID_PHONE}, reasons={field: MESSAGES[problem]})

    @property
    def message(self) -> str:
        return MESSAGES[self.problem]


#: Countries (and territories) whose numbers libphonenumber knows, by ISO 3166-1 code.
REGIONS: frozenset[str] = frozenset(phonenumbers.SUPPORTED_REGIONS)


def is_region(code: str | None) -> bool:
    """Whether `code` is a country whose numbers can be read without a country code."""
    return code is not None and code in REGIONS


def parse_phone(text: str, default_region: str | None = None) -> str:
    """The number `text` is, in E.164; raises `InvalidPhoneNumber` for anything else.

    `text` may carry spaces, dashes, dots, brackets, a '(0)', the international prefix
    '00' (or the one of `default_region`), a 'tel:' URI, and digits of any script.
    `default_region` is the country a number without its country code is from; an
    unknown code counts as none.
    """
    region = default_region if is_region(default_region) else None
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        international = _with_international_zeros(text)
        if international is None:
            raise InvalidPhoneNumber(_problem(error, text, region)) from None
        number = international
    if region is not None and not _possible(number):
        number = _with_international_zeros(text) or number
    if number.extension:
        raise InvalidPhoneNumber(PhoneProblem.EXTENSION)
    if not _possible(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        if reason == ValidationResult.INVALID_COUNTRY_CODE:
            raise InvalidPhoneNumber(PhoneProblem.UNKNOWN_COUNTRY_CODE)
        if reason != ValidationResult.IS_POSSIBLE:
            raise InvalidPhoneNumber(PhoneProblem.WRONG_LENGTH)
        raise InvalidPhoneNumber(PhoneProblem.NOT_OF_ITS_COUNTRY)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if _reread(e164) != e164:  # a safeguard: the form an SMS gateway gives reads as itself
        raise InvalidPhoneNumber(PhoneProblem.NOT_A_NUMBER)
    return e164


def _possible(number: phonenumbers.PhoneNumber) -> bool:
    """A whole number of its country: valid in today's numbering plan, or of a length and
    shape the plan has (a local number without its area code is not one; nor is
    '+44 07700 9001', where a '0' that is no part of a British number was kept to make up
    the length)."""
    if phonenumbers.is_valid_number(number):
        return True  # Canada's seven-digit 310 numbers too, which need no area code
    reason = phonenumbers.is_possible_number_with_reason(number)
    return reason == ValidationResult.IS_POSSIBLE and _shaped_like_its_countrys(number)


def _shaped_like_its_countrys(number: phonenumbers.PhoneNumber) -> bool:
    """Whether a number fits the general pattern of the numbers of a country with its
    country code (libphonenumber's `general_desc`): its numbering plan, not who holds what
    range today."""
    code = number.country_code
    if code is None:
        return False
    national = phonenumbers.national_significant_number(number)
    for region in phonenumbers.region_codes_for_country_code(code):
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
        general = metadata.general_desc if metadata else None
        pattern = general.national_number_pattern if general else None
        if pattern and re.fullmatch(pattern, national):
            return True
    return False


def _reread(e164: str) -> str | None:
    """E.164 read again, as it comes back from an SMS gateway: the stored form must be
    what the sender's number reads as, or their lookups would differ."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None), PhoneNumberFormat.E164)
    except NumberParseException:
        return None


def _with_international_zeros(text: str) -> phonenumbers.PhoneNumber | None:
    """'00 880 1711 000001' read as '+880 1711 000001': the international prefix of most of
    the world, written where no country (or one with another prefix, like the USA's 011)
    says so; None when that does not make a whole number either."""
    international = _zeros_as_plus(text)
    if international is None:
        return None
    try:
        number = phonenumbers.parse(international, None)
    except NumberParseException:
        return None
    return number if _possible(number) else None


def _zeros_as_plus(text: str) -> str | None:
    """'+' in place of two leading zeros (of any script); None without them."""
    stripped = text.lstrip()
    if len(stripped) < 3 or any(
        not char.isdecimal() or unicodedata.decimal(char) != 0 for char in stripped[:2]
    ):
        return None
    return "+" + stripped[2:]


#: The plus signs libphonenumber reads as the start of a country code.
PLUS_SIGNS = ("+", "\uff0b")
#: The longest text libphonenumber reads (longer: not a phone number, whatever it holds).
MAX_INPUT = 250


def _problem(error: NumberParseException, text: str, region: str | None) -> PhoneProblem:
    if error.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        international = any(plus in text for plus in PLUS_SIGNS) or _zeros_as_plus(text)
        if region is None and not international:
            return PhoneProblem.NEEDS_COUNTRY_CODE
        return PhoneProblem.UNKNOWN_COUNTRY_CODE
    if error.error_type == NumberParseException.TOO_LONG and len(text) > MAX_INPUT:
        return PhoneProblem.NOT_A_NUMBER
    if error.error_type in (
        NumberParseException.TOO_SHORT_NSN,
        NumberParseException.TOO_SHORT_AFTER_IDD,
        NumberParseException.TOO_LONG,
    ):
        return PhoneProblem.WRONG_LENGTH
    return PhoneProblem.NOT_A_NUMBER
