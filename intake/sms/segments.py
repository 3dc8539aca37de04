"""What an outbound SMS costs: its encoding and its number of segments.

Text is NFC-normalised first and never altered otherwise: a character outside GSM-7 makes
the whole message UCS-2, it is not replaced by a look-alike (á stays á).

- GSM-7 (3GPP TS 23.038 default alphabet): 160 septets in one SMS, 153 per part of a
  concatenated one; the extension table characters cost two septets (escape + code).
- UCS-2 (UTF-16 code units): 70 in one SMS, 67 per part; characters outside the Basic
  Multilingual Plane take two units.

Parts are cut the way a modem cuts them: a part never ends between the two septets of an
extension character nor between the two halves of a surrogate pair, so a part may hold
one unit less than the maximum and the count is not a plain division.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass

#: The GSM 03.38 default alphabet, in table order (0x1B, the escape, is left out).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The extension table: each costs an escape septet plus its own.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67


class Encoding(enum.StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


@dataclass(frozen=True)
class Measure:
    """An outbound text as the network carries it."""

    text: str  # NFC
    encoding: Encoding
    #: Septets (GSM-7) or UTF-16 code units (UCS-2).
    units: int
    segments: int
    #: The parts as sent, each within the limit of a part (one part when it fits whole).
    parts: tuple[str, ...]


def normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def is_gsm7(text: str) -> bool:
    """Whether every character of the (NFC) text is in the GSM-7 alphabet or extension."""
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in normalise(text))


def unit_cost(char: str, encoding: Encoding) -> int:
    if encoding is Encoding.GSM7:
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def measure(text: str) -> Measure:
    """Encoding, size and parts of `text` once normalised. The empty text is one segment."""
    text = normalise(text)
    encoding = Encoding.GSM7 if is_gsm7(text) else Encoding.UCS2
    single, part = (
        (GSM7_SINGLE, GSM7_PART) if encoding is Encoding.GSM7 else (UCS2_SINGLE, UCS2_PART)
    )
    costs = [unit_cost(char, encoding) for char in text]
    units = sum(costs)
    if units <= single:
        return Measure(text, encoding, units, 1, (text,))
    parts: list[str] = []
    start, filled = 0, 0
    for index, cost in enumerate(costs):
        if filled + cost > part:  # the character does not fit whole: it opens the next part
            parts.append(text[start:index])
            start, filled = index, 0
        filled += cost
    parts.append(text[start:])
    return Measure(text, encoding, units, len(parts), tuple(parts))


def segment_count(text: str) -> int:
    return measure(text).segments
