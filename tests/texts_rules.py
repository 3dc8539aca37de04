"""What every channel keeps of a person's text, written out plainly for the tests (the
services' one check is `grievance.services.texts`): the oracle the property tests compare
the services with, and Hypothesis strategies that reach every corner of it."""

from __future__ import annotations

import unicodedata

from hypothesis import strategies as st

from grievance.services.texts import BLANK_CHARACTERS

#: The control characters a text may hold: tab, line feed, carriage return.
LINE_CONTROLS = "\t\n\r"
#: Characters that hide in a text that looks empty.
INVISIBLE = [
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u2060",  # word joiner
    "\u202e",  # right-to-left override
    "\u2066",  # left-to-right isolate
    "\ufeff",  # byte order mark
    "\u00ad",  # soft hyphen
    "\u3000",  # ideographic space
    "\u2028",  # line separator
    "\u3164",  # Hangul filler
    "\u2800",  # Braille pattern blank
    "\ufe0f",  # variation selector 16
    "\u034f",  # combining grapheme joiner
]


def refused(text: str) -> bool:
    """A control character other than tab, line feed and carriage return, or a lone
    surrogate: no channel keeps it."""
    return any(
        (unicodedata.category(char) == "Cc" and char not in LINE_CONTROLS)
        or unicodedata.category(char) == "Cs"
        for char in text
    )


def visible(text: str) -> bool:
    """Something in the text can be seen: a character that is not a control, a format
    character or a separator, nor one of the few letters and marks that draw nothing."""
    return any(
        unicodedata.category(char) not in ("Cc", "Cf", "Zs", "Zl", "Zp")
        and char not in BLANK_CHARACTERS
        for char in text
    )


def kept(text: str) -> str | None:
    """What a channel keeps of a text: NFC, stripped; None when it refuses it (a refused
    character, or nothing visible)."""
    if refused(text) or not visible(text):
        return None
    return unicodedata.normalize("NFC", text).strip()


#: Characters from every corner: any code point (lone surrogates included), controls,
#: invisible ones, and ordinary words around them.
CHARACTERS = st.one_of(
    st.characters(),
    st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]),
    st.sampled_from(INVISIBLE),
    st.sampled_from(list(LINE_CONTROLS)),
    st.sampled_from(["a", "ক", "م", "字", "é", "e\u0301", "\U0001f44b"]),
)
TEXTS = st.lists(CHARACTERS, max_size=30).map("".join)
