"""The specific errors services raise. Channels turn them into translated messages."""

from __future__ import annotations

import enum
from collections.abc import Mapping


class ServiceError(Exception):
    """Base of every refusal by a service; nothing was written when it is raised."""


class NotAllowed(ServiceError):
    """The actor may not do this to this case (role, scope or assignment)."""


class ForbiddenTransition(NotAllowed):
    """The lifecycle has no such move, or not for this role."""

    def __init__(self, source: str, target: str, role: str, why: str = "") -> None:
        self.source, self.target, self.role = source, target, role
        message = f"{role} may not move a case from {source} to {target}"
        super().__init__(f"{message}: {why}" if why else message)


class FourEyesRequired(ServiceError):
    """This decision takes effect only when a second reviewer confirms it."""


class FourEyesViolation(NotAllowed):
    """The reviewer who proposed a decision cannot also confirm it."""


class ProposalPending(ServiceError):
    """The case already has a decision waiting for confirmation."""


class ReasonRequired(ServiceError):
    """This decision must give its reasons (R07, R12)."""


class ConflictOfInterest(NotAllowed):
    """The reviewer declared a conflict with a company or site of the case."""


class Code(enum.StrEnum):
    """What is wrong with one answer. A code, never words: each channel says it in its
    own (the pages in the reader's language, `grievance.http.refusals`; the JSON API in
    English; the SMS dialogue in its texts)."""

    #: Nothing was given where something must be.
    REQUIRED = "required"
    #: Longer than the rule allows (the limit: `InvalidInput.limits[field]["max"]`).
    TOO_LONG = "too_long"
    #: A number outside its range (`limits[field]`: "min" and "max").
    OUT_OF_RANGE = "out_of_range"
    #: Not one of the known values (a theme, a site, a country, a consent, a type ...).
    UNKNOWN = "unknown"
    #: A text holding a character no text may hold: a control character other than tab,
    #: line feed and carriage return (NUL ...), or half of a surrogate pair
    #: (`grievance.services.texts`).
    INVALID_CHARACTER = "invalid_character"
    #: A language the mechanism does not offer.
    NOT_OFFERED = "not_offered"
    INVALID_PHONE = "invalid_phone"
    INVALID_EMAIL = "invalid_email"
    #: A contact address without a way of contacting that uses it.
    CONTACT_WITHOUT_CHANNEL = "contact_without_channel"
    #: A name or personal details on an anonymous complaint.
    NAMED_WHEN_ANONYMOUS = "named_when_anonymous"
    #: Consent to share the identity with the companies, on a complaint that is not open.
    SHARE_REQUIRES_OPEN = "share_requires_open"
    #: A complaint recorded as received on a day that has not come yet.
    RECEIVED_IN_FUTURE = "received_in_future"
    #: Staff record only what came by phone, by letter or in person.
    NOT_A_STAFF_CHANNEL = "not_a_staff_channel"
    NOT_A_REVIEWER = "not_a_reviewer"
    ALREADY_ASSIGNED = "already_assigned"
    NOT_ASSIGNED = "not_assigned"
    #: The reviewer has no profile yet.
    NO_PROFILE = "no_profile"
    ALREADY_DECLARED = "already_declared"
    ALREADY_WITHDRAWN = "already_withdrawn"
    #: The company is in the case already.
    ALREADY_IN_CASE = "already_in_case"
    #: The company is not in the case.
    NOT_IN_CASE = "not_in_case"
    #: A classification of this company waits for a second reviewer already.
    ALREADY_PROPOSED = "already_proposed"
    #: The same reviewer cannot be both pairs of eyes.
    SAME_REVIEWER = "same_reviewer"
    #: Done already (an obligation verified, a proposal decided).
    ALREADY_DONE = "already_done"
    #: The time limit has no extension left.
    NO_EXTENSION_LEFT = "no_extension_left"


class InvalidInput(ServiceError):
    """Input that breaks a rule of the domain. `errors` maps each field to its `Code`;
    `limits` gives, by field, the numbers a code's message names ("max" for TOO_LONG,
    "min" and "max" for OUT_OF_RANGE)."""

    def __init__(
        self,
        errors: Mapping[str, Code],
        limits: Mapping[str, Mapping[str, int]] | None = None,
        reasons: Mapping[str, str] | None = None,
    ) -> None:
        self.errors: dict[str, Code] = dict(errors)
        self.limits: dict[str, dict[str, int]] = {
            field: dict(numbers) for field, numbers in (limits or {}).items()
        }
        #: By field, why in more detail, in English, for programs (the JSON API): a
        #: page says its code's message in the reader's language.
        self.reasons: dict[str, str] = dict(reasons or {})
        super().__init__("; ".join(f"{field}: {code}" for field, code in self.errors.items()))

    @classmethod
    def too_long(cls, field: str, most: int) -> InvalidInput:
        return cls({field: Code.TOO_LONG}, {field: {"max": most}})
