"""The table of the case page's actions: one entry each, and everything else is derived
from it: the POST routes (`dispatch.register` loops over `ACTIONS`), the forms the case
page builds and when it offers them, which form a refused or expired POST comes back in,
what a refusal says. Adding an action is one entry here, a handler, and its section of
`templates/reviewer/case.html` (a form with `id="form-<name>"`).

Each handler is one service call. It returns nothing (the case page follows, with the
entry's `done` message) or the response to send (a page of its own, another redirect).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from grievance.extensions import db
from grievance.http.labels import STAGE_NAMES
from grievance.models import (
    Anonymity,
    Case,
    CaseEvent,
    Channel,
    Complainant,
    DecisionProposal,
    Message,
    ReprisalRisk,
    Stage,
)
from grievance.services import cases, hearing, identity, messages, timekeeping, translations
from grievance.services.actors import Actor
from grievance.services.casereads import ComplainantView, ProposalView
from grievance.services.context import Context
from grievance.services.errors import NotAllowed, ServiceError
from grievance.web.reviewer.common import back, pending
from grievance.web.reviewer.forms import (
    FROM_1_TO_5,
    REASONS,
    AcknowledgeForm,
    ConfirmForm,
    HearingForm,
    InformationForm,
    MessageForm,
    MoveForm,
    RecuseForm,
    ReprisalForm,
    ResumeForm,
    RevealForm,
    SeverityForm,
    TranslationForm,
    WithdrawForm,
    WorkspaceForm,
)
from grievance.web.reviewer_labels import ANONYMITY_NAMES

NOT_DONE = _l("This could not be done. Reload the case and try again.")
STALE_PROPOSAL = _l("This proposal is no longer waiting: the page was out of date.")


class Refused(Exception):
    """An action the view itself refuses before calling a service (a stale page)."""

    def __init__(self, message: Any) -> None:
        self.message = message
        super().__init__(str(message))


@dataclass(frozen=True)
class Submission:
    """An action's form, sent and valid, on the case of its URL."""

    ctx: Context
    case: Case
    actor: Actor
    form: Any
    #: The URL's values besides the case's reference (a complainant's id).
    args: Mapping[str, Any]


@dataclass(frozen=True)
class Offer:
    """What decides which actions the case page offers."""

    case: Case
    erased: bool
    waiting: bool
    #: Some move of the lifecycle is open to a reviewer from the case's stage.
    moves: bool
    proposal: ProposalView | None
    can_confirm: bool
    #: The name of the form that came back (refused, expired), if one did.
    bound: str | None
    #: The complainant whose form it is, for an action on each complainant.
    complainant: ComplainantView | None = None


Handler = Callable[[Submission], "Response | str | None"]


def always(offer: Offer) -> bool:
    return True


@dataclass(frozen=True)
class Action:
    #: The form's prefix, and its section's `id="form-<name>"` on the case page.
    name: str
    #: The endpoint in the blueprint (`reviewer.<endpoint>`).
    endpoint: str
    #: The path under `/cases/<reference>`.
    path: str
    form: type[WorkspaceForm]
    handler: Handler
    #: Said once the handler is done, if it returned nothing.
    done: Any = ""
    #: Said for a refusal no more specific message explains (`dispatch.REFUSALS`).
    otherwise: Any = NOT_DONE
    #: Refusals this action explains its own way, before `dispatch.REFUSALS`.
    refusals: Mapping[type[ServiceError], Any] = field(default_factory=dict)
    #: How a field the service found wrong (`InvalidInput`) is wrong; `%(max)d` is the
    #: field's length limit.
    field_problems: Mapping[str, Any] = field(default_factory=dict)
    #: Where on the case page to come back to.
    anchor: str = ""
    #: Whether the case page offers it.
    shown: Callable[[Offer], bool] = always
    #: One form per complainant of the case (`/complainants/<int:complainant_id>/…`).
    each_complainant: bool = False

    @property
    def rule(self) -> str:
        return f"/cases/<reference>{self.path}"

    def form_name(self, args: Mapping[str, Any]) -> str:
        """The form's name on the case page, for the URL's values `args`."""
        if self.each_complainant:
            return f"{self.name}{args.get('complainant_id')}"
        return self.name

    def forms_on(self, offer: Offer, complainants: list[ComplainantView]) -> list[tuple[str, bool]]:
        """The names of this action's forms on a case page, each with whether it is
        offered there."""
        if not self.each_complainant:
            return [(self.name, self.shown(offer))]
        return [
            (
                self.form_name({"complainant_id": complainant.id}),
                self.shown(dataclasses.replace(offer, complainant=complainant)),
            )
            for complainant in complainants
        ]


