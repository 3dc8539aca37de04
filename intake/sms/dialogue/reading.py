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


# Scripts, by code point range, with the languages that write them. A script one language
# alone writes tells it; a shared script is told apart by what each language alone uses.
_SCRIPTS: tuple[tuple[int, int, str], ...] = (
    (0x0980, 0x09FF, "bengali"),
    (0x0B80, 0x0BFF, "tamil"),
    (0x0900, 0x097F, "devanagari"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0xFB50, 0xFDFF, "arabic"),
    (0xFE70, 0xFEFF, "arabic"),
    (0x1000, 0x109F, "myanmar"),
    (0x1780, 0x17FF, "khmer"),
    (0x1200, 0x139F, "ethiopic"),
    (0x4E00, 0x9FFF, "han"),
    (0x3400, 0x4DBF, "han"),
)
#: The script's languages; one alone: told by the script.
_WRITERS = {
    "bengali": ("bn",),
    "tamil": ("ta",),
    "devanagari": ("hi", "mr", "ne"),
    "arabic": ("ar", "ur", "fa"),
    "myanmar": ("my",),
    "khmer": ("km",),
    "ethiopic": ("am",),
    "han": ("zh",),
}

#: Letters of the Arabic script that one language uses and the others of `_WRITERS` do not
#: (common letters only; آ, ئ and ؤ are everyday Urdu and Persian, not clues).
_URDU = frozenset("ٹڈڑںےۓ") | frozenset("\u06be")  # ھ, the two-eyed he of Urdu
_ARABIC = frozenset("ةىيكإ")  # ta marbuta, alif maqsura, Arabic yeh and kaf, hamza below
#: Letters Persian and Urdu share and Arabic does not: Urdu, or Persian, not Arabic.
_PERSIAN_OR_URDU = frozenset("پچژگکی")
#: Devanagari: letters Marathi alone uses, and everyday words of each language.
_MARATHI_LETTERS = frozenset("ळऱ")
_DEVANAGARI_WORDS = {
    "hi": frozenset({"है", "हैं", "में", "नहीं", "और", "का", "की", "के", "से", "मुझे", "हम", "था"}),
    "mr": frozenset({"आहे", "आहेत", "आणि", "नाही", "मला", "आम्ही", "आमचे", "आमच्या", "होते"}),
    "ne": frozenset({"छ", "छन्", "छैन", "हो", "हुन्छ", "भएको", "गरेको", "हामी", "मलाई", "र", "पनि"}),
}


def _letters_by_script(text: str) -> tuple[dict[str, int], int]:
    counts: dict[str, int] = {}
    letters = 0
    for char in text:
        if not unicodedata.category(char).startswith("L"):
            continue
        letters += 1
        point = ord(char)
        for low, high, script in _SCRIPTS:
            if low <= point <= high:
                counts[script] = counts.get(script, 0) + 1
                break
    return counts, letters


def _arabic_script(text: str) -> tuple[str, ...]:
    urdu = any(char in _URDU for char in text)
    arabic = any(char in _ARABIC for char in text)
    shared = any(char in _PERSIAN_OR_URDU for char in text)
    if urdu and not arabic:
        return ("ur",)
    if arabic and not (urdu or shared):
        return ("ar",)
    if shared and not arabic:
        return ("ur", "fa")  # Persian writes no letter Urdu does not
    return ("ar", "ur", "fa")


def _devanagari(text: str) -> tuple[str, ...]:
    if any(char in _MARATHI_LETTERS for char in text):
        return ("mr",)
    words = set(text.replace("।", " ").split())
    told = tuple(code for code, markers in _DEVANAGARI_WORDS.items() if words & markers)
    return told if len(told) == 1 else ("hi", "mr", "ne")


def detect_language(text: str, offered: Sequence[str]) -> tuple[str, ...]:
    """What the text's letters say of its language, among the offered ones: one language
    when only it could have written the text; several to choose from (a menu) when the
    script is shared and the text does not tell them apart; none (the whole menu) when it
    is Latin or mixed, or when a language that is not offered is as likely as the one
    offered language left: a Persian text is not taken for Urdu, nor a Marathi or Nepali
    one for Hindi."""
    counts, letters = _letters_by_script(text)
    if not counts:
        return ()
    script, count = max(counts.items(), key=lambda item: item[1])
    if count * 10 < letters * 8:  # under 80 % of the letters: not sure
        return ()
    candidates = _WRITERS[script]
    if script == "arabic":
        candidates = _arabic_script(text)
    elif script == "devanagari":
        candidates = _devanagari(text)
    kept = tuple(code for code in candidates if code in offered)
    if len(kept) < len(candidates) and len(kept) < 2:
        return ()
    return kept


def tells_a_story(text: str, config: DialogueConfig) -> bool:
    """Whether a first message already tells what happened (kept as the statement's start)."""
    letters = [char for char in text if unicodedata.category(char).startswith("L")]
    han = sum(0x3400 <= ord(char) <= 0x9FFF for char in letters)
    return len(letters) >= config.story_letters or han >= config.story_letters // 3
