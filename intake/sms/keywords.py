"""The words a person may send instead of an answer, in English and in each language.

A keyword counts only when it is the whole message (after case folding, NFC and dropping
spaces and punctuation around it): "stop" stops, "please stop the overtime" is a statement.
Every language's words are recognised whatever the conversation's language, so a STOP in
any of them is honoured. The first word of each list is the one the texts show.

These are data, not catalog entries: a keyword must stay a keyword when a translation of
the texts changes, and the texts show them through placeholders.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Mapping


class Keyword(enum.StrEnum):
    HELP = "help"
    STOP = "stop"
    START = "start"
    STATUS = "status"
    NEW = "new"
    LANGUAGE = "language"
    DONE = "done"
    SKIP = "skip"


#: Carrier opt-out and opt-in words (CTIA, Twilio): always honoured, in every language.
CARRIER_WORDS: Mapping[Keyword, tuple[str, ...]] = {
    Keyword.STOP: ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"),
    Keyword.START: ("START", "UNSTOP", "YES"),
    Keyword.HELP: ("HELP", "INFO"),
}

#: Digits that answer "done" and "skip" in the texts (in any script's digits).
DONE_DIGIT = "1"
SKIP_DIGIT = "0"

# fmt: off
WORDS: Mapping[Keyword, Mapping[str, tuple[str, ...]]] = {
    Keyword.HELP: {
        "en": ("HELP",), "nl": ("HELP", "HULP"), "bn": ("সাহায্য",), "ta": ("உதவி",),
        "hi": ("मदद", "सहायता"), "ur": ("مدد",), "ar": ("مساعدة",), "my": ("အကူအညီ",),
        "km": ("ជំនួយ",), "vi": ("GIÚP", "GIUP"), "tr": ("YARDIM",), "es": ("AYUDA",),
        "fr": ("AIDE",), "pt": ("AJUDA",), "zh": ("帮助",), "id": ("BANTUAN",),
        "sw": ("MSAADA",), "am": ("እርዳታ",),
    },
    Keyword.STOP: {
        "en": ("STOP",), "nl": ("STOP",), "bn": ("বন্ধ",), "ta": ("நிறுத்து",),
        "hi": ("बंद", "रोकें"), "ur": ("بند",), "ar": ("توقف", "إيقاف"), "my": ("ရပ်",),
        "km": ("ឈប់",), "vi": ("DỪNG", "DUNG"), "tr": ("DUR",), "es": ("PARAR", "BAJA"),
        "fr": ("ARRET", "ARRÊT"), "pt": ("PARAR", "SAIR"), "zh": ("停止",),
        "id": ("BERHENTI",), "sw": ("ACHA",), "am": ("አቁም",),
    },
    Keyword.START: {
        "en": ("START",), "nl": ("START",), "bn": ("শুরু",), "ta": ("தொடங்கு",),
        "hi": ("शुरू",), "ur": ("شروع",), "ar": ("ابدأ", "بدء"), "my": ("စတင်",),
        "km": ("ចាប់ផ្តើម",), "vi": ("BẮT ĐẦU", "BAT DAU"), "tr": ("BAŞLA", "BASLA"),
        "es": ("INICIO", "ALTA"), "fr": ("DEBUT", "DÉBUT"), "pt": ("INICIAR",),
        "zh": ("开始",), "id": ("MULAI",), "sw": ("ANZA",), "am": ("ጀምር",),
    },
    Keyword.STATUS: {
        "en": ("STATUS",), "nl": ("STATUS",), "bn": ("অবস্থা", "স্ট্যাটাস"), "ta": ("நிலை",),
        "hi": ("स्थिति",), "ur": ("صورتحال", "حالت"), "ar": ("الحالة", "حالة"),
        "my": ("အခြေအနေ",), "km": ("ស្ថានភាព",), "vi": ("TÌNH TRẠNG", "TINH TRANG"),
        "tr": ("DURUM",), "es": ("ESTADO",), "fr": ("ETAT", "ÉTAT"), "pt": ("ESTADO",),
        "zh": ("状态",), "id": ("STATUS",), "sw": ("HALI",), "am": ("ሁኔታ",),
    },
    Keyword.NEW: {
        "en": ("NEW",), "nl": ("NIEUW",), "bn": ("নতুন",), "ta": ("புதிய",),
        "hi": ("नया",), "ur": ("نیا",), "ar": ("جديد",), "my": ("အသစ်",),
        "km": ("ថ្មី",), "vi": ("MỚI", "MOI"), "tr": ("YENİ", "YENI"), "es": ("NUEVA", "NUEVO"),
        "fr": ("NOUVELLE", "NOUVEAU"), "pt": ("NOVA", "NOVO"), "zh": ("新",),
        "id": ("BARU",), "sw": ("MPYA",), "am": ("አዲስ",),
    },
    Keyword.LANGUAGE: {
        "en": ("LANGUAGE",), "nl": ("TAAL",), "bn": ("ভাষা",), "ta": ("மொழி",),
        "hi": ("भाषा",), "ur": ("زبان",), "ar": ("اللغة", "لغة"), "my": ("ဘာသာ",),
        "km": ("ភាសា",), "vi": ("NGÔN NGỮ", "NGON NGU"), "tr": ("DİL", "DIL"),
        "es": ("IDIOMA",), "fr": ("LANGUE",), "pt": ("IDIOMA", "LINGUA", "LÍNGUA"),
        "zh": ("语言",), "id": ("BAHASA",), "sw": ("LUGHA",), "am": ("ቋንቋ",),
    },
    Keyword.DONE: {
        "en": ("DONE",), "nl": ("KLAAR",), "bn": ("শেষ",), "ta": ("முடிந்தது",),
        "hi": ("बस", "पूरा"), "ur": ("ختم",), "ar": ("تم", "انتهيت"), "my": ("ပြီးပြီ",),
        "km": ("រួចរាល់",), "vi": ("XONG",), "tr": ("TAMAM", "BİTTİ", "BITTI"),
        "es": ("LISTO",), "fr": ("FINI", "TERMINE", "TERMINÉ"), "pt": ("PRONTO",),
        "zh": ("完成",), "id": ("SELESAI",), "sw": ("TAYARI", "NIMEMALIZA"), "am": ("ጨርሻለሁ",),
    },
    Keyword.SKIP: {
        "en": ("SKIP",), "nl": ("OVERSLAAN",), "bn": ("বাদ",), "ta": ("தவிர்",),
        "hi": ("छोड़ें",), "ur": ("چھوڑیں",), "ar": ("تخطي", "تخطى"), "my": ("ကျော်",),
        "km": ("រំលង",), "vi": ("BỎ QUA", "BO QUA"), "tr": ("GEÇ", "GEC"), "es": ("SALTAR",),
        "fr": ("PASSER",), "pt": ("PULAR",), "zh": ("跳过",), "id": ("LEWATI",),
        "sw": ("RUKA",), "am": ("ዝለል",),
    },
}
# fmt: on


def fold(text: str) -> str:
    """The form keywords are compared in: NFC, case-folded, inner spaces single, and
    punctuation, symbols and spaces around the word dropped ("Stop!" is STOP)."""
    text = unicodedata.normalize("NFC", text).casefold()
    text = " ".join(text.split())
    keep = {"L", "M", "N"}  # letters, marks (Indic vowel signs), numbers
    start, end = 0, len(text)
    while start < end and unicodedata.category(text[start])[0] not in keep:
        start += 1
    while end > start and unicodedata.category(text[end - 1])[0] not in keep:
        end -= 1
    return text[start:end]


def _index() -> dict[str, Keyword]:
    index: dict[str, Keyword] = {}
    for keyword, by_language in WORDS.items():
        for words in by_language.values():
            for word in words:
                index.setdefault(fold(word), keyword)
    for keyword, words in CARRIER_WORDS.items():
        for word in words:
            index[fold(word)] = keyword  # carrier words win over any other reading
    return index


INDEX: Mapping[str, Keyword] = _index()


def keyword_of(text: str) -> Keyword | None:
    """The keyword the whole message is, if it is one."""
    return INDEX.get(fold(text))


def leading_keyword(text: str) -> tuple[Keyword, str] | None:
    """A keyword followed by more (STATUS 1234 …): the keyword and the rest, unfolded."""
    folded = fold(text)
    for word, keyword in sorted(INDEX.items(), key=lambda item: -len(item[0])):
        if folded.startswith(word + " ") or (
            folded.startswith(word) and len(folded) > len(word) and folded[len(word)].isdecimal()
        ):
            return keyword, folded[len(word) :].strip()
    return None


def shown(keyword: Keyword, language: str) -> str:
    """The word the texts show for `keyword` in `language` (English if it has none)."""
    by_language = WORDS[keyword]
    return (by_language.get(language) or by_language["en"])[0]