# -- the handlers: one service call each ---------------------------------------------------


def _reason_of(form: Any) -> str:
    return str(form.reason.data or "")


def _acknowledge(s: Submission) -> None:
    cases.transition(s.ctx, s.case, Stage.ACKNOWLEDGED, s.actor)


def _send_message(s: Submission) -> None:
    body, feedback = s.form.body.data or "", bool(s.form.feedback.data)
    messages.add_message(s.ctx, s.case, s.actor, body, Channel.WEB, feedback=feedback)


def _request_information(s: Submission) -> None:
    timekeeping.pause_clock(s.ctx, s.case, s.actor, _reason_of(s.form))


def _record_hearing(s: Submission) -> None:
    heard = s.form.outcome.data == "heard"
    hearing.record_hearing(s.ctx, s.case, s.actor, heard=heard, note=s.form.note.data or "")


def _resume(s: Submission) -> None:
    timekeeping.resume_clock(s.ctx, s.case, s.actor)


def _assess_severity(s: Submission) -> None:
    cases.assess_severity(
        s.ctx,
        s.case,
        s.actor,
        scale=int(s.form.scale.data),
        scope=int(s.form.scope.data),
        irremediability=int(s.form.irremediability.data),
        likelihood=int(s.form.likelihood.data),
    )


def _assess_reprisal_risk(s: Submission) -> None:
    cases.assess_reprisal_risk(s.ctx, s.case, s.actor, ReprisalRisk(s.form.level.data))


def _move(s: Submission) -> Response:
    """The service decides: a decision that needs two reviewers is proposed, any other
    move made; this says which."""
    target = Stage(s.form.target.data)
    # the language the reviewer says the reasons are written in (the page's, unless they
    # chose another), marked so where the complainant reads them (#15, item 4)
    written_in = s.form.reason_language.data or str(get_locale() or "")
    decided = cases.decide(
        s.ctx, s.case, target, s.actor, _reason_of(s.form), reason_language=written_in
    )
    if decided.proposed:
        flash(gettext("Your proposal waits for the other reviewer's confirmation."))
    else:
        flash(gettext("The case moved to: %(stage)s.", stage=STAGE_NAMES[decided.target]))
    return back(s.case)


def _the_pending(case: Case, form: Any) -> DecisionProposal:
    proposal = pending(case)
    if proposal is None or str(proposal.id) != (form.proposal.data or ""):
        raise Refused(STALE_PROPOSAL)
    return proposal


def _confirm(s: Submission) -> None:
    cases.confirm_decision(s.ctx, _the_pending(s.case, s.form), s.actor)


def _withdraw(s: Submission) -> None:
    proposal = _the_pending(s.case, s.form)
    cases.withdraw_decision(s.ctx, proposal, s.actor, _reason_of(s.form))


def _recuse(s: Submission) -> Response:
    cases.recuse(s.ctx, s.case, s.actor, _reason_of(s.form))
    flash(gettext("You are no longer on case %(reference)s.", reference=s.case.reference))
    return redirect(url_for("reviewer.queue"), code=303)


def _add_translation(s: Submission) -> None:
    message, event, source = None, None, s.form.source.data or ""
    if source.startswith(REASONS):
        event = db.session.scalar(
            select(CaseEvent).where(
                CaseEvent.case_id == s.case.id, CaseEvent.seq == int(source[len(REASONS) :])
            )
        )
        if event is None:
            raise NotAllowed("no such event on this case")
    elif source != "statement":
        message = db.session.get(Message, int(source))
    language, text = s.form.language.data or "", s.form.text.data or ""
    translations.add_translation(s.ctx, s.case, s.actor, language, text, message, event)


def _reveal(s: Submission) -> str:
    """The identity is shown once, in the response to this POST (never in a URL)."""
    complainant = db.session.get(Complainant, s.args["complainant_id"])
    if complainant is None or complainant.case_id != s.case.id:
        abort(404)
    revealed = identity.reveal_identity(s.ctx, s.case, complainant, s.actor, _reason_of(s.form))
    return render_template(
        "reviewer/identity.html",
        case=s.case,
        complainant=complainant,
        identity=revealed,
        anonymity=ANONYMITY_NAMES[complainant.anonymity],
    )


