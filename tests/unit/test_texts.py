"""The one check of a person's text (`grievance.services.texts`, issue #12 item 8): NUL
and the other control characters but tab, line feed and carriage return are refused; a
text with nothing visible in it is empty; anything else is kept as written (NFC,
stripped)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from grievance.services.errors import Code, InvalidInput
from grievance.services.texts import clean_text, is_blank, normalise, text_problem
from tests.texts_rules import INVISIBLE, TEXTS, kept, refused


@pytest.mark.parametrize(
    "text",
    ["\x00", "Wages\x00unpaid", "\x1b[31m", "\x08", "\x7f", "\x85", "\x9b", "a\ud800b"],
    ids=["nul", "nul-inside", "escape", "backspace", "del", "c1-nel", "c1-csi", "surrogate"],
)
def test_control_characters_and_lone_surrogates_are_refused(text):
    assert text_problem(text) is Code.INVALID_CHARACTER
    with pytest.raises(InvalidInput) as raised:
        clean_text(text, "body")
    assert raised.value.errors == {"body": Code.INVALID_CHARACTER}


def test_tab_line_feed_and_carriage_return_are_kept():
    text = "Line 1\r\n\tLine 2\nLine 3"
    assert text_problem(text) is None
    assert clean_text(text, "body") == text


@pytest.mark.parametrize("mark", INVISIBLE)
def test_a_text_of_invisible_characters_is_empty(mark):
    assert is_blank(mark * 3)
    assert clean_text(f" {mark}\n{mark} ", "statement") == ""


@pytest.mark.parametrize(
    "text",
    [
        "\u0646\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian: a ZWNJ inside a word
        "\U0001f469\u200d\U0001f469\u200d\U0001f467",  # a family, joined by ZWJ
        "\u2067\u05e9\u05dc\u05d5\u05dd\u2069",  # Hebrew in an isolate
        "ক্ষ",  # a Bengali conjunct
    ],
)
def test_invisible_characters_inside_words_stay(text):
    assert clean_text(text, "statement") == unicodedata.normalize("NFC", text)


@given(text=TEXTS)
@example(text="\u200b\u200e\u3000")
@example(text="Paid\x00")
@example(text=" e\u0301 ")
def test_every_text_is_refused_emptied_or_kept_as_written(text):
    if refused(text):
        assert text_problem(text) is Code.INVALID_CHARACTER
        with pytest.raises(InvalidInput):
            clean_text(text, "field")
        return
    cleaned = clean_text(text, "field")
    assert cleaned == (kept(text) or "")
    assert normalise(text) == cleaned
    assert unicodedata.is_normalized("NFC", cleaned)
    assert cleaned == cleaned.strip()


@given(text=st.text())
def test_the_check_never_fails_on_any_text(text):
    problem = text_problem(text)
    assert problem in (None, Code.INVALID_CHARACTER)
    assert isinstance(normalise(text), str)
