"""Reading what a person sends: menu numbers and receipt codes in any script's digits,
the language a text's script points to, whether a first message tells a story."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from intake.sms.dialogue.model import DialogueConfig

RECEIPT_DIGITS = 16


def ascii_digits(text: str) -> str:
    """Digits of any script as ASCII (১২৩ → 123, ٣ → 3, ፫ → 3); other characters kept."""
    out = []
    for char in text:
        value = unicodedata.digit(char, None)
        out.append(str(value) if value is not None else char)
    return "".join(out)


def choice(text: str) -> int | None:
    """A menu answer: a number alone, in any script, with spaces or a dot around it."""
    core = ascii_digits(unicodedata.normalize("NFC", text)).strip().strip(".)(-# ").strip()
    return int(core) if core.isascii() and core.isdigit() and len(core) <= 3 else None


def receipt_code(text: str) -> str | None:
    """The 16 digits when the whole message is a receipt code (spaces and dashes allowed)."""
    core = "".join(ascii_digits(text).split()).replace("-", "").replace(".", "")
    if len(core) == RECEIPT_DIGITS and core.isascii() and core.isdigit():
        return core
    return None


# Scripts that tell a language, by code point range.
_SCRIPTS: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (0x0980, 0x09FF, ("bn",)),
    (0x0B80, 0x0BFF, ("ta",)),
    (0x0900, 0x097F, ("hi",)),
    (0x0600, 0x06FF, ("ar", "ur")),
    (0x0750, 0x077F, ("ar", "ur")),
    (0xFB50, 0xFDFF, ("ar", "ur")),
    (0xFE70, 0xFEFF, ("ar", "ur")),
    (0x1000, 0x109F, ("my",)),
    (0x1780, 0x17FF, ("km",)),
    (0x1200, 0x139F, ("am",)),
    (0x4E00, 0x9FFF, ("zh",)),
    (0x3400, 0x4DBF, ("zh",)),
)
#: Letters Urdu uses and Arabic does not; and the reverse.
_URDU_ONLY = frozenset("ٹڈڑںےۓھگچپژکی")
_ARABIC_ONLY = frozenset("ةىكيإأآؤئ")


def detect_language(text: str, offered: Sequence[str]) -> tuple[str, ...]:
    """The offered languages the text's script points to: one when sure, two for an
    Arabic-script text that could be Arabic or Urdu, none for Latin or mixed text."""
    counts: dict[tuple[str, ...], int] = {}
    letters = 0
    for char in text:
        if not unicodedata.category(char).startswith("L"):
            continue
        letters += 1
        point = ord(char)
        for low, high, languages in _SCRIPTS:
            if low <= point <= high:
                counts[languages] = counts.get(languages, 0) + 1
                break
    if not counts:
        return ()
    languages, count = max(counts.items(), key=lambda item: item[1])
    if count * 10 < letters * 8:  # under 80 % of the letters: not sure
        return ()
    if languages == ("ar", "ur"):
        urdu = sum(char in _URDU_ONLY for char in text)
        arabic = sum(char in _ARABIC_ONLY for char in text)
        if urdu and not arabic:
            languages = ("ur",)
        elif arabic and not urdu:
            languages = ("ar",)
    return tuple(code for code in languages if code in offered)


def tells_a_story(text: str, config: DialogueConfig) -> bool:
    """Whether a first message already tells what happened (kept as the statement's start)."""
    letters = [char for char in text if unicodedata.category(char).startswith("L")]
    han = sum(0x3400 <= ord(char) <= 0x9FFF for char in letters)
    return len(letters) >= config.story_letters or han >= config.story_letters // 3
