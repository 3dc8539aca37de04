"""A service's `InvalidInput` carries codes, never words; every channel says every code
in its own: the pages in every catalog's language (`grievance.http.refusals`), the JSON
API in English (`intake.api.PROBLEMS`), the SMS dialogue in its texts (what it can ask for
again)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from grievance.http.refusals import MESSAGES
from grievance.services.errors import Code, InvalidInput
from intake.api import PROBLEMS
from intake.sms.actions import REFUSAL_TEXTS
from intake.sms.texts import TEXTS, msgid

LOCALES = Path(__file__).resolve().parents[2] / "locales"
CATALOGS = sorted(LOCALES.glob("*/LC_MESSAGES/messages.po"))
#: Numbers for every placeholder a message may name.
LIMITS = {"min": 1, "max": 500}


def test_codes_are_short_names_not_sentences() -> None:
    for code in Code:
        assert code.value.isascii()
        assert code.value.replace("_", "").isalpha()
        assert code.value == code.value.lower()


def test_a_refusal_names_fields_and_codes_and_its_text_says_only_those() -> None:
    refused = InvalidInput({"location": Code.TOO_LONG}, {"location": {"max": 500}})
    assert refused.errors == {"location": Code.TOO_LONG}
    assert refused.limits == {"location": {"max": 500}}
    assert str(refused) == "location: too_long"
    assert InvalidInput.too_long("body", 10).limits == {"body": {"max": 10}}


def test_every_code_has_a_message_for_the_pages() -> None:
    assert set(MESSAGES) == set(Code)


@pytest.mark.parametrize("path", CATALOGS, ids=[path.parts[-3] for path in CATALOGS])
def test_every_code_is_translated_in_every_catalog(path: Path) -> None:
    with path.open("rb") as handle:
        catalog = read_po(handle)
    for code in Code:
        message = catalog.get(msgid(MESSAGES[code]))
        assert message is not None, (code, path)
        assert message.string, (code, path)
        assert (message.string % LIMITS).strip()  # its placeholders are the code's numbers
    for text in REFUSAL_TEXTS.values():
        message = catalog.get(msgid(TEXTS[text]))
        assert message is not None, (text, path)
        assert message.string, (text, path)
        assert (message.string % {k: str(v) for k, v in LIMITS.items()}).strip()


def test_every_code_has_an_english_message_in_the_api() -> None:
    assert set(PROBLEMS) == set(Code)
    for code, text in PROBLEMS.items():
        assert text.format(**LIMITS).endswith("."), code


def test_the_sms_asks_again_only_for_what_it_can_say() -> None:
    assert set(REFUSAL_TEXTS) <= set(Code)
    assert set(REFUSAL_TEXTS.values()) <= set(TEXTS)
