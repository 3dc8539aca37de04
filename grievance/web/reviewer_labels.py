"""Words of the reviewer's workspace, translatable (DESIGN invariant 7): the names of the
lifecycle's moves, of the parties' attributes, and the case log as reviewers read it
(each event's words are its renderer's, in `grievance.http.events`)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from grievance.http.events import describe
from grievance.http.labels import ASSIGNMENT_ROLE_NAMES as ASSIGNMENT_ROLE_NAMES
from grievance.http.labels import CHANNEL_NAMES as CHANNEL_NAMES
from grievance.http.labels import INVOLVEMENT_NAMES as INVOLVEMENT_NAMES
from grievance.http.labels import RISK_NAMES as RISK_NAMES
from grievance.http.labels import STAGE_NAMES
from grievance.models import (
    Anonymity,
    ComplainantKind,
    ContactChannel,
    Role,
    Stage,
)
from grievance.services import lifecycle, queue
from grievance.services.casereads import REVIEWER, ReviewerCaseView
from grievance.web.auth import ROLE_NAMES

S = Stage

#: Why a case is urgent (`services.queue.urgency_reasons`), on the queue and the case.
URGENCY_NAMES = {
    queue.UrgencyReason.IRREMEDIABLE: _l("harm irremediable if delayed"),
    queue.UrgencyReason.HIGH_REPRISAL_RISK: _l("high reprisal risk"),
    queue.UrgencyReason.DANGER: _l("someone in danger, the complainant said"),
    queue.UrgencyReason.URGENT_THEME: _l("an urgent theme, not assessed yet"),
}

#: What each move of the lifecycle means, said to the reviewer who takes it.
MOVE_NAMES = {
    (S.RECEIVED, S.ACKNOWLEDGED): _l("Acknowledge receipt to the complainant"),
    (S.ACKNOWLEDGED, S.ADMISSIBILITY): _l("Start the admissibility assessment"),
    (S.ADMISSIBILITY, S.INVESTIGATION): _l("Admissible: open an investigation"),
    (S.ADMISSIBILITY, S.DIALOGUE): _l("Admissible: offer dialogue or mediation"),
    (S.ADMISSIBILITY, S.INADMISSIBLE): _l("Not admissible"),
    (S.ADMISSIBILITY, S.REFERRED): _l("Refer to a better-placed mechanism"),
    (S.DIALOGUE, S.INVESTIGATION): _l("Dialogue ended without agreement: investigate"),
    (S.DIALOGUE, S.FINDINGS): _l("Agreement reached in dialogue"),
    (S.INVESTIGATION, S.DIALOGUE): _l("Offer dialogue or mediation"),
    (S.INVESTIGATION, S.FINDINGS): _l("Adopt the findings"),
    (S.FINDINGS, S.REMEDY_PLAN): _l("Prepare the remedy plan"),
    (S.FINDINGS, S.CLOSED): _l("Close the case on the findings"),
    (S.REMEDY_PLAN, S.REMEDY_IMPLEMENTATION): _l("The remedy plan is agreed"),
    (S.REMEDY_IMPLEMENTATION, S.REMEDY_VERIFICATION): _l("Remedy reported: verify it"),
    (S.REMEDY_VERIFICATION, S.REMEDY_IMPLEMENTATION): _l("The remedy is not verified yet"),
    (S.REMEDY_VERIFICATION, S.CLOSED): _l("Remedy verified: close the case"),
    (S.APPEAL, S.ADMISSIBILITY): _l("Appeal upheld: reconsider admissibility"),
    (S.APPEAL, S.INVESTIGATION): _l("Appeal upheld: reopen the investigation"),
    (S.APPEAL, S.REMEDY_PLAN): _l("Appeal dismissed: the findings stand"),
    (S.APPEAL, S.INADMISSIBLE): _l("Appeal dismissed: not admissible"),
    (S.APPEAL, S.CLOSED): _l("Appeal dismissed: close the case"),
}
WITHDRAWN_MOVE = _l("The complainant withdraws the complaint")


def move_name(move: lifecycle.Transition) -> str:
    if move.target is Stage.WITHDRAWN:
        return str(WITHDRAWN_MOVE)
    name = MOVE_NAMES.get((move.source, move.target))
    return str(name) if name is not None else str(STAGE_NAMES[move.target])


ANONYMITY_NAMES = {
    Anonymity.ANONYMOUS: _l("Anonymous: nobody knows who they are"),
    Anonymity.CONFIDENTIAL: _l("Confidential: reviewers may know, companies may not"),
    Anonymity.OPEN: _l("Open: agreed that the companies may know"),
}

COMPLAINANT_KIND_NAMES = {
    ComplainantKind.AFFECTED: _l("Affected person"),
    ComplainantKind.REPRESENTATIVE: _l("Representative of the affected"),
    ComplainantKind.UNION: _l("Trade union"),
    ComplainantKind.CSO: _l("Civil society organisation"),
    ComplainantKind.NOTIFIER: _l("Notifier"),
}

CONTACT_NAMES = {
    ContactChannel.NONE: _l("Only through the follow-up page"),
    ContactChannel.SMS: _l("By text message"),
    ContactChannel.WHATSAPP: _l("By WhatsApp"),
    ContactChannel.EMAIL: _l("By e-mail"),
    ContactChannel.REPRESENTATIVE: _l("Through their representative"),
}

NOT_CLASSIFIED = _l("Not classified yet")

BAND_NAMES = {
    0: _l("Irremediable if delayed"),
    1: _l("Not assessed yet"),
    2: _l("Assessed"),
}


def actor_name(role: Role) -> str:
    if role is Role.COMPLAINANT:
        return str(gettext("The complainant"))
    if role is Role.SYSTEM:
        return str(gettext("The system"))
    return str(ROLE_NAMES[role])


def case_log(view: ReviewerCaseView) -> list[tuple[datetime, str, str]]:
    """The case log as its reviewers read it: when, who (the staff user's name and role),
    and what (the event's renderer for reviewers)."""
    lines = []
    for event in view.events:
        who = actor_name(event.actor_role) if event.actor_role is not None else ""
        if event.actor_id is not None and event.actor_id in view.staff_names:
            who = f"{view.staff_names[event.actor_id]} ({who})"
        lines.append((event.at, who, describe(event, REVIEWER, view.staff_names)))
    return lines
