"""What filing, routing and the lifecycle write to a case's log, as pure functions.

Each builder takes plain values and returns a `caselog.Entry`: the event's kind, its
payload (plain JSON values only) and the stages it moves between; `Entry.visibility` is
the kind's, and a field the kind does not declare is refused. The services record these
entries (`caselog.record`); the synthetic-case generator (`grievance.demo.generate`)
writes the same entries in bulk, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from grievance.models import (
    Anonymity,
    AssignmentRole,
    Channel,
    ComplainantKind,
    ReprisalRisk,
    Stage,
)
from grievance.services.caselog import Entry

NO_DEADLINES: Mapping[str, Any] = {}


def case_filed(
    *,
    reference: str,
    mechanism: str,
    themes: Sequence[str],
    country: str | None,
    policy_version: int,
    channel: Channel,
    language: str,
    urgent: bool,
    complainant_kind: ComplainantKind,
    anonymity: Anonymity,
    recorded_by_staff: bool,
    deadlines: Mapping[str, Any] = NO_DEADLINES,
    api_client_id: int | None = None,
    api_client: str = "",
) -> Entry:
    """The first event of a case; `deadlines` is `deadlines.changes_payload` of the limits
    that receiving it opened. A complaint a partner application filed through the API
    names the client (its id, and its name and organisation as they were); the two are
    left out otherwise."""
    partner: dict[str, Any] = {}
    if api_client_id is not None:
        partner = {"api_client_id": api_client_id, "api_client": api_client}
    return Entry(
        "case_filed",
        {
            "reference": reference,
            "mechanism": mechanism,
            "themes": list(themes),
            "country": country,
            "policy_version": policy_version,
            "channel": channel.value,
            "language": language,
            "urgent": urgent,
            "complainant_kind": complainant_kind.value,
            "anonymity": anonymity.value,
            "recorded_by_staff": recorded_by_staff,
            **partner,
            **deadlines,
        },
        stage_to=Stage.RECEIVED,
    )


def stage_changed(
    source: Stage,
    target: Stage,
    *,
    reason: str = "",
    reason_language: str = "",
    proposal_id: int | None = None,
    proposed_by: int | None = None,
    phone_contacts_erased: int = 0,
    deadlines: Mapping[str, Any] = NO_DEADLINES,
) -> Entry:
    """A move along the lifecycle; a decision taken with four eyes names its proposal and
    who proposed it. `reason` is left out when empty, and so is a count of none."""
    payload: dict[str, Any] = {}
    if proposal_id is not None:
        payload["proposal_id"] = proposal_id
    if proposed_by is not None:
        payload["proposed_by"] = proposed_by
    if phone_contacts_erased:
        payload["phone_contacts_erased"] = phone_contacts_erased
    payload.update(deadlines)
    if reason:
        payload["reason"] = reason
        if reason_language:
            payload["reason_language"] = reason_language
    return Entry("stage_changed", payload, stage_from=source, stage_to=target)


def decision_proposed(*, proposal_id: int, to_stage: Stage, reason: str) -> Entry:
    return Entry(
        "decision_proposed",
        {"proposal_id": proposal_id, "to_stage": to_stage.value, "reason": reason},
    )


def decision_withdrawn(*, proposal_id: int, to_stage: Stage, reason: str) -> Entry:
    return Entry(
        "decision_withdrawn",
        {"proposal_id": proposal_id, "to_stage": to_stage.value, "reason": reason},
    )


def reviewer_assigned(
    *,
    reviewer_id: int,
    role: AssignmentRole,
    score: float | None,
    reasons: Sequence[str],
    needs_interpreter: bool,
    trigger: str | None = None,
    override_reason: str | None = None,
) -> Entry:
    """A reviewer put on a case: by routing (`trigger` says why it ran), by the secretariat
    (`override_reason`) or by hand (neither)."""
    payload: dict[str, Any] = {
        "reviewer_id": reviewer_id,
        "role": role.value,
        "score": score,
        "reasons": list(reasons),
        "needs_interpreter": needs_interpreter,
    }
    if trigger is not None:
        payload["trigger"] = trigger
    if override_reason is not None:
        payload["override_reason"] = override_reason
    return Entry("reviewer_assigned", payload)


def reviewer_unassigned(
    *, reviewer_id: int, role: AssignmentRole, reason: str, needs_interpreter: bool
) -> Entry:
    return Entry(
        "reviewer_unassigned",
        {
            "reviewer_id": reviewer_id,
            "role": role.value,
            "reason": reason,
            "needs_interpreter": needs_interpreter,
        },
    )


def severity_assessed(*, scale: int, scope: int, irremediability: int, likelihood: int) -> Entry:
    return Entry(
        "severity_assessed",
        {
            "scale": scale,
            "scope": scope,
            "irremediability": irremediability,
            "likelihood": likelihood,
        },
    )


def reprisal_risk_assessed(level: ReprisalRisk) -> Entry:
    return Entry("reprisal_risk_assessed", {"level": level.value})


def complainant_heard(note: str) -> Entry:
    """A reviewer heard the complainant outside this system (R08): how, when."""
    return Entry("complainant_heard", {"note": note})


def complainant_not_heard(reason: str) -> Entry:
    """A reviewer could not hear the complainant (R08): why."""
    return Entry("complainant_not_heard", {"reason": reason})
