"""The case log: append-only, hash-chained, with a visibility for every event and field.

Each event's hash is SHA-256 over a canonical serialisation (sorted-key, compact,
UTF-8 JSON) of the event and the previous event's hash; the case row keeps the count
and the last hash, so a row altered, deleted, inserted or reordered breaks the chain.

Views are allowlists (DESIGN invariant 4): `EVENT_KINDS` declares, for each kind of
event, who may see that it happened and who may see each payload field. A payload
field that is not declared cannot be written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import groupby
from operator import attrgetter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from grievance.models import Case, CaseEvent, Stage, Visibility
from grievance.services.actors import Actor

GENESIS = "0" * 64

PUBLIC, PARTIES, REVIEWERS, INTERNAL = (
    Visibility.PUBLIC,
    Visibility.PARTIES,
    Visibility.REVIEWERS,
    Visibility.INTERNAL,
)

_DEADLINE_FIELDS = {"deadlines_opened": PARTIES, "deadlines_closed": PARTIES}


@dataclass(frozen=True)
class EventKind:
    visibility: Visibility
    fields: Mapping[str, Visibility]


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
            **_DEADLINE_FIELDS,
        },
    ),
    "stage_changed": EventKind(
        PUBLIC,
        {
            "reason": PARTIES,
            "proposal_id": REVIEWERS,
            "proposed_by": REVIEWERS,
            "phone_contacts_erased": REVIEWERS,
            **_DEADLINE_FIELDS,
        },
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
    "company_added": EventKind(PARTIES, {"company_id": PARTIES, "company": PARTIES}),
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
        },
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
    "remedy_action_recorded": EventKind(
        PARTIES,
        {
            "remedy_action_id": PARTIES,
            "remedy_type": PUBLIC,
            "company_id": PARTIES,
            "description": PARTIES,
            "due_on": PARTIES,
            "status": PARTIES,
            **_DEADLINE_FIELDS,
        },
    ),
    "remedy_status_changed": EventKind(
        PARTIES,
        {
            "remedy_action_id": PARTIES,
            "status": PARTIES,
            "previous_status": PARTIES,
            **_DEADLINE_FIELDS,
        },
    ),
    "remedy_response": EventKind(PARTIES, {"remedy_action_id": PARTIES, "response": PARTIES}),
    # A reviewer's translation of the statement or of a message (services/translations.py):
    # the text itself is sealed in the `translation` table, never in the log.
    "translation_added": EventKind(
        REVIEWERS, {"translation_id": REVIEWERS, "language": REVIEWERS, "message_id": REVIEWERS}
    ),
}


class UnknownEventField(ValueError):
    pass


# -- writing ------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Visibility):
        return value.label
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(item) for item in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    if isinstance(value, float) and value != value:  # NaN has no canonical form
        raise ValueError("NaN cannot be logged")
    return value


def canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(
        _jsonable(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def compute_hash(event: CaseEvent, reference: str) -> str:
    body = {
        "case": reference,
        "seq": event.seq,
        "kind": event.kind,
        "visibility": event.visibility,
        "actor_role": event.actor_role.value,
        "actor_id": event.actor_id,
        "stage_from": event.stage_from.value if event.stage_from else None,
        "stage_to": event.stage_to.value if event.stage_to else None,
        "payload": event.payload,
        "created_at": event.created_at,
        "prev": event.prev_hash,
    }
    return hashlib.sha256(canonical(body)).hexdigest()


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
    spec = EVENT_KINDS.get(kind)
    if spec is None:
        raise UnknownEventField(f"unknown event kind {kind!r}")
    payload = dict(payload or {})
    undeclared = sorted(set(payload) - set(spec.fields))
    if undeclared:
        raise UnknownEventField(f"{kind}: undeclared payload fields {', '.join(undeclared)}")
    event = CaseEvent(
        case_id=case.id,
        seq=case.event_count + 1,
        kind=kind,
        visibility=visibility if visibility is not None else spec.visibility,
        actor_role=actor.role,
        actor_id=actor.user_id,
        stage_from=stage_from,
        stage_to=stage_to,
        # What is stored is exactly what was hashed (tuples become lists, and so on).
        payload=json.loads(canonical(payload)),
        created_at=at,
        prev_hash=case.log_head or GENESIS,
    )
    event.hash = compute_hash(event, case.reference)
    case.event_count = event.seq
    case.log_head = event.hash
    case.updated_at = at
    session.add(event)
    return event


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
