"""A synthetic case's log and deadlines, walked along its path as the services write them.

What each event says comes from the services' own builders (`services.events`), its
visibility from the log's declarations (`caselog.visibility_of`), its hash from the log's
hash function (`caselog.event_digest`); the deadlines each stage opens and closes come
from `deadlines.entering_stage` and are told in the payload by `deadlines.changes_payload`.
Only the rows are written differently: in bulk, by `run`.

The walk, stage by stage:
- `case_filed` and the two `reviewer_assigned` of routing (`file_case`);
- the assessment (`severity_assessed`, then `reprisal_risk_assessed`) at its time;
- a `stage_changed` per move, by the lead (appeals and withdrawals: by the complainant);
  a decision that needs four eyes is proposed by the lead (`decision_proposed`, with a
  confirmed `DecisionProposal` row) and confirmed by the second; a move out of
  investigation follows the lead's `complainant_heard` (R08, `services.hearing`).
A time limit met by an event this walk does not write (progress updates, feedback, the
satisfaction check) counts as met on time: a recurring one is renewed at each due time,
the others are gone once due.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from grievance.demo.generate.drafting import Draft
from grievance.demo.generate.rows import EventRow, ProposalRow
from grievance.demo.generate.spec import HEARD_NOTE, PROPOSED_HOURS_BEFORE, REASON
from grievance.models import AssignmentRole, CaseEvent, ProposalState, Role, Stage, Visibility
from grievance.policies import Calendar
from grievance.services import caselog, deadlines, events, lifecycle
from grievance.services.caselog import Entry
from grievance.services.deadlines import Running
from grievance.services.filing import ROUTED_ON_FILING


@cache
def _visibility(kind: str, fields: tuple[str, ...]) -> tuple[Visibility, str]:
    """The kind's visibility, and its stored label (refusing undeclared fields)."""
    visibility = caselog.visibility_of(kind, fields)
    return visibility, visibility.label


class Chain:
    """A case's log as `caselog.record` writes it, as rows."""

    def __init__(self, case_id: int, reference: str) -> None:
        self.case_id = case_id
        self.reference = reference
        self.rows: list[EventRow] = []
        self.head = caselog.GENESIS

    def add(self, entry: Entry, at: datetime, role: Role, actor_id: int | None) -> None:
        visibility, label = _visibility(entry.kind, tuple(entry.payload))
        payload = caselog.canonical_text(entry.payload)
        salts = caselog.new_salts(entry.payload)
        seq = len(self.rows) + 1
        source, target = entry.stage_from, entry.stage_to
        digest = caselog.event_digest(
            self.reference,
            seq,
            entry.kind,
            visibility,
            role,
            actor_id,
            source,
            target,
            entry.payload,
            salts,
            at,
            self.head,
        )
        self.rows.append(
            EventRow(
                self.case_id,
                seq,
                entry.kind,
                label,
                role.value,
                actor_id,
                source.value if source else None,
                target.value if target else None,
                payload,
                at,
                self.head,
                digest,
                json.dumps(salts),
            )
        )
        self.head = digest


@dataclass
class Walk:
    """What a case's path leaves behind: its log, its decisions' proposals, and the
    deadlines open now (by code)."""

    chain: Chain
    proposals: list[ProposalRow] = field(default_factory=list)
    running: dict[str, Running] = field(default_factory=dict)
    assessed: bool = False


def walk(
    draft: Draft,
    case_id: int,
    reference: str,
    proposal_ids: Iterator[int],
    now: datetime,
) -> Walk:
    """Walk the case along its path: the deadlines each stage opens and closes, the events
    that record it, the proposals of its four-eyes decisions (ids from `proposal_ids`)."""
    mechanism = draft.mechanism
    calendar = mechanism.policy.calendar
    done = Walk(Chain(case_id, reference))
    running = done.running
    for step, (stage, at) in enumerate(zip(draft.path, draft.entered, strict=True)):
        _advance(running, calendar, at)
        entered = deadlines.entering_stage(
            sorted(running.values(), key=_due),  # as `open_deadlines` reads them
            mechanism.starting[stage],
            stage,
            at,
            calendar,
        )
        for closing in entered.closing:
            del running[closing.code]
        for opening in entered.opening:
            code = opening.limit.code
            running[code] = Running(code, opening.limit, at, opening.due)
        changes = deadlines.changes_payload(
            [(opening.limit.code, opening.due) for opening in entered.opening],
            [(closing.code, closing.state) for closing in entered.closing],
        )
        if step == 0:
            _filed(done.chain, draft, at, changes)
        else:
            _assessed(done, draft, before=at)
            _moved(done, draft, step, changes, proposal_ids)
    _assessed(done, draft, before=None)
    _advance(running, calendar, now)
    return done


def _due(item: Running) -> datetime:
    return item.due


def _advance(running: dict[str, Running], calendar: Calendar, until: datetime) -> None:
    """Limits met by events that are not generated count as met on time before `until`:
    a recurring one is renewed at each due time, the others end."""
    for code, item in list(running.items()):
        limit = item.limit
        if limit is None or not limit.ends_on_events:
            continue
        if not limit.recurring:
            if item.due <= until:
                del running[code]
            continue
        opened, due = item.opened, item.due
        while due <= until:
            opened, due = due, deadlines.due_at(limit, due, calendar)
        if due != item.due:
            running[code] = Running(code, limit, opened, due)


