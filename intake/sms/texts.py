"""Every text the SMS dialogue sends, in plain words for people who read little.

Each is a catalog message (`make extract` collects them) rendered in the person's
language with `render`; each must fit in three SMS segments in every language, which is
about 200 characters once the text goes out as UCS-2 (Bengali, Arabic, Chinese ... and
most accented Latin): keep the English short. `tests/unit/test_sms_segments.py` measures
every one in every catalog.

Keywords are shown through placeholders (%(stop)s ...) filled from `keywords.WORDS` in
the person's language, so a translation never has to spell a keyword.

The language menu is not translated: each language is shown in its own script, with
Babel's name for it (`language_menu`).
"""

from __future__ import annotations

import enum
import gettext
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from babel import Locale
from flask_babel import lazy_gettext as _l

from intake.sms.keywords import Keyword, shown
from intake.sms.segments import segment_count

MAX_SEGMENTS = 3


class Text(enum.StrEnum):
    WELCOME_MENU = "welcome_menu"
    LANGUAGE_PROMPT = "language_prompt"
    CHOOSE_NUMBER = "choose_number"
    WELCOME = "welcome"
    ANONYMITY = "anonymity"
    CONSENT_PUBLISH = "consent_publish"
    STATEMENT = "statement"
    STATEMENT_KEPT = "statement_kept"
    STATEMENT_MORE = "statement_more"
    LOCATION = "location"
    COMPANY = "company"
    TOO_LONG = "too_long"
    UNREADABLE = "unreadable"
    FILED = "filed"
    MESSAGE_SENT = "message_sent"
    HELP = "help"
    ATTACH_HINT = "attach_hint"
    STOPPED = "stopped"
    STARTED = "started"
    STATUS = "status"
    STATUS_DUE = "status_due"
    STATUS_NEED_CODE = "status_need_code"
    UNKNOWN_CODE = "unknown_code"
    ATTACHED = "attached"
    NEW = "new"
    EXPIRED = "expired"
    SATISFACTION_ASK = "satisfaction_ask"
    SATISFACTION_THANKS = "satisfaction_thanks"
    REMEDY_PLAN_ASK = "remedy_plan_ask"


# The placeholders each text takes (besides the keywords, which every text may use).
TEXTS: Mapping[Text, Any] = {
    Text.WELCOME_MENU: _l(
        "Welcome to the complaints service. It is free and safe. Send the number of your language:"
    ),
    Text.LANGUAGE_PROMPT: _l("Send the number of your language:"),
    Text.CHOOSE_NUMBER: _l("Please send only the number of your choice."),
    Text.WELCOME: _l(
        "Welcome to the complaints service. It is free. Independent reviewers read every "
        "complaint. Companies never see your phone number."
    ),
    Text.ANONYMITY: _l(
        "Who may know who you are? Send 1: nobody. 2: only the reviewers. 3: the companies too."
    ),
    Text.CONSENT_PUBLISH: _l(
        "We may publish a short summary of the complaint, without names. "
        "Send 1 if we may, 2 if not."
    ),
    Text.STATEMENT: _l(
        "Tell us what happened, in your own words. You can send several messages. "
        "When you have finished, send %(done)s."
    ),
    Text.STATEMENT_KEPT: _l(
        "We kept your first message. You can add more messages. "
        "When you have finished, send %(done)s."
    ),
    Text.STATEMENT_MORE: _l("Received. Send more, or send %(done)s when you have finished."),
    Text.LOCATION: _l("Where did it happen? Send the place or factory. Send %(skip)s to skip."),
    Text.COMPANY: _l("Which company is it about? Send %(skip)s to skip."),
    Text.TOO_LONG: _l("Your answer is too long. Please send at most %(max)s characters."),
    Text.UNREADABLE: _l("We could not read your last message. Please send it again."),
    Text.FILED: _l(
        "Your complaint is filed. Case number: %(reference)s. Receipt code: %(code)s. "
        "Keep this code secret. You need it to follow your case."
    ),
    Text.MESSAGE_SENT: _l("Your message was sent to the reviewers."),
    Text.HELP: _l(
        "Send %(status)s to see your case, %(new)s for a new complaint, "
        "%(language)s to change language, %(stop)s to get no more messages."
    ),
    Text.ATTACH_HINT: _l("New phone? Send your receipt code to link it to your case."),
    Text.STOPPED: _l("You will get no more messages from us. Send %(start)s to get them again."),
    Text.STARTED: _l("You will get our messages again. Send %(help)s for help."),
    Text.STATUS: _l("Case %(reference)s: %(stage)s"),
    Text.STATUS_DUE: _l("Case %(reference)s: %(stage)s Next step by %(due)s."),
    Text.STATUS_NEED_CODE: _l("Send %(status)s and your receipt code."),
    Text.UNKNOWN_CODE: _l("We do not know this code. Check it and send it again."),
    Text.ATTACHED: _l(
        "This phone is now linked to case %(reference)s. Your messages go to the reviewers."
    ),
    Text.NEW: _l("We start a new complaint."),
    Text.EXPIRED: _l(
        "We did not hear from you for a long time, so we closed this conversation. "
        "Nothing was filed. Send a message to start again."
    ),
    Text.SATISFACTION_ASK: _l(
        "Case %(reference)s is closed. Was the harm put right? Send 1: yes. 2: partly. 3: no."
    ),
    Text.SATISFACTION_THANKS: _l("Thank you. We have noted your answer."),
    # the plan itself is explained by the reviewers (a message or a call); this asks only
    Text.REMEDY_PLAN_ASK: _l(
        "Case %(reference)s: do you agree with the plan to put the harm right? "
        "Send 1: yes. 2: no. 3: I want to talk."
    ),
}

