"""The case log: append-only, hash-chained, with a visibility for every event and field.

Each event's hash is SHA-256 over the RFC 8785 canonical JSON of the event, in which
each payload field (and the actor's id) appears only as its own salted digest, and the
previous event's hash (`services.canonical`, whose functions are imported here; every
byte in docs/transparency.md); the case row keeps the count and the last hash, so a row
altered, deleted, inserted or reordered breaks the chain, and every event hash is a leaf
of the transparency log (`services.transparency`), so a chain rewritten with recomputed
hashes no longer matches a checkpoint signed before.

Views are allowlists (DESIGN invariant 4): `EVENT_KINDS` declares, for each kind of
event, who may see that it happened, who may see each payload field and, for what the
parties see, whom it concerns (each company sees only what concerns it). A payload
field that is not declared cannot be written. The read models
(`grievance.services.casereads`) build every audience's view from this table.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from operator import attrgetter
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from grievance.models import Case, CaseEvent, Stage, Visibility
from grievance.services.actors import Actor
from grievance.services.canonical import ACTOR_FIELD as ACTOR_FIELD
from grievance.services.canonical import canonical as canonical
from grievance.services.canonical import canonical_text as canonical_text
from grievance.services.canonical import compute_hash as compute_hash
from grievance.services.canonical import event_digest as event_digest
from grievance.services.canonical import new_salts as new_salts
from grievance.services.canonical import time_text as time_text
from grievance.services.company_event_kinds import COMPANY_EVENT_KINDS as COMPANY
from grievance.services.remedy_events import REMEDY_EVENT_KINDS
from grievance.services.summary_events import SUMMARY_EVENT_KINDS as SUMMARY

GENESIS = "0" * 64

PUBLIC, PARTIES, REVIEWERS, INTERNAL = (
    Visibility.PUBLIC,
    Visibility.PARTIES,
    Visibility.REVIEWERS,
    Visibility.INTERNAL,
)

_DEADLINE_FIELDS = {"deadlines_opened": PARTIES, "deadlines_closed": PARTIES}


def _all(visibility: Visibility, names: str, deadlines: bool = False) -> dict[str, Visibility]:
    """These fields (space-separated) at one visibility, and the deadline fields if asked."""
    return dict.fromkeys(names.split(), visibility) | (_DEADLINE_FIELDS if deadlines else {})


class Concerns(enum.Enum):
    """Whom an event the parties may see is about. The complainant sees every `parties`
    event of their case; a company only those of the case as a whole and those that name
    it (DESIGN invariant 4: one company never sees another's private responses)."""

    #: Every party: the case filed, its stages and decisions with their reasons, time limits.
    CASE = "case"
    #: The company the event names: its `company_id`, or the company of its remedy action.
    COMPANY = "company"
    #: The complainant and the mechanism: messages, files, requests, satisfaction.
    COMPLAINANT = "complainant"
    #: The company the event names and the mechanism only, never the complainant nor
    #: another company: a company's private responses, reports and conversation (#13).
    COMPANY_PRIVATE = "company_private"


@dataclass(frozen=True)
class EventKind:
    visibility: Visibility
    fields: Mapping[str, Visibility]
    #: For `public` and `parties` events: whom they concern (the narrowest by default).
    concerns: Concerns = Concerns.COMPLAINANT


EVENT_KINDS: dict[str, EventKind] = {
    "case_filed": EventKind(
        PUBLIC,
        {
            "reference": PUBLIC,
            "mechanism": PUBLIC,
            "themes": PUBLIC,
            "country": PUBLIC,
            "policy_version": PUBLIC,
            "channel": REVIEWERS,
            "language": REVIEWERS,
            "urgent": REVIEWERS,
            "complainant_kind": REVIEWERS,
            "anonymity": REVIEWERS,
            "recorded_by_staff": REVIEWERS,
            # The partner application that filed it through the API, if one did.
            "api_client_id": REVIEWERS,
            "api_client": REVIEWERS,
            **_DEADLINE_FIELDS,
        },
        Concerns.CASE,
    ),
    "stage_changed": EventKind(
        PUBLIC,
        {
            "reason": PARTIES,
            "reason_language": PARTIES,
            "proposal_id": REVIEWERS,
            "proposed_by": REVIEWERS,
            "phone_contacts_erased": REVIEWERS,
            **_DEADLINE_FIELDS,
        },
        Concerns.CASE,
    ),
    "decision_proposed": EventKind(
        REVIEWERS, {"proposal_id": REVIEWERS, "to_stage": REVIEWERS, "reason": REVIEWERS}
    ),
    "decision_withdrawn": EventKind(
        REVIEWERS, {"proposal_id": REVIEWERS, "to_stage": REVIEWERS, "reason": REVIEWERS}
    ),
    # Routing (services/routing.py): the score and its reasons, why routing ran and the
    # secretariat's reasons for an override are for the audit only.
    "reviewer_assigned": EventKind(
        REVIEWERS,
        {
            "reviewer_id": REVIEWERS,
            "role": REVIEWERS,
            "score": INTERNAL,
            "reasons": INTERNAL,
            "trigger": INTERNAL,
            "override_reason": INTERNAL,
            "needs_interpreter": REVIEWERS,
        },
    ),
    "reviewer_unassigned": EventKind(
        REVIEWERS,
        {
            "reviewer_id": REVIEWERS,
            "role": REVIEWERS,
            "reason": INTERNAL,
            "needs_interpreter": REVIEWERS,
        },
    ),
    "company_added": EventKind(
        PARTIES, _all(PARTIES, "company_id company", True), Concerns.COMPANY
    ),
    "involvement_classified": EventKind(
        PARTIES,
        {
            "company_id": PARTIES,
            "company": PARTIES,
            "kind": PARTIES,
            "previous_kind": PARTIES,
            "version": PARTIES,
            "rationale": PARTIES,
            "trigger": PARTIES,
            "obligations": PARTIES,
            # four eyes (#13): the leverage held, what a reclassification kept and
            # superseded, the proposal confirmed and who proposed it
            **dict.fromkeys(("leverage", "obligations_kept", "obligations_superseded"), PARTIES),
            **dict.fromkeys(("proposal_id", "proposed_by"), REVIEWERS),
            **_DEADLINE_FIELDS,
        },
        Concerns.COMPANY,
    ),
    "severity_assessed": EventKind(
        REVIEWERS,
        {
            "scale": REVIEWERS,
            "scope": REVIEWERS,
            "irremediability": REVIEWERS,
            "likelihood": REVIEWERS,
        },
    ),
    "reprisal_risk_assessed": EventKind(REVIEWERS, {"level": REVIEWERS}),
    "complainant_heard": EventKind(REVIEWERS, {"note": REVIEWERS}),  # R08: services.hearing
    "complainant_not_heard": EventKind(REVIEWERS, {"reason": REVIEWERS}),
    "message_from_complainant": EventKind(
        REVIEWERS, {"message_id": REVIEWERS, "channel": REVIEWERS, **_DEADLINE_FIELDS}
    ),
    "message_to_complainant": EventKind(
        PARTIES, {"message_id": REVIEWERS, "channel": REVIEWERS, **_DEADLINE_FIELDS}
    ),
    "feedback_given": EventKind(
        PARTIES, {"message_id": REVIEWERS, "channel": REVIEWERS, **_DEADLINE_FIELDS}
    ),
    "files_added": EventKind(
        PARTIES,
        {"attachment_ids": REVIEWERS, "content_types": REVIEWERS, "message_id": REVIEWERS},
    ),
    "satisfaction_asked": EventKind(PARTIES, {"channel": REVIEWERS}),
    "satisfaction_recorded": EventKind(PARTIES, {"response": PARTIES, **_DEADLINE_FIELDS}),
    "clock_paused": EventKind(PARTIES, {"reason": PARTIES, "deadlines": PARTIES}),
    "clock_resumed": EventKind(
        PARTIES, {"paused_seconds": PARTIES, "deadlines": PARTIES, "by_message": REVIEWERS}
    ),
    "deadline_extended": EventKind(
        PARTIES,
        {
            "code": PARTIES,
            "due_at": PARTIES,
            "previous_due_at": PARTIES,
            "days": PARTIES,
            "reason": PARTIES,
        },
        # a remedy action's time limit (its `code`) concerns that action's company only
        Concerns.CASE,
    ),
    "deadline_reminder": EventKind(
        REVIEWERS, {"code": REVIEWERS, "due_at": REVIEWERS, "notified": INTERNAL}
    ),
    "deadline_escalated": EventKind(
        REVIEWERS, {"code": REVIEWERS, "due_at": REVIEWERS, "notified": INTERNAL}
    ),
    "identities_erased": EventKind(
        REVIEWERS, {"complainants": REVIEWERS, "retention_days": REVIEWERS}
    ),
    "contact_changed": EventKind(
        REVIEWERS, {"complainant_id": REVIEWERS, "channel": REVIEWERS, "by": REVIEWERS}
    ),
    # the complainant's e-mail address was refused for good: nothing more is sent to it
    "contact_failed": EventKind(REVIEWERS, {"complainant_id": REVIEWERS, "channel": REVIEWERS}),
    "legal_hold_changed": EventKind(INTERNAL, {"legal_hold": INTERNAL, "reason": INTERNAL}),
    "identity_revealed": EventKind(
        INTERNAL, {"complainant_id": INTERNAL, "fields": INTERNAL, "reason": INTERNAL}
    ),
    # A reviewer's translation of the statement, a message or a decision's reasons (its
    # `event_seq`, #15 item 4) (services/translations.py):
    # the text itself is sealed in the `translation` table, never in the log.
    "translation_added": EventKind(
        REVIEWERS, _all(REVIEWERS, "translation_id language message_id event_seq")
    ),
    # The migration to form 2 re-chained the case's earlier events (docs/transparency.md).
    "log_rechained": EventKind(PUBLIC, {"form": PUBLIC, "events": PUBLIC}, Concerns.CASE),
}


# The remedy plan's kinds live beside it (services/remedy_events.py), as the summary's.
EVENT_KINDS.update(
    {
        kind: EventKind(visibility, fields, Concerns(concerns))
        for kind, (visibility, fields, concerns) in (COMPANY | REMEDY_EVENT_KINDS | SUMMARY).items()
    }
)


class UnknownEventField(ValueError):
    pass


# -- writing ------------------------------------------------------------------------


class Entry(NamedTuple):
    """An event before it is written: what it says, without who, when and where in the
    chain. The services build one with `grievance.services.events` and `record` it; the
    synthetic-case generator builds the same and hashes it with `event_digest`."""

    kind: str
    #: Plain JSON values only (`canonical_text` encodes them as they are).
    payload: Mapping[str, Any]
    stage_from: Stage | None = None
    stage_to: Stage | None = None

    @property
    def visibility(self) -> Visibility:
        return visibility_of(self.kind, self.payload)


def visibility_of(kind: str, fields: Iterable[str]) -> Visibility:
    """The visibility of an event of `kind`; refuses an unknown kind and fields the kind
    does not declare."""
    spec = EVENT_KINDS.get(kind)
    if spec is None:
        raise UnknownEventField(f"unknown event kind {kind!r}")
    undeclared = sorted(set(fields) - set(spec.fields))
    if undeclared:
        raise UnknownEventField(f"{kind}: undeclared payload fields {', '.join(undeclared)}")
    return spec.visibility


def append(
    session: Session,
    case: Case,
    kind: str,
    actor: Actor,
    at: datetime,
    payload: Mapping[str, Any] | None = None,
    *,
    stage_from: Stage | None = None,
    stage_to: Stage | None = None,
    visibility: Visibility | None = None,
) -> CaseEvent:
    """Write the next event of a case. Call it in the transaction of the change it records,
    with the case row locked (`Context.lock_case`)."""
    payload = dict(payload or {})
    declared = visibility_of(kind, payload)
    # What is stored is exactly what was hashed (tuples become lists, and so on).
    stored = json.loads(canonical(payload))
    event = CaseEvent(
        case_id=case.id,
        seq=case.event_count + 1,
        kind=kind,
        visibility=visibility if visibility is not None else declared,
        actor_role=actor.role,
        actor_id=actor.user_id,
        stage_from=stage_from,
        stage_to=stage_to,
        payload=stored,
        salts=new_salts(stored),
        created_at=at,
        prev_hash=case.log_head or GENESIS,
    )
    event.hash = compute_hash(event, case.reference)
    case.event_count = event.seq
    case.log_head = event.hash
    case.updated_at = at
    session.add(event)
    return event


def record(session: Session, case: Case, entry: Entry, actor: Actor, at: datetime) -> CaseEvent:
    """`append` an event that `grievance.services.events` built."""
    return append(
        session,
        case,
        entry.kind,
        actor,
        at,
        entry.payload,
        stage_from=entry.stage_from,
        stage_to=entry.stage_to,
    )


# -- reading ------------------------------------------------------------------------


def visible_payload(event: CaseEvent, audience: Visibility) -> dict[str, Any] | None:
    """The part of an event an audience may see; None if it may not see the event at all."""
    spec = EVENT_KINDS.get(event.kind)
    if spec is None or event.visibility > audience:
        return None
    return {
        key: value
        for key, value in event.payload.items()
        if key in spec.fields and spec.fields[key] <= audience
    }


def field_visibility(kind: str, name: str) -> Visibility:
    """Who may see a field of an event of `kind` (`ACTOR_FIELD`: reviewers; a field the
    kind does not declare: nobody but the audit)."""
    if name == ACTOR_FIELD:
        return REVIEWERS
    spec = EVENT_KINDS.get(kind)
    if spec is None:
        return INTERNAL
    return spec.fields.get(name, INTERNAL)


# -- verifying ----------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """The first place where a case's chain does not hold."""

    reference: str
    seq: int | None
    event_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"event #{self.seq} (id {self.event_id})" if self.seq is not None else "log head"
        return f"{self.reference}: {where}: {self.problem}"


@dataclass(frozen=True)
class _Head:
    reference: str
    event_count: int
    log_head: str


def verify_case(session: Session, case: Case) -> Break | None:
    # populate_existing: check what is stored, not the session's copies of loaded events.
    events = session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.seq, CaseEvent.id)
        .execution_options(populate_existing=True)
    )
    return _verify(_Head(case.reference, case.event_count, case.log_head), events)


