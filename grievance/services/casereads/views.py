"""The view objects: frozen, one type per audience, each holding only what its audience
may see (an allowlist: a field that is not here does not reach the page or the export).

Payload fields are deep-frozen (mappings become read-only, lists tuples); `thaw` gives
them back as plain JSON values for an API.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from grievance.models import (
    Anonymity,
    AssignmentRole,
    Channel,
    ComplainantKind,
    ComplainantResponse,
    ContactChannel,
    InvolvementKind,
    Leverage,
    ObligationStatus,
    RemedyStatus,
    ReprisalRisk,
    Role,
    Stage,
)
from grievance.services.hearing import HEARD_KINDS

EMPTY: Mapping[str, Any] = MappingProxyType({})


def freeze(value: Any) -> Any:
    """A read-only copy of a JSON value: mappings read-only, lists tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(key): freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    return value


def thaw(value: Any) -> Any:
    """The plain JSON value of something `freeze` made."""
    if isinstance(value, Mapping):
        return {key: thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [thaw(item) for item in value]
    return value


# -- parts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventView:
    """One event of the log as an audience may see it: `fields` are the payload fields
    its visibility allows; who acted only for reviewers and the secretariat."""

    seq: int
    kind: str
    at: datetime
    stage_from: Stage | None
    stage_to: Stage | None
    fields: Mapping[str, Any]
    actor_role: Role | None = None
    actor_id: int | None = None

    def details(self) -> dict[str, Any]:
        """The fields as plain JSON values."""
        result: dict[str, Any] = thaw(self.fields)
        return result


@dataclass(frozen=True)
class TimeLimitView:
    """An open time limit. `label` is the policy's (English, to translate); None for a
    remedy action's due date."""

    code: str
    label: str | None
    due_at: datetime
    paused: bool
    overdue: bool


@dataclass(frozen=True)
class CaseFacts:
    """What every audience may know of a case: the public fields of its filing (reference,
    mechanism, themes, country), its stage and its dates."""

    reference: str
    mechanism_code: str
    mechanism_name: str
    themes: tuple[str, ...]
    country: str | None
    stage: Stage
    received_at: datetime
    stage_entered_at: datetime
    closed_at: datetime | None
    has_ended: bool


@dataclass(frozen=True)
class Severity:
    scale: int
    scope: int
    irremediability: int
    likelihood: int


@dataclass(frozen=True)
class StaffFacts:
    """What reviewers and the secretariat know beside: the filing's `reviewers` fields and
    the assessments."""

    language: str
    channel: Channel
    urgent: bool
    needs_interpreter: bool
    queue_rank: int
    severity: Severity | None
    reprisal_risk: ReprisalRisk | None


@dataclass(frozen=True)
class ObligationView:
    code: str
    requirement: str
    due_at: datetime | None
    status: ObligationStatus
    id: int = 0
    #: The company's report waiting for a reviewer's verification, and its reasons.
    reported_status: ObligationStatus | None = None
    report: str = ""


@dataclass(frozen=True)
class CompanyView:
    """A company in the case and its current involvement (None: not classified yet)."""

    company_id: int
    name: str
    involvement: InvolvementKind | None
    rationale: str
    version: int
    obligations: tuple[ObligationView, ...]
    leverage: Leverage | None = None


@dataclass(frozen=True)
class RemedyActionView:
    id: int
    company_id: int | None
    remedy_type: str
    description: str
    due_on: date | None
    status: RemedyStatus
    complainant_response: ComplainantResponse | None


@dataclass(frozen=True)
class FileView:
    """A file's metadata; its content is downloaded by the channel, checked again."""

    id: int
    name: str
    size: int
    content_type: str
    created_at: datetime


@dataclass(frozen=True)
class PartyTranslation:
    """A reviewers' translation of their message, for the complainant: its language and
    text (never who made it)."""

    language: str
    text: str


@dataclass(frozen=True)
class PartyMessage:
    """A message of the conversation, as the complainant reads it; the reviewers' ones
    with the translations they attached (#15, item 4)."""

    id: int
    created_at: datetime
    from_complainant: bool
    body: str
    translations: tuple[PartyTranslation, ...] = ()


@dataclass(frozen=True)
class TranslationView:
    language: str
    text: str
    translator_id: int
    created_at: datetime


@dataclass(frozen=True)
class MessageView:
    """A message as the reviewers read it: who wrote it, by which channel, whether it is
    the feedback owed to the complainant, and the reviewers' translations of it."""

    id: int
    created_at: datetime
    from_complainant: bool
    author_id: int | None
    channel: Channel
    feedback: bool
    body: str
    translations: tuple[TranslationView, ...]


@dataclass(frozen=True)
class Words:
    """The complainant's own words, as written (empty: not given)."""

    statement: str
    location: str
    companies: str
    occurred: str


@dataclass(frozen=True)
class ComplainantView:
    """A complainant as reviewers see them: never their identity or contact address."""

    id: int
    anonymity: Anonymity
    kind: ComplainantKind
    contact_channel: ContactChannel
    erased: bool
    #: Their e-mail address refused our mail for good: nothing more goes to it.
    contact_failed: bool = False


@dataclass(frozen=True)
class AssignmentView:
    role: AssignmentRole
    reviewer_id: int


@dataclass(frozen=True)
class ProposalView:
    """A decision waiting for the second reviewer."""

    id: int
    to_stage: Stage
    reason: str
    proposed_by_id: int
    proposed_at: datetime


@dataclass(frozen=True)
class SiteView:
    name: str
    company: str
    country: str


# -- the views, one per audience --------------------------------------------------------


@dataclass(frozen=True)
class PublicCaseView:
    """A published case as anyone may see it: its public facts and `public` events."""

    facts: CaseFacts
    events: tuple[EventView, ...]


@dataclass(frozen=True)
class ComplainantCaseView:
    """The case as its complainant follows it (web, SMS, the API)."""

    facts: CaseFacts
    #: The mechanism waits for the complainant: pausable time limits are stopped.
    waiting: bool
    #: Retention erased the case's words: no messages nor files any more.
    erased: bool
    time_limits: tuple[TimeLimitView, ...]
    events: tuple[EventView, ...]
    messages: tuple[PartyMessage, ...]
    files: tuple[FileView, ...]
    companies: tuple[CompanyView, ...]
    remedy_actions: tuple[RemedyActionView, ...]
    #: The satisfaction check is open: the complainant may answer it.
    satisfaction_open: bool
    #: Their own words as they wrote them (None once erased), in the case's language.
    words: Words | None = None
    language: str = ""
    #: What they chose when filing (never their identity nor their address).
    anonymity: Anonymity | None = None
    contact_channel: ContactChannel | None = None
    site: SiteView | None = None
    #: The translations reviewers attached to the reasons of an event, by its `seq`.
    reason_translations: Mapping[int, tuple[PartyTranslation, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @property
    def reference(self) -> str:
        return self.facts.reference

    @property
    def stage(self) -> Stage:
        return self.facts.stage


@dataclass(frozen=True)
class CompanyCaseView:
    """The case as one company in it sees it: what concerns the case as a whole and this
    company; never an identity, the complainant's words, their messages or files, nor
    another company's involvement, remedy actions or time limits."""

    facts: CaseFacts
    company_id: int
    waiting: bool
    time_limits: tuple[TimeLimitView, ...]
    events: tuple[EventView, ...]
    company: CompanyView
    remedy_actions: tuple[RemedyActionView, ...]


@dataclass(frozen=True)
class SecretariatCaseView:
    """The case as the secretariat of its mechanism oversees it: the reviewers' log and
    facts, without the complainant's words (sealed for the assigned reviewers)."""

    facts: CaseFacts
    staff: StaffFacts
    waiting: bool
    time_limits: tuple[TimeLimitView, ...]
    events: tuple[EventView, ...]
    companies: tuple[CompanyView, ...]
    remedy_actions: tuple[RemedyActionView, ...]
    complainants: tuple[ComplainantView, ...]
    reviewers: tuple[AssignmentView, ...]
    proposal: ProposalView | None
    #: The display names of the staff users the view mentions, by id.
    staff_names: Mapping[int, str]


@dataclass(frozen=True)
class ReviewerCaseView:
    """The case as an assigned reviewer works on it: the secretariat's view, and the
    complainant's words, messages, files and their translations (none once erased)."""

    facts: CaseFacts
    staff: StaffFacts
    waiting: bool
    erased: bool
    time_limits: tuple[TimeLimitView, ...]
    events: tuple[EventView, ...]
    companies: tuple[CompanyView, ...]
    remedy_actions: tuple[RemedyActionView, ...]
    site: SiteView | None
    complainants: tuple[ComplainantView, ...]
    reviewers: tuple[AssignmentView, ...]
    proposal: ProposalView | None
    staff_names: Mapping[int, str]
    words: Words | None
    statement_translations: tuple[TranslationView, ...]
    messages: tuple[MessageView, ...]
    files: tuple[FileView, ...]
    #: The translations of the reasons of an event, by its `seq` (#15, item 4).
    reason_translations: Mapping[int, tuple[TranslationView, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @property
    def heard(self) -> bool:
        """The complainant was heard (or a reviewer logged why not) since the case entered
        its stage (R08: `services.hearing`), read from the log's events."""
        entered = max((e.seq for e in self.events if e.kind == "stage_changed"), default=0)
        return any(e.kind in HEARD_KINDS and e.seq > entered for e in self.events)
