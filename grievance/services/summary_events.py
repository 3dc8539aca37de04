"""The case-log kinds of a case's public summary (services/public_summary.py), with the
visibility of each field; `services.caselog` adds them to its `EVENT_KINDS` (this module
imports nothing of it: no cycle). A proposed summary is the reviewers' draft; the approved
one, by a second reviewer, is public: the registry shows it and the log proves it.
"""

from __future__ import annotations

from collections.abc import Mapping

from grievance.models import Visibility

PUBLIC, REVIEWERS = Visibility.PUBLIC, Visibility.REVIEWERS

#: kind: (visibility, the visibility of each field, whom it concerns)
SUMMARY_EVENT_KINDS: dict[str, tuple[Visibility, Mapping[str, Visibility], str]] = {
    "public_summary_proposed": (
        REVIEWERS,
        {"summary": REVIEWERS, "language": REVIEWERS},
        "case",
    ),
    "public_summary_approved": (
        PUBLIC,
        {"summary": PUBLIC, "language": PUBLIC, "proposed_seq": PUBLIC},
        "case",
    ),
}
