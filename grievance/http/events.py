"""What each event of a case's log says, to whom: one registry of renderers (as Indico's
log renderers), event kind × reader, instead of chains of `if`.

A renderer turns an `EventView` (the event as its audience may see it: only the fields
its visibility allows) into one translated line. The complainant's wording speaks to
them ("The reviewers wrote to you."), the staff's speaks of them ("Message sent to the
complainant."); companies and the public get the neutral lines. `describe` falls back on
a generic line for a kind with no renderer for that reader, so a new kind of event never
breaks a page; `tests/unit/test_event_renderers.py` checks that every kind the services
write has a renderer for each reader that may see it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from flask_babel import gettext

from grievance.http.labels import (
    ASSIGNMENT_ROLE_NAMES,
    CHANNEL_NAMES,
    INVOLVEMENT_NAMES,
    RISK_NAMES,
    STAGE_NAMES,
)
from grievance.http.numerals import ngettext
from grievance.http.remedy_labels import answer_name
from grievance.models import Stage
from grievance.policies import default_policy
from grievance.services.casereads import Audience, EventView, Reader

#: Staff users' display names by id (reviewers read who joined or left a case).
Names = Mapping[int, str]
Renderer = Callable[[EventView, Names], str]

NO_NAMES: Names = MappingProxyType({})

_RENDERERS: dict[tuple[str, Reader], Renderer] = {}

COMPLAINANT = Reader.COMPLAINANT
COMPANY = Reader.COMPANY
PUBLIC = Reader.PUBLIC
#: Reviewers and the secretariat read the same log, in the same words.
STAFF = (Reader.REVIEWER, Reader.SECRETARIAT)


def renders(*kinds: str, audience: Reader | Iterable[Reader]) -> Callable[[Renderer], Renderer]:
    """Register the decorated function as the renderer of these kinds for these readers."""
    readers = (audience,) if isinstance(audience, Reader) else tuple(audience)

    def register(renderer: Renderer) -> Renderer:
        for kind in kinds:
            for reader in readers:
                if (kind, reader) in _RENDERERS:
                    raise ValueError(f"two renderers of {kind!r} for the {reader}")
                _RENDERERS[(kind, reader)] = renderer
        return renderer

    return register


def renderer_for(kind: str, reader: Reader) -> Renderer | None:
    return _RENDERERS.get((kind, reader))


def describe(event: EventView, audience: Audience | Reader, names: Names = NO_NAMES) -> str:
    """One line of a case's history, for this audience, in the reader's language."""
    reader = audience.reader if isinstance(audience, Audience) else audience
    renderer = _RENDERERS.get((event.kind, reader), generic)
    return renderer(event, names)


def generic(event: EventView, names: Names) -> str:
    return str(gettext("The case was updated."))


def _text(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    return "" if value is None else str(value)


def _with(text: Any, more: str) -> str:
    return f"{text} {more}" if more else str(text)


def _named(values: Mapping[Any, Any], value: Any) -> str:
    for key, name in values.items():
        if key == value:
            return str(name)
    return str(value)


def _stage(value: Any) -> str:
    try:
        return str(STAGE_NAMES[Stage(value)])
    except ValueError:
        return str(value)


# -- the case as a whole ----------------------------------------------------------------


@renders("case_filed", audience=COMPLAINANT)
def _received(event: EventView, names: Names) -> str:
    return str(gettext("Your complaint was received."))


@renders("case_filed", audience=STAFF)
def _filed(event: EventView, names: Names) -> str:
    channel = _named(CHANNEL_NAMES, event.fields.get("channel"))
    partner = _text(event.fields, "api_client")
    if partner:
        return str(
            gettext(
                "Complaint filed (%(channel)s) by the partner application %(partner)s.",
                channel=channel,
                partner=partner,
            )
        )
    return str(gettext("Complaint filed (%(channel)s).", channel=channel))


@renders("case_filed", audience=(COMPANY, PUBLIC))  # the stage it entered: received
@renders("stage_changed", audience=(COMPLAINANT, COMPANY, PUBLIC))
def _stage_entered(event: EventView, names: Names) -> str:
    if event.stage_to is None:
        return generic(event, names)
    text = gettext("Stage: %(stage)s.", stage=STAGE_NAMES[event.stage_to])
    return _with(text, _text(event.fields, "reason"))


@renders("stage_changed", audience=STAFF)
def _stage_moved(event: EventView, names: Names) -> str:
    if event.stage_to is None:
        return generic(event, names)
    text = gettext(
        "Stage: %(source)s → %(target)s.",
        source=_stage(event.stage_from.value) if event.stage_from else "",
        target=_stage(event.stage_to.value),
    )
    return _with(text, _text(event.fields, "reason"))


@renders("decision_proposed", audience=STAFF)
def _proposed(event: EventView, names: Names) -> str:
    return str(
        gettext(
            "Decision proposed to the second reviewer: %(stage)s. Reasons: %(reason)s",
            stage=_stage(event.fields.get("to_stage")),
            reason=_text(event.fields, "reason"),
        )
    )


@renders("decision_withdrawn", audience=STAFF)
def _withdrawn(event: EventView, names: Names) -> str:
    return str(
        gettext(
            "Proposed decision withdrawn (%(stage)s): %(reason)s",
            stage=_stage(event.fields.get("to_stage")),
            reason=_text(event.fields, "reason"),
        )
    )


@renders("reviewer_assigned", "reviewer_unassigned", audience=STAFF)
def _reviewer_moved(event: EventView, names: Names) -> str:
    reviewer_id = event.fields.get("reviewer_id")
    name = (names.get(reviewer_id) if isinstance(reviewer_id, int) else None) or gettext(
        "A reviewer"
    )
    role = _named(ASSIGNMENT_ROLE_NAMES, event.fields.get("role"))
    if event.kind == "reviewer_assigned":
        return str(gettext("%(name)s joined the case: %(role)s.", name=name, role=role))
    return str(gettext("%(name)s left the case (%(role)s).", name=name, role=role))


@renders("severity_assessed", audience=STAFF)
def _severity(event: EventView, names: Names) -> str:
    fields = event.fields
    return str(
        gettext(
            "Severity assessed: scale %(scale)s, scope %(scope)s, irremediability "
            "%(irremediability)s, likelihood %(likelihood)s.",
            scale=fields.get("scale"),
            scope=fields.get("scope"),
            irremediability=fields.get("irremediability"),
            likelihood=fields.get("likelihood"),
        )
    )


@renders("reprisal_risk_assessed", audience=STAFF)
def _risk(event: EventView, names: Names) -> str:
    level = _named(RISK_NAMES, event.fields.get("level"))
    return str(gettext("Reprisal risk assessed: %(level)s.", level=level))


@renders("complainant_heard", audience=STAFF)
def _heard(event: EventView, names: Names) -> str:
    return str(gettext("The complainant was heard: %(note)s", note=_text(event.fields, "note")))


@renders("complainant_not_heard", audience=STAFF)
def _not_heard(event: EventView, names: Names) -> str:
    reason = _text(event.fields, "reason")
    return str(gettext("The complainant could not be heard: %(reason)s", reason=reason))


@renders("identities_erased", audience=STAFF)
def _erased(event: EventView, names: Names) -> str:
    return str(gettext("The identities were erased at the end of their keeping."))


@renders("log_rechained", audience=(COMPLAINANT, COMPANY, PUBLIC, *STAFF))
def _rechained(event: EventView, names: Names) -> str:
    return str(gettext("The case's log was moved to a form anyone can verify."))


@renders("translation_added", audience=STAFF)
def _translated(event: EventView, names: Names) -> str:
    code = _text(event.fields, "language")
    language = default_policy().language_named(code)
    name = language.name if language is not None else code
    return str(gettext("A translation was added (%(language)s).", language=name))


# -- the companies ----------------------------------------------------------------------


@renders("company_added", audience=(COMPLAINANT, COMPANY, *STAFF))
def _company_added(event: EventView, names: Names) -> str:
    return str(gettext("Company in the case: %(company)s", company=event.fields.get("company")))


@renders("involvement_classified", audience=COMPLAINANT)
def _role_assessed(event: EventView, names: Names) -> str:
    return str(
        gettext(
            "The reviewers assessed the role of %(company)s.", company=event.fields.get("company")
        )
    )


@renders("involvement_classified", audience=(COMPANY, *STAFF))
def _involvement(event: EventView, names: Names) -> str:
    text = gettext(
        "Involvement of %(company)s: %(kind)s.",
        company=event.fields.get("company"),
        kind=_named(INVOLVEMENT_NAMES, event.fields.get("kind")),
    )
    return _with(text, _text(event.fields, "rationale"))


@renders(
    "remedy_action_recorded",
    "remedy_status_changed",
    "remedy_response",
    "remedy_progress_reported",
    "remedy_verified",
    audience=COMPLAINANT,
)
def _remedy_updated(event: EventView, names: Names) -> str:
    return str(gettext("The remedy was updated."))


@renders("remedy_action_recorded", audience=(COMPANY, *STAFF))
def _remedy_recorded(event: EventView, names: Names) -> str:
    return str(gettext("A remedy action was recorded."))


@renders("remedy_status_changed", audience=(COMPANY, *STAFF))
def _remedy_status(event: EventView, names: Names) -> str:
    return str(gettext("The status of a remedy action changed."))


@renders("remedy_response", audience=(COMPANY, *STAFF))
def _remedy_answered(event: EventView, names: Names) -> str:
    return str(gettext("The complainant answered on a remedy action."))


@renders("remedy_plan_put", audience=COMPLAINANT)
def _plan_asked(event: EventView, names: Names) -> str:
    return str(gettext("We ask you whether you agree with the remedy plan."))


@renders("remedy_plan_put", audience=(COMPANY, *STAFF))
def _plan_put(event: EventView, names: Names) -> str:
    return str(gettext("The remedy plan was put to the complainant."))


@renders("remedy_plan_answered", audience=(COMPLAINANT, COMPANY, *STAFF))
def _plan_answered(event: EventView, names: Names) -> str:
    return str(
        gettext(
            "The complainant's answer on the remedy plan: %(answer)s.",
            answer=answer_name(event.fields.get("answer")),
        )
    )


@renders("remedy_plan_approval_proposed", audience=STAFF)
def _plan_approval_proposed(event: EventView, names: Names) -> str:
    return _with(gettext("Approval of the remedy plan proposed."), _text(event.fields, "reason"))


@renders("remedy_plan_approval_withdrawn", audience=STAFF)
def _plan_approval_withdrawn(event: EventView, names: Names) -> str:
    return _with(gettext("Approval of the remedy plan withdrawn."), _text(event.fields, "reason"))


@renders("remedy_plan_approved", audience=(COMPLAINANT, COMPANY, *STAFF))
def _plan_approved(event: EventView, names: Names) -> str:
    return _with(gettext("The remedy plan was approved."), _text(event.fields, "reason"))


@renders("remedy_progress_reported", audience=(COMPANY, *STAFF))
def _remedy_progress(event: EventView, names: Names) -> str:
    return _with(
        gettext("The company reported progress on a remedy item."), _text(event.fields, "note")
    )


@renders("remedy_verified", audience=(COMPANY, *STAFF))
def _remedy_verified(event: EventView, names: Names) -> str:
    return str(gettext("A reviewer verified a remedy item."))


@renders("closed_with_remedy_disputed", audience=(COMPLAINANT, COMPANY, *STAFF))
def _closed_disputed(event: EventView, names: Names) -> str:
    text = gettext("The case was closed although remedy is unverified or disputed.")
    reasons = " ".join(
        part
        for part in (_text(event.fields, "reason"), _text(event.fields, "second_reason"))
        if part
    )
    return _with(text, reasons)


# -- the conversation -------------------------------------------------------------------


@renders("message_to_complainant", "feedback_given", audience=COMPLAINANT)
def _wrote_to_you(event: EventView, names: Names) -> str:
    return str(gettext("The reviewers wrote to you."))


@renders("message_from_complainant", audience=STAFF)
def _complainant_wrote(event: EventView, names: Names) -> str:
    return str(gettext("The complainant wrote to the reviewers."))


@renders("message_to_complainant", audience=STAFF)
def _message_sent(event: EventView, names: Names) -> str:
    return str(gettext("Message sent to the complainant."))


@renders("feedback_given", audience=STAFF)
def _feedback(event: EventView, names: Names) -> str:
    return str(gettext("Feedback given to the complainant."))


@renders("files_added", audience=(COMPLAINANT, *STAFF))
def _files(event: EventView, names: Names) -> str:
    count = len(event.fields.get("attachment_ids") or ()) or 1
    return str(ngettext("%(num)d file was added.", "%(num)d files were added.", count))


@renders("contact_changed", audience=STAFF)
def _contact(event: EventView, names: Names) -> str:
    return str(gettext("The complainant's contact changed."))


@renders("contact_failed", audience=STAFF)
def _contact_failed(event: EventView, names: Names) -> str:
    return str(
        gettext("The complainant's e-mail address refused our mail: nothing more goes to it.")
    )


@renders("satisfaction_asked", audience=COMPLAINANT)
def _asked_you(event: EventView, names: Names) -> str:
    return str(gettext("We asked you whether the harm was put right."))


@renders("satisfaction_asked", audience=STAFF)
def _asked(event: EventView, names: Names) -> str:
    return str(gettext("The complainant was asked whether the harm was put right."))


@renders("satisfaction_recorded", audience=COMPLAINANT)
def _your_answer(event: EventView, names: Names) -> str:
    return str(gettext("Your answer on the remedy was recorded."))


@renders("satisfaction_recorded", audience=STAFF)
def _answer(event: EventView, names: Names) -> str:
    return str(gettext("The complainant's answer on the remedy was recorded."))


# -- time limits ------------------------------------------------------------------------


@renders("clock_paused", audience=COMPLAINANT)
def _waiting_for_you(event: EventView, names: Names) -> str:
    return str(
        gettext(
            "We are waiting for information from you: %(reason)s",
            reason=_text(event.fields, "reason"),
        )
    )


@renders("clock_paused", audience=STAFF)
def _information_requested(event: EventView, names: Names) -> str:
    return str(
        gettext(
            "Information requested; the time limits stop: %(reason)s",
            reason=_text(event.fields, "reason"),
        )
    )


@renders("clock_resumed", audience=(COMPLAINANT, *STAFF))
def _running(event: EventView, names: Names) -> str:
    return str(gettext("The time limits run again."))


@renders("deadline_extended", audience=COMPLAINANT)
def _more_time(event: EventView, names: Names) -> str:
    return str(
        gettext(
            "More time was taken, with this reason: %(reason)s",
            reason=_text(event.fields, "reason"),
        )
    )


@renders("deadline_extended", audience=(COMPANY, *STAFF))
def _extended(event: EventView, names: Names) -> str:
    text = ngettext(
        "A time limit was extended by %(num)d day.",
        "A time limit was extended by %(num)d days.",
        int(event.fields.get("days") or 0),
    )
    return _with(text, _text(event.fields, "reason"))


@renders("deadline_reminder", audience=STAFF)
def _reminder(event: EventView, names: Names) -> str:
    return str(gettext("Reminder: a time limit is near."))


@renders("deadline_escalated", audience=STAFF)
def _escalated(event: EventView, names: Names) -> str:
    return str(gettext("A time limit was missed; the secretariat was told."))


@renders("public_summary_proposed", audience=STAFF)
def _summary_proposed(event: EventView, names: Names) -> str:
    return _with(gettext("A public summary was proposed."), _text(event.fields, "summary"))


@renders("public_summary_approved", audience=(COMPLAINANT, COMPANY, PUBLIC, *STAFF))
def _summary_approved(event: EventView, names: Names) -> str:
    return _with(gettext("A public summary was approved."), _text(event.fields, "summary"))