def _verify(case: _Head, events: Iterable[CaseEvent]) -> Break | None:
    previous = GENESIS
    expected_seq = 1
    for event in events:
        if event.seq != expected_seq:
            problem = (
                f"sequence number {event.seq} where {expected_seq} was expected "
                "(an event was deleted, inserted or renumbered)"
            )
            return Break(case.reference, event.seq, event.id, problem)
        if event.prev_hash != previous:
            return Break(
                case.reference,
                event.seq,
                event.id,
                "does not point to the previous event's hash (deleted, inserted or reordered)",
            )
        if compute_hash(event, case.reference) != event.hash:
            return Break(
                case.reference, event.seq, event.id, "content does not match its hash (altered)"
            )
        previous = event.hash
        expected_seq += 1
    count = expected_seq - 1
    if count != case.event_count or previous != (case.log_head or GENESIS):
        return Break(
            case.reference,
            None,
            None,
            f"the case records {case.event_count} events ending in {case.log_head[:12]}, "
            f"the log holds {count} ending in {previous[:12]} (events deleted or added at the end)",
        )
    return None


def verify_all(session: Session, reference: str | None = None) -> Iterator[Break]:
    """Verify every case's chain (or one case's), in two streaming queries."""
    heads_query = select(Case.id, Case.reference, Case.event_count, Case.log_head).order_by(Case.id)
    events_query = select(CaseEvent).order_by(CaseEvent.case_id, CaseEvent.seq, CaseEvent.id)
    if reference is not None:
        heads_query = heads_query.where(Case.reference == reference)
        events_query = events_query.join(Case).where(Case.reference == reference)
    heads = {
        row.id: _Head(row.reference, row.event_count, row.log_head)
        for row in session.execute(heads_query)
    }
    # populate_existing: check what is stored, not the session's copies of loaded events.
    events = session.scalars(events_query.execution_options(yield_per=2000, populate_existing=True))
    for case_id, case_events in groupby(events, key=attrgetter("case_id")):
        head = heads.pop(case_id, None)
        if head is None:
            first = next(case_events)
            yield Break(
                f"case id {case_id}", first.seq, first.id, "event of a case that does not exist"
            )
            continue
        found = _verify(head, case_events)
        if found is not None:
            yield found
    for head in heads.values():  # cases whose events are all gone
        found = _verify(head, ())
        if found is not None:
            yield found
