"""The case-log kinds of the remedy plan (services/remedy_plan.py, remedy_delivery.py,
remedy_closing.py), with the visibility of each field; `services.caselog` adds them to
its `EVENT_KINDS` (this module imports nothing of it: no cycle). What the complainant
answered is for the parties; the reviewers' internal steps (an approval proposed or
withdrawn) for the reviewers; the items a company reports on concern that company only
(`COMPANY`, by `remedy_action_id`).
"""

from __future__ import annotations

from collections.abc import Mapping

from grievance.models import Visibility

PARTIES, REVIEWERS = Visibility.PARTIES, Visibility.REVIEWERS
_DEADLINE_FIELDS = {"deadlines_opened": PARTIES, "deadlines_closed": PARTIES}
#: Whom the parties' events concern (the values of `caselog.Concerns`).
CASE, COMPANY, COMPLAINANT = "case", "company", "complainant"


def EventKind(
    visibility: Visibility, fields: Mapping[str, Visibility], concerns: str = COMPLAINANT
) -> tuple[Visibility, Mapping[str, Visibility], str]:
    return visibility, fields, concerns


#: kind: (visibility, the visibility of each field, whom it concerns)
REMEDY_EVENT_KINDS: dict[str, tuple[Visibility, Mapping[str, Visibility], str]] = {
    # the items of the plan, each concerning its company (moved from caselog.py)
    "remedy_action_recorded": EventKind(
        PARTIES,
        {
            "remedy_action_id": PARTIES,
            "remedy_type": Visibility.PUBLIC,
            "company_id": PARTIES,
            "description": PARTIES,
            "due_on": PARTIES,
            "status": PARTIES,
            "share_percent": PARTIES,
            "beneficiary_count": PARTIES,
            "beneficiaries": PARTIES,
            "plan_version": PARTIES,
            **_DEADLINE_FIELDS,
        },
        COMPANY,
    ),
    "remedy_status_changed": EventKind(
        PARTIES,
        {
            "remedy_action_id": PARTIES,
            "status": PARTIES,
            "previous_status": PARTIES,
            "note": PARTIES,
            **_DEADLINE_FIELDS,
        },
        COMPANY,
    ),
    "remedy_response": EventKind(
        PARTIES,
        {"remedy_action_id": PARTIES, "response": PARTIES, "channel": REVIEWERS},
        COMPANY,
    ),
    "remedy_plan_put": EventKind(PARTIES, {"plan_version": PARTIES}, CASE),
    "remedy_plan_answered": EventKind(
        PARTIES,
        {"answer": PARTIES, "channel": REVIEWERS, "plan_version": PARTIES},
        CASE,
    ),
    "remedy_plan_approval_proposed": EventKind(
        REVIEWERS, {"plan_version": REVIEWERS, "reason": REVIEWERS}
    ),
    "remedy_plan_approval_withdrawn": EventKind(
        REVIEWERS, {"plan_version": REVIEWERS, "reason": REVIEWERS}
    ),
    "remedy_plan_approved": EventKind(
        PARTIES,
        {
            "plan_version": PARTIES,
            "proposed_by": REVIEWERS,
            "reason": PARTIES,
            "answer": PARTIES,
            "answer_channel": REVIEWERS,
            "remedy_action_ids": REVIEWERS,
            **_DEADLINE_FIELDS,
        },
        CASE,
    ),
    "remedy_progress_reported": EventKind(
        PARTIES,
        {
            "remedy_action_id": PARTIES,
            "report_id": REVIEWERS,
            "note": PARTIES,
            "status": PARTIES,
            "previous_status": PARTIES,
            "attachment_ids": REVIEWERS,
            **_DEADLINE_FIELDS,
        },
        COMPANY,
    ),
    "remedy_verified": EventKind(PARTIES, {"remedy_action_id": PARTIES, "note": PARTIES}, COMPANY),
    "closed_with_remedy_disputed": EventKind(
        PARTIES,
        {
            "proposed_by": REVIEWERS,
            "confirmed_by": REVIEWERS,
            "reason": PARTIES,
            "second_reason": PARTIES,
            "remedy_action_ids": REVIEWERS,
        },
        CASE,
    ),
}