def _revealable(offer: Offer) -> bool:
    person = offer.complainant
    return (
        person is not None
        and person.anonymity is not Anonymity.ANONYMOUS
        and not person.erased
        and not offer.erased
    )


# -- the table ------------------------------------------------------------------------------

ACTIONS: tuple[Action, ...] = (
    Action(
        "acknowledge",
        "acknowledge",
        "/acknowledge",
        AcknowledgeForm,
        _acknowledge,
        done=_l("Receipt acknowledged."),
        shown=lambda offer: offer.case.stage is Stage.RECEIVED,
    ),
    Action(
        "message",
        "send_message",
        "/messages",
        MessageForm,
        _send_message,
        done=_l("Your message was sent."),
        field_problems={"body": _l("Write a message, of at most %(max)d characters.")},
        anchor="messages",
        shown=lambda offer: not offer.erased,
    ),
    Action(
        "information",
        "request_information",
        "/request-information",
        InformationForm,
        _request_information,
        done=_l("Information requested: the time limits stop until the complainant answers."),
        otherwise=_l("The time limits are stopped already, or the case has ended."),
        shown=lambda offer: (
            (not offer.waiting and not offer.case.has_ended) or offer.bound == "information"
        ),
    ),
    Action(
        "resume",
        "resume",
        "/resume",
        ResumeForm,
        _resume,
        done=_l("The time limits run again."),
        otherwise=_l("The time limits are not stopped."),
        shown=lambda offer: offer.waiting,
    ),
    Action(
        "severity",
        "assess_severity",
        "/severity",
        SeverityForm,
        _assess_severity,
        done=_l("The severity assessment was recorded."),
        shown=lambda offer: not offer.case.has_ended or offer.bound == "severity",
        field_problems={
            "scale": FROM_1_TO_5,
            "scope": FROM_1_TO_5,
            "irremediability": FROM_1_TO_5,
            "likelihood": FROM_1_TO_5,
        },
    ),
    Action(
        "risk",
        "assess_reprisal_risk",
        "/reprisal-risk",
        ReprisalForm,
        _assess_reprisal_risk,
        done=_l("The reprisal risk was recorded."),
        shown=lambda offer: not offer.case.has_ended or offer.bound == "risk",
    ),
    Action(
        "move",
        "move",
        "/move",
        MoveForm,
        _move,
        shown=lambda offer: offer.moves or offer.bound == "move",
    ),
    Action(
        "hearing",
        "record_hearing",
        "/hearing",
        HearingForm,
        _record_hearing,
        done=_l("Recorded: the investigation can end."),
        anchor="hearing",
        shown=lambda offer: offer.case.stage is Stage.INVESTIGATION or offer.bound == "hearing",
    ),
    Action(
        "confirm",
        "confirm",
        "/proposal/confirm",
        ConfirmForm,
        _confirm,
        done=_l("The decision is confirmed and in force."),
        otherwise=STALE_PROPOSAL,
        shown=lambda offer: offer.proposal is not None and offer.can_confirm,
    ),
    Action(
        "withdraw",
        "withdraw",
        "/proposal/withdraw",
        WithdrawForm,
        _withdraw,
        done=_l("The proposal was withdrawn."),
        otherwise=STALE_PROPOSAL,
        shown=lambda offer: offer.proposal is not None,
    ),
    Action(
        "recuse",
        "recuse",
        "/recuse",
        RecuseForm,
        _recuse,
        shown=lambda offer: not offer.case.has_ended or offer.bound == "recuse",
    ),
    Action(
        "translation",
        "add_translation",
        "/translations",
        TranslationForm,
        _add_translation,
        done=_l("Your translation was added."),
        otherwise=_l("This case's words were erased: there is nothing to translate."),
        field_problems={
            "language": _l("Choose a language."),
            "text": _l("Write the translation, of at most %(max)d characters."),
        },
        anchor="statement",
        shown=lambda offer: not offer.erased,
    ),
    Action(
        "reveal",
        "reveal",
        "/complainants/<int:complainant_id>/reveal",
        RevealForm,
        _reveal,
        otherwise=_l("This identity cannot be shown."),
        refusals={
            NotAllowed: _l(
                "This identity cannot be shown: the complainant chose to stay anonymous."
            )
        },
        shown=_revealable,
        each_complainant=True,
    ),
)


def action_for(endpoint: str) -> Action | None:
    """The action a request's endpoint (`reviewer.<endpoint>`) names, if any."""
    return next((a for a in ACTIONS if f"reviewer.{a.endpoint}" == endpoint), None)
