"""The builders of `services.events`: declared fields only, plain JSON values, and each
kind's visibility. The services and the synthetic-case generator both write what they
build (tests/integration/test_generate.py compares the two logs)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from grievance.models import (
    Anonymity,
    AssignmentRole,
    Channel,
    ComplainantKind,
    DeadlineState,
    ReprisalRisk,
    Stage,
    Visibility,
)
from grievance.services import caselog, events
from grievance.services.deadlines import changes_payload

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
DEADLINES = changes_payload([("decision", AT)], [("admissibility", DeadlineState.MET)])

ENTRIES = {
    "case_filed": events.case_filed(
        reference="TEX-2026-00001",
        mechanism="TEX",
        themes=["living_wage"],
        country="BD",
        policy_version=1,
        channel=Channel.SMS,
        language="bn",
        urgent=False,
        complainant_kind=ComplainantKind.AFFECTED,
        anonymity=Anonymity.CONFIDENTIAL,
        recorded_by_staff=False,
        deadlines=DEADLINES,
        api_client_id=4,
        api_client="Worker Voice app (Awaj Foundation)",
    ),
    "stage_changed": events.stage_changed(
        Stage.ADMISSIBILITY,
        Stage.INADMISSIBLE,
        reason="Outside the covenant.",
        reason_language="en",
        proposal_id=3,
        proposed_by=7,
        phone_contacts_erased=1,
        deadlines=DEADLINES,
    ),
    "decision_proposed": events.decision_proposed(
        proposal_id=3, to_stage=Stage.INADMISSIBLE, reason="Outside the covenant."
    ),
    "decision_withdrawn": events.decision_withdrawn(
        proposal_id=3, to_stage=Stage.INADMISSIBLE, reason="Not yet."
    ),
    "reviewer_assigned": events.reviewer_assigned(
        reviewer_id=7,
        role=AssignmentRole.LEAD,
        score=1_010_000,
        reasons=["language: reads bn"],
        needs_interpreter=False,
        trigger="override",
        override_reason="Reads Bangla.",
    ),
    "reviewer_unassigned": events.reviewer_unassigned(
        reviewer_id=7,
        role=AssignmentRole.SECOND,
        reason="recused: a cousin",
        needs_interpreter=True,
    ),
    "severity_assessed": events.severity_assessed(
        scale=3, scope=2, irremediability=4, likelihood=5
    ),
    "reprisal_risk_assessed": events.reprisal_risk_assessed(ReprisalRisk.HIGH),
    "complainant_heard": events.complainant_heard("By phone, in Bangla."),
    "complainant_not_heard": events.complainant_not_heard("No answer for three weeks."),
}


@pytest.mark.parametrize("kind", sorted(ENTRIES))
def test_an_entry_has_its_kind_and_only_declared_plain_fields(kind):
    entry = ENTRIES[kind]
    assert entry.kind == kind
    assert entry.visibility is caselog.EVENT_KINDS[kind].visibility
    # Every field the kind declares can be written, and nothing else (all are given here).
    assert set(entry.payload) == set(caselog.EVENT_KINDS[kind].fields)
    # Plain JSON: the generator's fast encoding is the log's canonical one.
    assert caselog.canonical_text(entry.payload).encode() == caselog.canonical(entry.payload)


def test_optional_fields_are_left_out_when_empty():
    moved = events.stage_changed(Stage.RECEIVED, Stage.ACKNOWLEDGED)
    assert moved.payload == {}
    assert (moved.stage_from, moved.stage_to) == (Stage.RECEIVED, Stage.ACKNOWLEDGED)
    assert moved.visibility is Visibility.PUBLIC
    routed = events.reviewer_assigned(
        reviewer_id=1, role=AssignmentRole.LEAD, score=None, reasons=[], needs_interpreter=False
    )
    assert "trigger" not in routed.payload
    assert "override_reason" not in routed.payload
    filed = events.case_filed(
        reference="TEX-2026-00001",
        mechanism="TEX",
        themes=[],
        country=None,
        policy_version=1,
        channel=Channel.WEB,
        language="bn",
        urgent=False,
        complainant_kind=ComplainantKind.AFFECTED,
        anonymity=Anonymity.ANONYMOUS,
        recorded_by_staff=False,
    )
    assert "api_client_id" not in filed.payload  # filed by no partner application
    assert "api_client" not in filed.payload


def test_the_deadline_changes_are_logged_as_text():
    payload = ENTRIES["case_filed"].payload
    assert payload["deadlines_opened"] == [
        {"code": "decision", "due_at": "2026-03-02T09:30:00.000000Z"}
    ]
    assert payload["deadlines_closed"] == [{"code": "admissibility", "state": "met"}]


def test_an_undeclared_field_is_refused():
    entry = caselog.Entry("severity_assessed", {"scale": 1, "colour": "red"})
    with pytest.raises(caselog.UnknownEventField, match="colour"):
        _ = entry.visibility
