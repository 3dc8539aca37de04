"""One check of every text a person gives, whichever channel brought it (web form, JSON
API, SMS, staff pages): the words of a complaint, messages, translations, reasons and
notes. Indico checks its input once, below its forms; so do these services.

- **Refused**: a control character other than tab, line feed and carriage return (NUL,
  escape, backspace, DEL, the C1 controls ...), or half of a surrogate pair (which JSON
  can carry and no UTF-8 can hold). None is ever typed; each would be kept and shown back
  raw, and PostgreSQL's text and JSON cannot hold NUL at all. `Code.INVALID_CHARACTER`.
- **Nothing visible counts as nothing**: a text made only of spaces, invisible format
  characters (zero-width space, direction marks, the byte order mark ...), line
  separators and characters that draw nothing (the Hangul fillers, variation selectors
  alone, the blank Braille pattern) is empty, so a required one is `Code.REQUIRED`.
- **Kept as written** otherwise: NFC and the surrounding whitespace stripped, nothing
  else. A zero-width joiner inside Persian, Bengali or an emoji sequence is part of the
  word and stays (ASVS 5.3.2: every code point the person wrote).
"""

from __future__ import annotations

import unicodedata

from grievance.services.errors import Code, InvalidInput

#: The only control characters a text may hold.
ALLOWED_CONTROLS = frozenset("\t\n\r")
#: Categories that draw nothing: controls, format characters, separators.
BLANK_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})
#: Letters and marks of other categories that draw nothing on their own.
BLANK_CHARACTERS = frozenset(
    "\u034f"  # combining grapheme joiner
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers
    "\u17b4\u17b5"  # Khmer inherent vowels
    "\u180b\u180c\u180d\u180f"  # Mongolian free variation selectors
    "\u2800"  # Braille pattern blank
) | frozenset(chr(point) for point in [*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)])


def text_problem(text: str) -> Code | None:
    """`Code.INVALID_CHARACTER` when the text holds a character no text may hold, else
    None."""
    return Code.INVALID_CHARACTER if any(_refused(char) for char in text) else None


def _refused(char: str) -> bool:
    category = unicodedata.category(char)
    return (category == "Cc" and char not in ALLOWED_CONTROLS) or category == "Cs"


def without_refused(text: str) -> str:
    """The text without the characters no text may hold: what a form shows back, for the
    person to check and send again, after a refusal."""
    return "".join(char for char in text if not _refused(char))


def is_blank(text: str) -> bool:
    """True when nothing in the text can be seen."""
    return all(
        char in BLANK_CHARACTERS or unicodedata.category(char) in BLANK_CATEGORIES for char in text
    )


def normalise(text: str) -> str:
    """The text as kept: NFC, stripped, and "" when nothing in it can be seen. It does
    not check the characters: `clean_text` does both."""
    kept = unicodedata.normalize("NFC", text).strip()
    return "" if is_blank(kept) else kept


def clean_text(text: str, field: str) -> str:
    """The text as kept (`normalise`); raises `InvalidInput` ({field: INVALID_CHARACTER})
    when it holds a character no text may hold. A caller that requires the text refuses
    the "" it may return."""
    if text_problem(text) is not None:
        raise InvalidInput({field: Code.INVALID_CHARACTER})
    return normalise(text)


def check_texts(texts: dict[str, str]) -> dict[str, Code]:
    """The problem of each text that has one, by field (for a service that gathers every
    refusal of a form before raising)."""
    found = {field: text_problem(text) for field, text in texts.items()}
    return {field: code for field, code in found.items() if code is not None}