#: The stage of a case in plain words (keys: `grievance.models.Stage` values).
STAGE_WORDS: Mapping[str, Any] = {
    "received": _l("We received your complaint."),
    "acknowledged": _l("We confirmed your complaint."),
    "admissibility": _l("Reviewers check if we can handle it."),
    "dialogue": _l("Talks with the companies to find a solution."),
    "investigation": _l("Reviewers are looking at the facts."),
    "findings": _l("Reviewers are deciding what happened."),
    "remedy_plan": _l("A plan to put the harm right is being made."),
    "remedy_implementation": _l("The companies are carrying out the plan."),
    "remedy_verification": _l("We check with you that the harm was put right."),
    "appeal": _l("Your appeal is being looked at."),
    "inadmissible": _l("We cannot handle it. We sent you the reasons."),
    "referred": _l("Sent on to another service that can handle it."),
    "withdrawn": _l("Withdrawn."),
    "closed": _l("Closed."),
}

#: Placeholders filled with the person's keyword of that name.
KEYWORD_PARAMS: Mapping[str, Keyword] = {
    "help": Keyword.HELP,
    "stop": Keyword.STOP,
    "start": Keyword.START,
    "status": Keyword.STATUS,
    "new": Keyword.NEW,
    "language": Keyword.LANGUAGE,
}
#: "done" and "skip" are shown as digits: easier to type than a word on any keypad.
DIGIT_PARAMS: Mapping[str, str] = {"done": "1", "skip": "0"}


def msgid(message: Any) -> str:
    """The catalog key of a lazy string (flask_babel keeps its arguments)."""
    value = message._args[0]
    assert isinstance(value, str)
    return value


def keyword_params(language: str) -> dict[str, str]:
    params = {name: shown(keyword, language) for name, keyword in KEYWORD_PARAMS.items()}
    return {**params, **DIGIT_PARAMS}


def render(
    text: Text,
    params: Mapping[str, str],
    language: str,
    translations: gettext.NullTranslations,
) -> str:
    """`text` in the catalog `translations` of `language`, filled in, NFC."""
    message = translations.gettext(msgid(TEXTS[text]))
    values = {**keyword_params(language), **params}
    return unicodedata.normalize("NFC", message % values)


def stage_words(stage: str, translations: gettext.NullTranslations) -> str:
    return translations.gettext(msgid(STAGE_WORDS[stage]))


def language_name(code: str) -> str:
    """The language's name in its own script (Babel/CLDR), capitalised where it has case."""
    name = Locale.parse(code).display_name or code
    return name[:1].upper() + name[1:]


def language_menu(codes: Sequence[str]) -> list[str]:
    """The numbered menu of `codes`, as few messages as possible, each within
    `MAX_SEGMENTS` segments; numbers run on from one message to the next."""
    lines = [f"{number} {language_name(code)}" for number, code in enumerate(codes, start=1)]
    messages: list[str] = []
    current: list[str] = []
    for line in lines:
        if current and segment_count("\n".join([*current, line])) > MAX_SEGMENTS:
            messages.append("\n".join(current))
            current = []
        current.append(line)
    if current:
        messages.append("\n".join(current))
    return messages
