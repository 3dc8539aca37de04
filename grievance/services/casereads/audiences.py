"""Who reads a case: the five audiences of the read models, and what of the log each sees.

An audience's visibility is the widest level of `caselog.EVENT_KINDS` it may see; a
company sees, of the `public` and `parties` events, only what concerns it (the kind's
`concerns`, and the company the event names). No new rule lives here: the table decides.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from grievance.models import CaseEvent, Visibility
from grievance.services.caselog import EVENT_KINDS, Concerns
from grievance.services.company_deadlines import company_of_code
from grievance.services.deadlines import REMEDY_ACTION_PREFIX


class Reader(enum.StrEnum):
    """The kinds of audience; the event renderers are registered per reader."""

    COMPLAINANT = "complainant"
    REVIEWER = "reviewer"
    COMPANY = "company"
    SECRETARIAT = "secretariat"
    PUBLIC = "public"


#: The widest level of the log each reader may see (DESIGN invariant 4).
VISIBILITY = {
    Reader.PUBLIC: Visibility.PUBLIC,
    Reader.COMPLAINANT: Visibility.PARTIES,
    Reader.COMPANY: Visibility.PARTIES,
    Reader.REVIEWER: Visibility.REVIEWERS,
    Reader.SECRETARIAT: Visibility.REVIEWERS,
}


@dataclass(frozen=True)
class Audience:
    """One audience of a case: a reader, and for a company, which one."""

    reader: Reader
    company_id: int | None = None

    def __post_init__(self) -> None:
        if (self.reader is Reader.COMPANY) != (self.company_id is not None):
            raise ValueError("a company audience, and only it, names its company")

    @property
    def visibility(self) -> Visibility:
        return VISIBILITY[self.reader]

    @property
    def staff(self) -> bool:
        """Reviewers and the secretariat: they see who acted (role and staff user)."""
        return self.visibility >= Visibility.REVIEWERS

    @classmethod
    def complainant(cls) -> Audience:
        return COMPLAINANT

    @classmethod
    def reviewer(cls) -> Audience:
        return REVIEWER

    @classmethod
    def company(cls, company_id: int) -> Audience:
        return cls(Reader.COMPANY, company_id)

    @classmethod
    def secretariat(cls) -> Audience:
        return SECRETARIAT

    @classmethod
    def public(cls) -> Audience:
        return PUBLIC


COMPLAINANT = Audience(Reader.COMPLAINANT)
REVIEWER = Audience(Reader.REVIEWER)
SECRETARIAT = Audience(Reader.SECRETARIAT)
PUBLIC = Audience(Reader.PUBLIC)


def reader_sees(reader: Reader, kind: str) -> bool:
    """Whether a reader may ever see events of this kind (for a company: some of them,
    those that concern it)."""
    spec = EVENT_KINDS.get(kind)
    if spec is None or spec.visibility > VISIBILITY[reader]:
        return False
    if reader is Reader.COMPLAINANT or reader is Reader.PUBLIC:
        return spec.concerns is not Concerns.COMPANY_PRIVATE
    return reader is not Reader.COMPANY or spec.concerns is not Concerns.COMPLAINANT


def private_to_a_company(kind: str) -> bool:
    """Whether events of this kind are a company's private ones (its responses, reports,
    conversation): only that company and the mechanism's staff see them."""
    spec = EVENT_KINDS.get(kind)
    return spec is not None and spec.concerns is Concerns.COMPANY_PRIVATE


def remedy_action_of_code(code: Any) -> int | None:
    """The remedy action whose time limit a deadline code is (`remedy_action.<id>`)."""
    if isinstance(code, str) and code.startswith(REMEDY_ACTION_PREFIX):
        number = code.removeprefix(REMEDY_ACTION_PREFIX)
        if number.isdigit():
            return int(number)
    return None


@dataclass(frozen=True)
class CompanyScope:
    """What tells which company an event or a time limit concerns: the companies of the
    case's remedy actions (an action without a company concerns none)."""

    action_companies: Mapping[int, int | None]

    def company_of_action(self, action_id: Any) -> int | None:
        if not isinstance(action_id, int):
            return None
        return self.action_companies.get(action_id)

    def company_of_code(self, code: Any) -> int | None:
        action = remedy_action_of_code(code)
        if action is not None:
            return self.company_of_action(action)
        return company_of_code(code)  # a company's own time limit (response, obligation)

    @staticmethod
    def is_company_code(code: Any) -> bool:
        return remedy_action_of_code(code) is not None or company_of_code(code) is not None

    def names_company(self, payload: Mapping[str, Any]) -> tuple[bool, int | None]:
        """Whether an event's payload names a company (directly, by a remedy action or by
        a remedy action's time limit), and which (None: an action with no company)."""
        if "company_id" in payload:
            company = payload["company_id"]
            return True, company if isinstance(company, int) else None
        if "remedy_action_id" in payload:
            return True, self.company_of_action(payload["remedy_action_id"])
        if self.is_company_code(payload.get("code")):
            return True, self.company_of_code(payload.get("code"))
        return False, None

    def concerns_company(self, event: CaseEvent, company_id: int) -> bool:
        """Whether a company may see this event (visibility aside): one of the case as a
        whole naming no other company, or one that names this company."""
        spec = EVENT_KINDS.get(event.kind)
        if spec is None or spec.concerns is Concerns.COMPLAINANT:
            return False
        names, company = self.names_company(event.payload)
        if names:
            return company == company_id
        return spec.concerns is Concerns.CASE

    def keeps_code(self, code: Any, company_id: int) -> bool:
        """Whether a company may see a time limit: the case's own ones, and the time
        limits of its own remedy actions."""
        if not self.is_company_code(code):
            return True
        return self.company_of_code(code) == company_id
