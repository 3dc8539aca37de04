"""Hypothesis strategies for phone numbers: valid ones of every country libphonenumber
knows (its example numbers, with their last digits varied), and written as people and
gateways write them."""

from __future__ import annotations

from typing import NamedTuple

import phonenumbers
from hypothesis import assume
from hypothesis import strategies as st
from phonenumbers import PhoneNumber, PhoneNumberFormat, PhoneNumberType

#: Every country and territory, and the kinds of number a person may give.
REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
KINDS = [
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.VOIP,
    PhoneNumberType.PERSONAL_NUMBER,
    PhoneNumberType.UAN,
]
#: Each country's example numbers, one a kind it has.
EXAMPLES = [
    (region, example)
    for region in REGIONS
    for kind in KINDS
    if (example := phonenumbers.example_number_for_type(region, kind)) is not None
]
#: How a number is written, by libphonenumber, that must read back as the same number.
FORMATS = [
    PhoneNumberFormat.NATIONAL,
    PhoneNumberFormat.INTERNATIONAL,
    PhoneNumberFormat.E164,
    PhoneNumberFormat.RFC3966,
]


class Valid(NamedTuple):
    number: PhoneNumber
    #: The country it belongs to (where its national format is read).
    region: str

    @property
    def e164(self) -> str:
        return phonenumbers.format_number(self.number, PhoneNumberFormat.E164)

    def written(self, style: int) -> str:
        return phonenumbers.format_number(self.number, style)


@st.composite
def valid_numbers(draw: st.DrawFn, regions: list[str] | None = None) -> Valid:
    """A valid number of a country: its example number of a kind, the last digits varied."""
    _, example = draw(
        st.sampled_from([entry for entry in EXAMPLES if regions is None or entry[0] in regions])
    )
    national = phonenumbers.national_significant_number(example)
    varied = draw(st.integers(0, min(4, len(national) - 1)))
    tail = draw(st.text("0123456789", min_size=varied, max_size=varied))
    digits = national[: len(national) - varied] + tail
    number = phonenumbers.parse(f"+{example.country_code}{digits}", None)
    assume(phonenumbers.is_valid_number(number))
    owner = phonenumbers.region_code_for_number(number)
    assume(owner in phonenumbers.SUPPORTED_REGIONS)
    return Valid(number, owner)


def e164_numbers() -> st.SearchStrategy[str]:
    """Valid numbers in E.164, as an SMS gateway gives the sender."""
    return valid_numbers().map(lambda valid: valid.e164)


def international_numbers() -> st.SearchStrategy[str]:
    """Valid numbers with their country code, in E.164 or spaced ('+880 1711-000001')."""
    return st.builds(
        Valid.written,
        valid_numbers(),
        st.sampled_from([PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL]),
    )
