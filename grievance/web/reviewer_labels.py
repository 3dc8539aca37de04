"""Words of the reviewer's workspace, translatable (DESIGN invariant 7): the names of the
lifecycle's moves, of the parties' attributes, and the case log as reviewers read it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from grievance.http.labels import STAGE_NAMES
from grievance.models import (
    Anonymity,
    AssignmentRole,
    CaseEvent,
    Channel,
    ComplainantKind,
    ContactChannel,
    InvolvementKind,
    ReprisalRisk,
    Role,
    Stage,
)
from grievance.policies import default_policy
from grievance.services import lifecycle
from grievance.web.auth import ROLE_NAMES

S = Stage

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

INVOLVEMENT_NAMES = {
    InvolvementKind.CAUSE: _l("Causes the harm"),
    InvolvementKind.CONTRIBUTE: _l("Contributes to the harm"),
    InvolvementKind.LINKED: _l("Directly linked to the harm"),
}
NOT_CLASSIFIED = _l("Not classified yet")

RISK_NAMES = {
    ReprisalRisk.LOW: _l("Low"),
    ReprisalRisk.MEDIUM: _l("Medium"),
    ReprisalRisk.HIGH: _l("High"),
}

ASSIGNMENT_ROLE_NAMES = {
    AssignmentRole.LEAD: _l("Lead reviewer"),
    AssignmentRole.SECOND: _l("Second reviewer"),
}

BAND_NAMES = {
    0: _l("Irremediable if delayed"),
    1: _l("Not assessed yet"),
    2: _l("Assessed"),
}

CHANNEL_NAMES = {
    Channel.WEB: _l("Web form"),
    Channel.SMS: _l("Text message"),
    Channel.WHATSAPP: _l("WhatsApp"),
    Channel.VOICE: _l("Voice message"),
    Channel.PHONE: _l("Telephone call"),
    Channel.LETTER: _l("Letter"),
    Channel.IN_PERSON: _l("In person"),
    Channel.EMAIL: _l("E-mail"),
    Channel.API: _l("Partner app"),
}


def actor_name(role: Role) -> str:
    if role is Role.COMPLAINANT:
        return str(gettext("The complainant"))
    if role is Role.SYSTEM:
        return str(gettext("The system"))
    return str(ROLE_NAMES[role])


def _stage(value: Any) -> str:
    try:
        return str(STAGE_NAMES[Stage(value)])
    except ValueError:
        return str(value)


def _named(values: Mapping[Any, Any], value: Any) -> str:
    for key, name in values.items():
        if key == value:
            return str(name)
    return str(value)


def describe_for_reviewers(
    event: CaseEvent, payload: Mapping[str, Any], names: Mapping[int, str]
) -> str:
    """One line of the case log for the assigned reviewers, from what they may see of it
    (`visible_payload(event, Visibility.REVIEWERS)`); `names` are staff users' names."""
    kind = event.kind
    reason = payload.get("reason") or ""
    if kind == "case_filed":
        channel = _named(CHANNEL_NAMES, payload.get("channel"))
        return str(gettext("Complaint filed (%(channel)s).", channel=channel))
    if kind == "stage_changed" and event.stage_to is not None:
        text = gettext(
            "Stage: %(source)s → %(target)s.",
            source=_stage(event.stage_from.value) if event.stage_from else "",
            target=_stage(event.stage_to.value),
        )
        return f"{text} {reason}" if reason else str(text)
    if kind == "decision_proposed":
        return str(
            gettext(
                "Decision proposed to the second reviewer: %(stage)s. Reasons: %(reason)s",
                stage=_stage(payload.get("to_stage")),
                reason=reason,
            )
        )
    if kind == "decision_withdrawn":
        return str(
            gettext(
                "Proposed decision withdrawn (%(stage)s): %(reason)s",
                stage=_stage(payload.get("to_stage")),
                reason=reason,
            )
        )
    if kind in ("reviewer_assigned", "reviewer_unassigned"):
        name = names.get(payload.get("reviewer_id") or 0) or gettext("A reviewer")
        role = _named(ASSIGNMENT_ROLE_NAMES, payload.get("role"))
        if kind == "reviewer_assigned":
            return str(gettext("%(name)s joined the case: %(role)s.", name=name, role=role))
        return str(gettext("%(name)s left the case (%(role)s).", name=name, role=role))
    if kind == "company_added":
        return str(gettext("Company in the case: %(company)s", company=payload.get("company")))
    if kind == "involvement_classified":
        text = gettext(
            "Involvement of %(company)s: %(kind)s.",
            company=payload.get("company"),
            kind=_named(INVOLVEMENT_NAMES, payload.get("kind")),
        )
        rationale = payload.get("rationale") or ""
        return f"{text} {rationale}" if rationale else str(text)
    if kind == "severity_assessed":
        return str(
            gettext(
                "Severity assessed: scale %(scale)s, scope %(scope)s, irremediability "
                "%(irremediability)s, likelihood %(likelihood)s.",
                scale=payload.get("scale"),
                scope=payload.get("scope"),
                irremediability=payload.get("irremediability"),
                likelihood=payload.get("likelihood"),
            )
        )
    if kind == "reprisal_risk_assessed":
        level = _named(RISK_NAMES, payload.get("level"))
        return str(gettext("Reprisal risk assessed: %(level)s.", level=level))
    if kind == "message_from_complainant":
        return str(gettext("The complainant wrote to the reviewers."))
    if kind == "message_to_complainant":
        return str(gettext("Message sent to the complainant."))
    if kind == "feedback_given":
        return str(gettext("Feedback given to the complainant."))
    if kind == "files_added":
        count = len(payload.get("attachment_ids") or ()) or 1
        return str(ngettext("%(num)d file was added.", "%(num)d files were added.", count))
    if kind == "clock_paused":
        return str(
            gettext("Information requested; the time limits stop: %(reason)s", reason=reason)
        )
    if kind == "clock_resumed":
        return str(gettext("The time limits run again."))
    if kind == "deadline_extended":
        days = int(payload.get("days") or 0)
        text = ngettext(
            "A time limit was extended by %(num)d day.",
            "A time limit was extended by %(num)d days.",
            days,
        )
        return f"{text} {reason}" if reason else str(text)
    if kind == "deadline_reminder":
        return str(gettext("Reminder: a time limit is near."))
    if kind == "deadline_escalated":
        return str(gettext("A time limit was missed; the secretariat was told."))
    if kind == "identities_erased":
        return str(gettext("The identities were erased at the end of their keeping."))
    if kind == "contact_changed":
        return str(gettext("The complainant's contact changed."))
    if kind == "contact_failed":
        return str(
            gettext("The complainant's e-mail address refused our mail: nothing more goes to it.")
        )
    if kind == "remedy_action_recorded":
        return str(gettext("A remedy action was recorded."))
    if kind == "remedy_status_changed":
        return str(gettext("The status of a remedy action changed."))
    if kind == "remedy_response":
        return str(gettext("The complainant answered on a remedy action."))
    if kind == "satisfaction_asked":
        return str(gettext("The complainant was asked whether the harm was put right."))
    if kind == "satisfaction_recorded":
        return str(gettext("The complainant's answer on the remedy was recorded."))
    if kind == "translation_added":
        code = str(payload.get("language") or "")
        language = default_policy().language_named(code)
        name = language.name if language is not None else code
        return str(gettext("A translation was added (%(language)s).", language=name))
    return str(gettext("The case was updated."))
