"""The rows `grievance generate` writes, as plain values in column order: enums are their
stored strings, JSON is its text, times are aware UTC datetimes. `Writer` checks them
against the tables' columns."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple


class CaseRow(NamedTuple):
    id: int
    reference: str
    mechanism_id: int
    policy_version: int
    channel: str
    language: str
    country: str
    site_id: None
    urgent: bool
    needs_interpreter: bool
    queue_rank: int
    unrouted_since: None  # every generated open case has its two reviewers
    unrouted_reason: None
    next_due_at: datetime | None
    stage: str
    stage_entered_at: datetime
    received_at: datetime
    acknowledged_at: datetime | None
    closed_at: datetime | None
    clock_paused_at: None
    severity_scale: int | None
    severity_scope: int | None
    severity_irremediability: int | None
    severity_likelihood: int | None
    reprisal_risk: str | None
    statement_enc: bytes
    location_enc: None
    companies_enc: None
    occurred_enc: None
    published: bool
    legal_hold: bool
    identities_erased_at: None
    event_count: int
    log_head: str
    created_at: datetime
    updated_at: datetime


class DataKeyRow(NamedTuple):
    id: int
    case_id: int
    kek_version: int
    wrapped: bytes
    created_at: datetime
    rewrapped_at: None


class ThemeRow(NamedTuple):
    case_id: int
    theme: str


class ComplainantRow(NamedTuple):
    case_id: int
    anonymity: str
    kind: str
    language: str
    contact_channel: str
    name_enc: None
    details_enc: None
    represents_enc: None
    contact_enc: None
    phone_lookup: None
    receipt_lookup: str
    receipt_scheme_version: None
    created_at: datetime
    erased_at: None
    contact_failed_at: None


class AssignmentRow(NamedTuple):
    case_id: int
    reviewer_id: int
    role: str
    reasons: str
    assigned_at: datetime
    ended_at: None
    end_reason: None
    case_open: bool
    queue_rank: int
    next_due_at: datetime | None


class DeadlineRow(NamedTuple):
    case_id: int
    mechanism_id: int
    code: str
    opened_at: datetime
    due_at: datetime
    remind_at: datetime
    reminded_at: None
    escalated_at: None
    extended_days: int
    state: str
    closed_at: None
    paused_at: None
    note: str


class ProposalRow(NamedTuple):
    id: int
    case_id: int
    to_stage: str
    reason: str
    reason_language: str
    state: str
    proposed_by_id: int
    proposed_at: datetime
    decided_by_id: int
    decided_at: datetime


class EventRow(NamedTuple):
    case_id: int
    seq: int
    kind: str
    visibility: str
    actor_role: str
    actor_id: int | None
    stage_from: str | None
    stage_to: str | None
    payload: str
    created_at: datetime
    prev_hash: str
    hash: str
    #: JSON text: the salt of each field (`caselog.new_salts`).
    salts: str
    #: Not in the transparency log yet: the worker integrates them.
    leaf_index: None = None


#: The tables in the order they are written (foreign keys first).
TABLES: dict[str, type[tuple[Any, ...]]] = {
    "case": CaseRow,
    "data_key": DataKeyRow,
    "case_theme": ThemeRow,
    "complainant": ComplainantRow,
    "assignment": AssignmentRow,
    "deadline": DeadlineRow,
    "decision_proposal": ProposalRow,
    "case_event": EventRow,
}
