"""The case-log kinds of the company side (services/involvement.py, obligations.py,
company_deadlines.py; #13), with the visibility of each field; `services.caselog` adds
them to its `EVENT_KINDS` (this module imports nothing of it: no cycle). A company's own
words (its response, its answer to its classification, its messages and reports) are
private to that company and the mechanism (`company_private`); what the mechanism decides
of a company's obligations concerns that company (`company`).
"""

from __future__ import annotations

from collections.abc import Mapping

from grievance.models import Visibility

PARTIES, REVIEWERS = Visibility.PARTIES, Visibility.REVIEWERS
_DEADLINE_FIELDS = {"deadlines_opened": PARTIES, "deadlines_closed": PARTIES}
#: Whom the parties' events concern (the values of `caselog.Concerns`).
COMPANY, PRIVATE, COMPLAINANT = "company", "company_private", "complainant"


def _all(visibility: Visibility, names: str, deadlines: bool = False) -> dict[str, Visibility]:
    """These fields (space-separated) at one visibility, and the deadline fields if asked."""
    return dict.fromkeys(names.split(), visibility) | (_DEADLINE_FIELDS if deadlines else {})


def EventKind(
    visibility: Visibility, fields: Mapping[str, Visibility], concerns: str = COMPLAINANT
) -> tuple[Visibility, Mapping[str, Visibility], str]:
    return visibility, fields, concerns


#: kind: (visibility, the visibility of each field, whom it concerns)
COMPANY_EVENT_KINDS: dict[str, tuple[Visibility, Mapping[str, Visibility], str]] = {
    "site_set": EventKind(REVIEWERS, _all(REVIEWERS, "site_id site company_id")),
    "involvement_proposed": EventKind(
        REVIEWERS, _all(REVIEWERS, "proposal_id company_id company kind leverage rationale trigger")
    ),
    "involvement_rejected": EventKind(
        REVIEWERS, _all(REVIEWERS, "proposal_id company_id company reason")
    ),
    # a company's private words: that company and the mechanism only
    "company_responded": EventKind(PARTIES, _all(PARTIES, "company_id response", True), PRIVATE),
    "classification_answered": EventKind(
        PARTIES, _all(PARTIES, "company_id kind version accepted reasons"), PRIVATE
    ),
    "company_message": EventKind(PARTIES, _all(PARTIES, "company_id from_company text"), PRIVATE),
    "obligation_reported": EventKind(
        PARTIES,
        {
            **_all(PARTIES, "company_id obligation_id code reported_status reasons", True),
            "attachment_ids": REVIEWERS,
        },
        PRIVATE,
    ),
    # what the mechanism decides of a company's obligations: the parties see it
    "obligation_verified": EventKind(
        PARTIES,
        _all(PARTIES, "company_id obligation_id code accepted status note", True),
        COMPANY,
    ),
    "obligation_linked": EventKind(
        PARTIES, _all(PARTIES, "company_id obligation_id code remedy_action_id"), COMPANY
    ),
    "company_meeting_arranged": EventKind(
        PARTIES, {**_all(PARTIES, "company_id when place"), "note": REVIEWERS}, COMPANY
    ),
}