def _filed(chain: Chain, draft: Draft, at: datetime, changes: dict[str, object]) -> None:
    """`case_filed` and the two `reviewer_assigned` of routing, as `file_case` writes them."""
    mechanism = draft.mechanism
    filed = events.case_filed(
        reference=chain.reference,
        mechanism=mechanism.code,
        themes=draft.themes,
        country=draft.country,
        policy_version=mechanism.policy_version,
        channel=draft.channel,
        language=draft.language,
        urgent=draft.urgent,
        complainant_kind=draft.kind,
        anonymity=draft.anonymity,
        recorded_by_staff=False,
        deadlines=changes,
    )
    chain.add(filed, at, Role.SYSTEM, None)
    read_by_lead = draft.language in draft.lead.languages
    for role, reviewer, (points, reasons) in (
        (AssignmentRole.LEAD, draft.lead, draft.scores[0]),
        (AssignmentRole.SECOND, draft.second, draft.scores[1]),
    ):
        # As `assignments.interpreter_needed` says after each placement.
        read = read_by_lead or (
            role is AssignmentRole.SECOND and draft.language in reviewer.languages
        )
        assigned = events.reviewer_assigned(
            reviewer_id=reviewer.id,
            role=role,
            score=points,
            reasons=reasons,
            needs_interpreter=not read,
            trigger=ROUTED_ON_FILING,
        )
        chain.add(assigned, at, Role.SYSTEM, None)


def _assessed(done: Walk, draft: Draft, *, before: datetime | None) -> None:
    """The severity and reprisal risk, by the lead, once, when their time comes before
    `before` (None: at all)."""
    if done.assessed or draft.assessed_at is None or draft.severity is None:
        return
    if before is not None and draft.assessed_at >= before:
        return
    done.assessed = True
    scale, scope, irremediability, likelihood = draft.severity
    severity = events.severity_assessed(
        scale=scale, scope=scope, irremediability=irremediability, likelihood=likelihood
    )
    done.chain.add(severity, draft.assessed_at, Role.REVIEWER, draft.lead.id)
    if draft.reprisal is not None:
        risk = events.reprisal_risk_assessed(draft.reprisal)
        done.chain.add(risk, draft.assessed_at, Role.REVIEWER, draft.lead.id)


def _moved(
    done: Walk,
    draft: Draft,
    step: int,
    changes: dict[str, object],
    proposal_ids: Iterator[int],
) -> None:
    """`stage_changed` as `cases.transition` writes it, or `decision_proposed` and then
    `stage_changed` as `propose_decision` and `confirm_decision` do."""
    source, target = draft.path[step - 1], draft.path[step]
    at = draft.entered[step]
    move = lifecycle.find(source, target)
    if move is None:  # pragma: no cover - the paths come from the lifecycle table
        raise ValueError(f"no move from {source} to {target}")
    role, actor_id = Role.COMPLAINANT, None  # appeals and withdrawals
    proposal_id = proposed_by = None
    if Role.REVIEWER in move.roles and target is not Stage.WITHDRAWN:
        role, actor_id = Role.REVIEWER, draft.lead.id
        since = at - draft.entered[step - 1]
        proposed_at = at - min(timedelta(hours=PROPOSED_HOURS_BEFORE), since / 2)
        if move.hears_complainant:  # R08: the lead logs hearing them, then moves
            heard = events.complainant_heard(HEARD_NOTE)
            done.chain.add(heard, proposed_at if move.four_eyes else at, Role.REVIEWER, actor_id)
        if move.four_eyes:  # proposed by the lead, confirmed by the second
            proposal_id, proposed_by = next(proposal_ids), draft.lead.id
            proposed = events.decision_proposed(
                proposal_id=proposal_id, to_stage=target, reason=REASON
            )
            done.chain.add(proposed, proposed_at, Role.REVIEWER, proposed_by)
            done.proposals.append(
                ProposalRow(
                    id=proposal_id,
                    case_id=done.chain.case_id,
                    to_stage=target.value,
                    reason=REASON,
                    reason_language="",  # as the services keep a reason of no known language
                    state=ProposalState.CONFIRMED.value,
                    proposed_by_id=proposed_by,
                    proposed_at=proposed_at,
                    decided_by_id=draft.second.id,
                    decided_at=at,
                )
            )
            actor_id = draft.second.id
    moved = events.stage_changed(
        source,
        target,
        reason=REASON if move.needs_reason else "",
        proposal_id=proposal_id,
        proposed_by=proposed_by,
        deadlines=changes,
    )
    done.chain.add(moved, at, role, actor_id)


def check_chain(chain: Chain) -> None:
    """What `caselog` computes for these rows must be what was written: a change of the
    log's format or of a column fails here, not later in verify-log."""
    for row in chain.rows:
        payload = json.loads(row.payload)
        event = CaseEvent(
            case_id=row.case_id,
            seq=row.seq,
            kind=row.kind,
            visibility=Visibility[row.visibility.upper()],
            actor_role=Role(row.actor_role),
            actor_id=row.actor_id,
            stage_from=Stage(row.stage_from) if row.stage_from else None,
            stage_to=Stage(row.stage_to) if row.stage_to else None,
            payload=payload,
            created_at=row.created_at,
            prev_hash=row.prev_hash,
            salts=json.loads(row.salts),
        )
        if caselog.canonical(payload).decode() != row.payload:
            raise AssertionError(f"{row.kind}: the payload is not in caselog's canonical form")
        if event.visibility is not caselog.visibility_of(row.kind, payload):
            raise AssertionError(f"{row.kind}: not the visibility the log declares")
        if caselog.compute_hash(event, chain.reference) != row.hash:
            raise AssertionError(f"{row.kind}: the hash differs from caselog.compute_hash")
