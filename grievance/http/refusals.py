"""What a service's refusal of an answer says on a page, in the reader's language.

A service that refuses input raises `InvalidInput`: each field it names carries a `Code`,
never words. `MESSAGES` gives every code its translated message (a test checks that none
is missing); a form may say one field's problem more precisely (`specific`, by field and
code). The numbers a message names (`%(max)d` ...) come with the refusal
(`InvalidInput.limits`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from grievance.services.errors import Code, InvalidInput
from grievance.services.texts import without_refused

MESSAGES: Mapping[Code, Any] = {
    Code.REQUIRED: _l("Please answer this question."),
    Code.TOO_LONG: _l("Please keep it under %(max)d characters."),
    Code.OUT_OF_RANGE: _l("Give a number from %(min)d to %(max)d."),
    Code.UNKNOWN: _l("Not a valid choice."),
    Code.INVALID_CHARACTER: _l(
        "This text had a hidden control character that cannot be kept. We took it out: "
        "please check the text and send it again."
    ),
    Code.NOT_OFFERED: _l("The mechanism you chose does not offer this language."),
    Code.INVALID_PHONE: _l("Give your phone number with its country code, starting with +."),
    Code.INVALID_EMAIL: _l("Give an e-mail address, like name@example.org."),
    Code.CONTACT_WITHOUT_CHANNEL: _l("Choose how we may contact you."),
    Code.NAMED_WHEN_ANONYMOUS: _l(
        "You chose to stay anonymous: leave your name out, or choose another option."
    ),
    Code.SHARE_REQUIRES_OPEN: _l(
        "Only an open complaint can share who you are with the companies."
    ),
    Code.RECEIVED_IN_FUTURE: _l("This day has not come yet: give the day the complaint arrived."),
    Code.NOT_A_STAFF_CHANNEL: _l("Choose how the complaint arrived."),
    Code.NOT_A_REVIEWER: _l("This person is not an active reviewer."),
    Code.ALREADY_ASSIGNED: _l("This reviewer is already on the case."),
    Code.NOT_ASSIGNED: _l("This reviewer is not on the case."),
    Code.NO_PROFILE: _l("Save the profile first, then declare conflicts."),
    Code.ALREADY_DECLARED: _l("This conflict is already declared."),
    Code.ALREADY_WITHDRAWN: _l("This conflict was already withdrawn."),
    Code.ALREADY_IN_CASE: _l("This company is already in the case."),
    Code.NOT_IN_CASE: _l("Add the company to the case first."),
    Code.ALREADY_PROPOSED: _l("A classification of this company is waiting for a second reviewer."),
    Code.SAME_REVIEWER: _l("Another reviewer of the case must confirm this."),
    Code.ALREADY_DONE: _l("This was already decided."),
    Code.NO_EXTENSION_LEFT: _l("This time limit cannot be extended any more."),
}

#: A message for one field's problem, where a form says it better: (field, code) -> text.
Specific = Mapping[tuple[str, Code], Any]


def show_back(field: Any, code: Code) -> None:
    """A refused form field as it comes back: without the characters no text may hold
    (the refusal says they were taken out), so that sending it again works."""
    if code is Code.INVALID_CHARACTER and isinstance(field.data, str):
        field.data = without_refused(field.data)


def message(refused: InvalidInput, field: str, specific: Specific | None = None) -> str:
    """What to say of `field` in the reader's language: its form's own message for the
    code if it has one, else the code's."""
    code = refused.errors[field]
    text = (specific or {}).get((field, code)) or MESSAGES[code]
    return str(text) % refused.limits.get(field, {})
