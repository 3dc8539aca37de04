"""Words for the lifecycle shown to people, translatable (DESIGN invariant 7): stages,
time limits, and the names of a case's attributes that the case log and the staff pages
share. What an event says is in `grievance.http.events`."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from grievance.http.numerals import ngettext
from grievance.models import AssignmentRole, Channel, InvolvementKind, ReprisalRisk, Stage
from grievance.policies import Calendar, TimeLimit
from grievance.services.casereads import TimeLimitView
from grievance.services.company_deadlines import company_of_code, kind_of_code

STAGE_NAMES = {
    Stage.RECEIVED: _l("Received"),
    Stage.ACKNOWLEDGED: _l("Acknowledged"),
    Stage.ADMISSIBILITY: _l("Admissibility"),
    Stage.DIALOGUE: _l("Dialogue or mediation"),
    Stage.INVESTIGATION: _l("Investigation"),
    Stage.FINDINGS: _l("Findings"),
    Stage.REMEDY_PLAN: _l("Remedy plan"),
    Stage.REMEDY_IMPLEMENTATION: _l("Remedy carried out"),
    Stage.REMEDY_VERIFICATION: _l("Remedy checked"),
    Stage.APPEAL: _l("Appeal"),
    Stage.INADMISSIBLE: _l("Not admissible"),
    Stage.REFERRED: _l("Referred elsewhere"),
    Stage.WITHDRAWN: _l("Withdrawn"),
    Stage.CLOSED: _l("Closed"),
}

#: The usual way through a case, as the published procedure tells it.
PROCEDURE = [
    (Stage.RECEIVED, _l("We receive your complaint and give you a receipt code.")),
    (Stage.ACKNOWLEDGED, _l("We confirm that we received it and tell you what happens next.")),
    (
        Stage.ADMISSIBILITY,
        _l(
            "Two independent reviewers check whether the mechanism can handle it, and tell you why."
        ),
    ),
    (
        Stage.DIALOGUE,
        _l("If you want, we bring you and the companies together to look for a solution."),
    ),
    (
        Stage.INVESTIGATION,
        _l(
            "The reviewers look at the facts, speak with you in your language, and hear the companies."
        ),
    ),
    (
        Stage.FINDINGS,
        _l("The reviewers decide what happened and who is responsible, with reasons."),
    ),
    (Stage.REMEDY_PLAN, _l("The companies and you agree on how the harm will be put right.")),
    (Stage.REMEDY_IMPLEMENTATION, _l("The companies carry out the plan and report what they did.")),
    (Stage.REMEDY_VERIFICATION, _l("We check with you whether the harm was really put right.")),
    (Stage.CLOSED, _l("The case is closed. Later we ask you whether the remedy lasted.")),
]

OUTCOMES = [
    (
        Stage.INADMISSIBLE,
        _l(
            "Not admissible: the mechanism cannot handle the complaint. You get the reasons and can appeal."
        ),
    ),
    (Stage.REFERRED, _l("Referred: another body is better placed; we tell you which and why.")),
    (Stage.DIALOGUE, _l("Agreement: you and the companies settle the matter in dialogue.")),
    (
        Stage.FINDINGS,
        _l("Findings: the reviewers decide, with reasons, and say what remedy is due."),
    ),
    (
        Stage.CLOSED,
        _l("Closed: after remedy, or when the complaint is not founded, always with reasons."),
    ),
    (Stage.WITHDRAWN, _l("Withdrawn: you can stop your complaint at any time.")),
    (
        Stage.APPEAL,
        _l(
            "Appeal: you can ask for a decision on admissibility or on the findings to be reviewed."
        ),
    ),
]


def duration(limit: TimeLimit, calendar: Calendar) -> str:
    if limit.months is not None:
        return str(ngettext("%(num)d month", "%(num)d months", limit.months))
    assert limit.days is not None
    if calendar.business_days:
        return str(ngettext("%(num)d working day", "%(num)d working days", limit.days))
    return str(ngettext("%(num)d day", "%(num)d days", limit.days))


def describe(limit: TimeLimit, calendar: Calendar) -> str:
    """'Acknowledge receipt: within 7 days', in the reader's language."""
    label = gettext(limit.label)  # policy labels are extracted by grievance.policies.extract
    if limit.recurring:
        return str(
            gettext(
                "%(label)s: at least every %(duration)s",
                label=label,
                duration=duration(limit, calendar),
            )
        )
    return str(
        gettext("%(label)s: within %(duration)s", label=label, duration=duration(limit, calendar))
    )


def limit_label(limit: TimeLimitView) -> str:
    """An open time limit's name, in the reader's language."""
    # policy labels are extracted by grievance.policies.extract
    if limit.label:
        return str(gettext(limit.label))
    return company_limit_label(limit.code) or str(gettext("Remedy action"))


def company_limit_label(code: str) -> str | None:
    """A company's own time limit's name (to respond, to meet an obligation), if it is one."""
    if company_of_code(code) is None:
        return None
    if kind_of_code(code) == "response":
        return str(gettext("The company's response to the complaint"))
    return str(gettext("A company obligation"))


INVOLVEMENT_NAMES = {
    InvolvementKind.CAUSE: _l("Causes the harm"),
    InvolvementKind.CONTRIBUTE: _l("Contributes to the harm"),
    InvolvementKind.LINKED: _l("Directly linked to the harm"),
}

RISK_NAMES = {
    ReprisalRisk.LOW: _l("Low"),
    ReprisalRisk.MEDIUM: _l("Medium"),
    ReprisalRisk.HIGH: _l("High"),
}

ASSIGNMENT_ROLE_NAMES = {
    AssignmentRole.LEAD: _l("Lead reviewer"),
    AssignmentRole.SECOND: _l("Second reviewer"),
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
