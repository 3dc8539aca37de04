"""The reviewer's workspace (issue #5): the queue of the cases they are on, each case's
page, and the actions on it.

Thin over the services: every action is one form (Flask-WTF, CSRF) calling one service,
which checks the role and the assignment again, locks the case and writes the log. A
reviewer reaches only the cases they are assigned to now: any other reference is a 404,
whether the case exists or not. A refused action comes back on the case page with a
translated message and everything typed still in its form; a done one redirects to it.
The complainant's identity is shown only by the reveal action, once, in the response to
its POST (never in a URL; `Cache-Control: no-store` is set on every page).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime, get_translations, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import BooleanField, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from grievance.extensions import db
from grievance.http.context import service_context
from grievance.http.errors import http_error
from grievance.http.labels import STAGE_NAMES, limit_label
from grievance.http.uploads import size_label
from grievance.models import (
    Attachment,
    Case,
    Channel,
    Complainant,
    DecisionProposal,
    Message,
    ProposalState,
    ReprisalRisk,
    Role,
    Stage,
    User,
)
from grievance.policies import Policy, default_policy
from grievance.services import (
    attachments,
    casereads,
    cases,
    identity,
    lifecycle,
    messages,
    queue,
    timekeeping,
    translations,
    workspace,
)
from grievance.services.actors import Actor, acts_on_case
from grievance.services.context import Context
from grievance.services.errors import (
    ConflictOfInterest,
    ForbiddenTransition,
    FourEyesRequired,
    FourEyesViolation,
    InvalidInput,
    NotAllowed,
    ProposalPending,
    ReasonRequired,
    ServiceError,
)
from grievance.services.workspace import (
    InvalidCursor,
    QueueFilters,
    QueueKey,
    queue_choices,
    reviewer_queue,
)
from grievance.web.auth import current_staff, setup_step, staff_required
from grievance.web.reviewer_labels import (
    ANONYMITY_NAMES,
    ASSIGNMENT_ROLE_NAMES,
    BAND_NAMES,
    CHANNEL_NAMES,
    COMPLAINANT_KIND_NAMES,
    CONTACT_NAMES,
    INVOLVEMENT_NAMES,
    NOT_CLASSIFIED,
    RISK_NAMES,
    case_log,
    move_name,
)

blueprint = Blueprint("reviewer", __name__, url_prefix="/staff/reviewer")

#: Reasons are read by the complainant (moves, requests) or kept for the audit.
REASON_MAX = 5000

GIVE_REASONS = _l("Give your reasons.")
TOO_LONG = _l("Please keep it under %(max)d characters.")
CHOOSE_ONE = _l("Please choose one answer.")
FROM_1_TO_5 = _l("Choose from 1 (least) to 5 (most).")


# -- forms ----------------------------------------------------------------------------


class WorkspaceForm(FlaskForm):  # type: ignore[misc]
    """A form of the workspace: WTForms' own messages come from our catalogs."""

    class Meta:
        def get_translations(self, form: Any) -> Any:
            return get_translations()


def _reason(label: Any, description: Any = None, *, required: bool = True) -> TextAreaField:
    first = DataRequired(GIVE_REASONS) if required else Optional()
    return TextAreaField(
        label,
        description=description,
        validators=[first, Length(max=REASON_MAX, message=TOO_LONG)],
    )


class AcknowledgeForm(WorkspaceForm):
    pass


class MessageForm(WorkspaceForm):
    body = TextAreaField(
        _l("Message to the complainant"),
        description=_l(
            "They read it on the follow-up page; if they gave a phone number, it goes to "
            "them by text message too."
        ),
        validators=[
            DataRequired(_l("Write a message.")),
            Length(max=messages.MESSAGE_MAX, message=TOO_LONG),
        ],
    )
    feedback = BooleanField(_l("This is the feedback on the action envisaged or taken"))


class InformationForm(WorkspaceForm):
    reason = _reason(
        _l("What do you need from the complainant?"),
        _l("The complainant reads this. The time limits stop until they answer."),
    )


class ResumeForm(WorkspaceForm):
    pass


SCORES = [SelectChoice("", _l("Choose")), *(SelectChoice(str(n), str(n)) for n in range(1, 6))]


class SeverityForm(WorkspaceForm):
    scale = SelectField(
        _l("Scale: how grave is the harm?"),
        choices=SCORES,
        validators=[DataRequired(FROM_1_TO_5)],
    )
    scope = SelectField(
        _l("Scope: how many people does it reach?"),
        choices=SCORES,
        validators=[DataRequired(FROM_1_TO_5)],
    )
    irremediability = SelectField(
        _l("Irremediability: how hard is it to put right?"),
        choices=SCORES,
        validators=[DataRequired(FROM_1_TO_5)],
    )
    likelihood = SelectField(
        _l("Likelihood: how likely is the harm?"),
        choices=SCORES,
        validators=[DataRequired(FROM_1_TO_5)],
    )


class ReprisalForm(WorkspaceForm):
    level = RadioField(
        _l("Risk of reprisal against the complainant"),
        choices=[SelectChoice(level.value, RISK_NAMES[level]) for level in ReprisalRisk],
        validators=[DataRequired(CHOOSE_ONE)],
    )


class MoveForm(WorkspaceForm):
    # the choices are the moves the lifecycle allows a reviewer from the case's stage
    target = RadioField(_l("Next step"), validators=[DataRequired(CHOOSE_ONE)])
    reason = _reason(
        _l("Reasons"),
        _l(
            "Decisions give their reasons: the complainant and the companies read them. "
            "A decision marked as needing a second reviewer is proposed now and takes "
            "effect when the other reviewer confirms it."
        ),
        required=False,
    )


class ConfirmForm(WorkspaceForm):
    proposal = HiddenField()


class WithdrawForm(WorkspaceForm):
    proposal = HiddenField()
    reason = _reason(_l("Why is the proposal dropped?"))


class RecuseForm(WorkspaceForm):
    reason = _reason(
        _l("Why do you step off this case?"),
        _l(
            "Only the audit log keeps your reason. Another reviewer takes your place; "
            "you do not come back to this case."
        ),
    )


class RevealForm(WorkspaceForm):
    reason = _reason(
        _l("Why do you need to see who they are?"),
        _l("Your name, the time and your reason are kept in the case's audit log."),
    )


class TranslationForm(WorkspaceForm):
    # the choices are the statement and the case's messages, and the policy's languages
    source = SelectField(_l("Translation of"))
    language = SelectField(_l("Into"))
    text = TextAreaField(
        _l("Translation"),
        validators=[
            DataRequired(_l("Write the translation.")),
            Length(max=translations.TRANSLATION_MAX, message=TOO_LONG),
        ],
    )


FORMS: dict[str, type[WorkspaceForm]] = {
    "acknowledge": AcknowledgeForm,
    "message": MessageForm,
    "information": InformationForm,
    "resume": ResumeForm,
    "severity": SeverityForm,
    "risk": ReprisalForm,
    "move": MoveForm,
    "confirm": ConfirmForm,
    "withdraw": WithdrawForm,
    "recuse": RecuseForm,
    "translation": TranslationForm,
}
REVEAL_PREFIX = "reveal"


# -- access ---------------------------------------------------------------------------


def _reviewer() -> User:
    user = current_staff()
    assert user is not None  # staff_required let it in
    assert user.role is Role.REVIEWER
    return user


def _assigned_case(reference: str, user: User) -> Case | None:
    """The case, if `user` is one of its reviewers now; None whether or not it exists."""
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    if case is None or not acts_on_case(service_context().session, Actor.for_user(user), case):
        return None
    return case


def _case_or_404(reference: str) -> tuple[User, Case]:
    user = _reviewer()
    case = _assigned_case(reference, user)
    if case is None:
        abort(404)  # never say whether it exists
    return user, case


def _back(case: Case, anchor: str = "") -> Response:
    target = url_for("reviewer.case", reference=case.reference)
    return redirect(target + (f"#{anchor}" if anchor else ""), code=303)


# -- the queue ------------------------------------------------------------------------


def _filters(args: Mapping[str, str], mechanisms: set[str], languages: set[str]) -> QueueFilters:
    """The filters asked for; anything not offered is ignored (no error to reveal)."""
    stage_value = args.get("stage", "")
    stage = next((s for s in Stage if s.value == stage_value), None)
    mechanism = args.get("mechanism", "")
    language = args.get("language", "")
    return QueueFilters(
        stage=stage,
        include_ended=stage_value == "all",
        mechanism=mechanism if mechanism in mechanisms else None,
        language=language if language in languages else None,
        overdue=args.get("overdue") == "1",
        urgent=args.get("urgent") == "1",
    )


def _language_name(policy: Policy, code: str) -> str:
    language = policy.language_named(code)
    return language.name if language is not None else code


@blueprint.get("/", endpoint="queue")
@staff_required(Role.REVIEWER)
def queue_page() -> str:
    user = _reviewer()
    ctx = service_context()
    offered = queue_choices(ctx, user.id)
    filters = _filters(
        request.args, {code for code, _ in offered.mechanisms}, set(offered.languages)
    )
    after = None
    token = request.args.get("after")
    if token is not None:
        try:
            after = QueueKey.from_token(token)
        except InvalidCursor:
            abort(400)
    page = reviewer_queue(ctx, user.id, filters, after, limit=workspace.PAGE_SIZE)
    chosen = {
        "stage": "all" if filters.include_ended else (filters.stage or ""),
        "mechanism": filters.mechanism or "",
        "language": filters.language or "",
        "overdue": "1" if filters.overdue else "",
        "urgent": "1" if filters.urgent else "",
    }
    kept: dict[str, Any] = {name: value for name, value in chosen.items() if value}
    next_url = (
        url_for("reviewer.queue", **kept, after=page.next_key.token()) if page.next_key else None
    )
    policy = default_policy()
    return render_template(
        "reviewer/queue.html",
        rows=page.rows,
        next_url=next_url,
        first_url=url_for("reviewer.queue", **kept) if after is not None else None,
        chosen=chosen,
        stages=[(stage.value, STAGE_NAMES[stage]) for stage in Stage],
        mechanisms=offered.mechanisms,
        languages=[(code, _language_name(policy, code)) for code in offered.languages],
        language_names={code: _language_name(policy, code) for code in offered.languages},
        stage_names=STAGE_NAMES,
        band_names=BAND_NAMES,
        role_names=ASSIGNMENT_ROLE_NAMES,
    )


# -- the case page --------------------------------------------------------------------


def _pending(case: Case) -> DecisionProposal | None:
    return db.session.scalar(
        select(DecisionProposal).where(
            DecisionProposal.case_id == case.id, DecisionProposal.state == ProposalState.PENDING
        )
    )


def _reviewer_moves(case: Case) -> list[lifecycle.Transition]:
    return [move for move in lifecycle.moves_from(case.stage) if Role.REVIEWER in move.roles]


def _build_form(name: str, case: Case, policy: Policy, *, bound: bool) -> WorkspaceForm:
    """The form `name` of this case's page: bound to the request's form data (the one
    being sent) or not (the others on the page, with their current values)."""
    form_class = RevealForm if name.startswith(REVEAL_PREFIX) else FORMS[name]
    data: dict[str, Any] = {}
    if name == "severity":
        data = {
            field: str(value) if value is not None else ""
            for field, value in (
                ("scale", case.severity_scale),
                ("scope", case.severity_scope),
                ("irremediability", case.severity_irremediability),
                ("likelihood", case.severity_likelihood),
            )
        }
    elif name == "risk" and case.reprisal_risk is not None:
        data = {"level": case.reprisal_risk.value}
    elif name == "translation":
        data = {"language": "en" if policy.language_named("en") else policy.language[0].code}
    formdata = request.form if bound else None
    form = form_class(formdata=formdata, prefix=name, data=data)
    if isinstance(form, MoveForm):
        choices = []
        for move in _reviewer_moves(case):
            label = move_name(move)
            if move.four_eyes:
                label = gettext("%(move)s (needs a second reviewer)", move=label)
            elif move.needs_reason:
                label = gettext("%(move)s (give reasons)", move=label)
            choices.append(SelectChoice(move.target.value, label))
        form.target.choices = choices
    if isinstance(form, TranslationForm):
        sources = [SelectChoice("statement", gettext("The statement"))]
        for message_id, created_at in db.session.execute(
            select(Message.id, Message.created_at)
            .where(Message.case_id == case.id)
            .order_by(Message.id)
        ):
            label = gettext("The message of %(date)s", date=_when(created_at))
            sources.append(SelectChoice(str(message_id), label))
        form.source.choices = sources
        form.language.choices = [SelectChoice(lang.code, lang.name) for lang in policy.language]
    return form


def _when(moment: datetime) -> str:
    return str(format_datetime(moment, "short"))


def _case_page(
    case: Case,
    user: User,
    *,
    bound: str | None = None,
    bound_form: WorkspaceForm | None = None,
    error: str | None = None,
) -> str:
    ctx = service_context()
    policy = ctx.case_policy(case)
    view = casereads.reviewer_view(ctx, case, user)

    forms: dict[str, WorkspaceForm] = {}
    for name in FORMS:
        forms[name] = _build_form(name, case, policy, bound=False)
    for complainant in view.complainants:
        name = f"{REVEAL_PREFIX}{complainant.id}"
        forms[name] = _build_form(name, case, policy, bound=False)
    if bound is not None and bound_form is not None:
        forms[bound] = bound_form

    proposal = view.proposal
    return render_template(
        "reviewer/case.html",
        case=case,
        view=view,
        user=user,
        stage=STAGE_NAMES[case.stage],
        error=error,
        bound=bound,
        forms=forms,
        names=view.staff_names,
        language_names={language.code: language.name for language in policy.language},
        limits=[
            (limit_label(limit), limit.due_at, limit.paused, limit.overdue)
            for limit in view.time_limits
        ],
        timeline=case_log(view),
        size_label=size_label,
        anonymity_names=ANONYMITY_NAMES,
        kind_names=COMPLAINANT_KIND_NAMES,
        contact_names=CONTACT_NAMES,
        channel_names=CHANNEL_NAMES,
        involvement_names=INVOLVEMENT_NAMES,
        not_classified=NOT_CLASSIFIED,
        risk_names=RISK_NAMES,
        role_names=ASSIGNMENT_ROLE_NAMES,
        band=BAND_NAMES[min(case.queue_rank // queue.BAND, 2)],
        language=_language_name(policy, case.language),
        proposal=proposal,
        proposal_stage=STAGE_NAMES[proposal.to_stage] if proposal else None,
        proposer=view.staff_names.get(proposal.proposed_by_id, "") if proposal else None,
        can_confirm=proposal is not None and proposal.proposed_by_id != user.id,
        moves=bool(_reviewer_moves(case)),
        received=case.stage is Stage.RECEIVED,
    )


@blueprint.get("/cases/<reference>")
@staff_required(Role.REVIEWER)
def case(reference: str) -> str:
    user, the_case = _case_or_404(reference)
    return _case_page(the_case, user)


@blueprint.get("/cases/<reference>/files/<int:attachment_id>")
@staff_required(Role.REVIEWER)
def download(reference: str, attachment_id: int) -> Response:
    user, the_case = _case_or_404(reference)
    attachment = db.session.get(Attachment, attachment_id)
    if (
        attachment is None
        or attachment.case_id != the_case.id
        or the_case.identities_erased_at is not None
    ):
        abort(404)
    file = attachments.read_attachment(service_context(), Actor.for_user(user), attachment)
    response = Response(file.data, mimetype=file.content_type)
    response.headers.set("Content-Disposition", "attachment", filename=file.filename)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# -- actions --------------------------------------------------------------------------

#: What a refusal means, said to the reviewer (the most specific class first).
REFUSALS: list[tuple[type[ServiceError], Any]] = [
    (FourEyesViolation, _l("You proposed this decision: the other reviewer confirms it.")),
    (
        ProposalPending,
        _l("Another decision is waiting for confirmation: confirm or withdraw it first."),
    ),
    (FourEyesRequired, _l("This decision needs a second reviewer: propose it first.")),
    (ForbiddenTransition, _l("This step is not possible from the case's current stage.")),
    (ConflictOfInterest, _l("You declared a conflict of interest with this case.")),
    (NotAllowed, _l("You may not do this on this case.")),
    (ReasonRequired, GIVE_REASONS),
]
NOT_DONE = _l("This could not be done. Reload the case and try again.")
CHECK_FORM = _l("Please check what you wrote.")
STALE_PROPOSAL = _l("This proposal is no longer waiting: the page was out of date.")

#: A service's InvalidInput names the fields that are wrong; these say how, per form.
FIELD_PROBLEMS: dict[tuple[str, str], Any] = {
    ("message", "body"): _l("Write a message, of at most %(max)d characters."),
    ("severity", "scale"): FROM_1_TO_5,
    ("severity", "scope"): FROM_1_TO_5,
    ("severity", "irremediability"): FROM_1_TO_5,
    ("severity", "likelihood"): FROM_1_TO_5,
    ("translation", "language"): _l("Choose a language."),
    ("translation", "text"): _l("Write the translation, of at most %(max)d characters."),
}
FIELD_LIMITS = {"body": messages.MESSAGE_MAX, "text": translations.TRANSLATION_MAX}


class Refused(Exception):
    """An action the view itself refuses before calling a service (a stale page)."""

    def __init__(self, message: Any) -> None:
        self.message = message
        super().__init__(str(message))


Act = Callable[[Context, Case, Actor, Any], "Response | str | None"]


def _refusal(
    refused: ServiceError,
    form: WorkspaceForm,
    otherwise: Any,
    specific: Mapping[type[ServiceError], Any],
) -> str:
    if isinstance(refused, ReasonRequired) and hasattr(form, "reason"):
        form.reason.errors = [str(GIVE_REASONS)]
    for kind, message in [*specific.items(), *REFUSALS]:
        if isinstance(refused, kind):
            return str(message)
    return str(otherwise)


def _act(
    reference: str,
    name: str,
    act: Act,
    done: Any,
    *,
    otherwise: Any = NOT_DONE,
    refusals: Mapping[type[ServiceError], Any] | None = None,
    anchor: str = "",
) -> Response | str | tuple[str, int]:
    """Run one action: the form `name` of the case's page, then `act` (one service call).
    Done: commit, say so, back to the case (or the page `act` returns). Refused: the case
    page again, with the reason and what was typed."""
    user, the_case = _case_or_404(reference)
    ctx = service_context()
    form = _build_form(name, the_case, ctx.case_policy(the_case), bound=True)
    error = None
    if form.validate_on_submit():
        try:
            result = act(ctx, the_case, Actor.for_user(user), form)
        except Refused as refused:
            error = str(refused.message)
        except InvalidInput as refused:
            for field_name in refused.errors:
                field = getattr(form, field_name, None)
                problem = FIELD_PROBLEMS.get((name, field_name))
                if field is not None and problem is not None:
                    field.errors = [str(problem) % {"max": FIELD_LIMITS.get(field_name, 0)}]
            error = str(CHECK_FORM)
        except ServiceError as refused:
            error = _refusal(refused, form, otherwise, refusals or {})
        else:
            db.session.commit()
            if result is not None:
                return result
            flash(str(done))
            return _back(the_case, anchor)
    else:
        error = str(CHECK_FORM)
    db.session.rollback()
    return _case_page(the_case, user, bound=name, bound_form=form, error=error), 422


def _reason_of(form: Any) -> str:
    return str(form.reason.data or "")


@blueprint.post("/cases/<reference>/acknowledge")
@staff_required(Role.REVIEWER)
def acknowledge(reference: str) -> Response | str | tuple[str, int]:
    def act(ctx: Context, case: Case, actor: Actor, form: Any) -> None:
        cases.transition(ctx, case, Stage.ACKNOWLEDGED, actor)

    return _act(reference, "acknowledge", act, _l("Receipt acknowledged."))


@blueprint.post("/cases/<reference>/messages")
@staff_required(Role.REVIEWER)
def send_message(reference: str) -> Response | str | tuple[str, int]:
    def act(ctx: Context, case: Case, actor: Actor, form: Any) -> None:
        messages.add_message(
            ctx, case, actor, form.body.data or "", Channel.WEB, feedback=bool(form.feedback.data)
        )

    return _act(reference, "message", act, _l("Your message was sent."), anchor="messages")


@blueprint.post("/cases/<reference>/request-information")
@staff_required(Role.REVIEWER)
def request_information(reference: str) -> Response | str | tuple[str, int]:
    def act(ctx: Context, case: Case, actor: Actor, form: Any) -> None:
        timekeeping.pause_clock(ctx, case, actor, _reason_of(form))

    return _act(
        reference,
        "information",
        act,
        _l("Information requested: the time limits stop until the complainant answers."),
        otherwise=_l("The time limits are stopped already, or the case has ended."),
    )


@blueprint.post("/cases/<reference>/resume")
@staff_required(Role.REVIEWER)
def resume(reference: str) -> Response | str | tuple[str, int]:
    def act(ctx: Context, case: Case, actor: Actor, form: Any) -> None:
        timekeeping.resume_clock(ctx, case, actor)

    return _act(
        reference,
        "resume",
        act,
        _l("The time limits run again."),
        otherwise=_l("The time limits are not stopped."),
    )


@blueprint.post("/cases/<reference>/severity")
@staff_required(Role.REVIEWER)
def assess_severity(reference: str) -> Response | str | tuple[str, int]:
    def act(ctx: Context, case: Case, actor: Actor, form: Any) -> None:
        cases.assess_severity(
            ctx,
            case,
            actor,
            scale=int(form.scale.data),
            scope=int(form.scope.data),
            irremediability=int(form.irremediability.data),
            likelihood=int(form.likelihood.data),
        )

    return _act(reference, "severity", act, _l("The severity assessment was recorded."))


@blueprint.post("/cases/<reference>/reprisal-risk")
@staff_required(Role.REVIEWER)
def assess_reprisal_risk(reference: str) -> Response | str | tuple[str, int]:
    def act(ctx: Context, case: Case, actor: Actor, form: Any) -> None:
        cases.assess_reprisal_risk(ctx, case, actor, ReprisalRisk(form.level.data))

    return _act(reference, "risk", act, _l("The reprisal risk was recorded."))


@blueprint.post("/cases/<reference>/move")
@staff_required(Role.REVIEWER)
def move(reference: str) -> Response | str | tuple[str, int]:
    def act(ctx: Context, case: Case, actor: Actor, form: Any) -> Response:
        target = Stage(form.target.data)
        found = lifecycle.find(case.stage, target)
        if found is not None and found.four_eyes:
            cases.propose_decision(ctx, case, target, actor, _reason_of(form))
            flash(gettext("Your proposal waits for the other reviewer's confirmation."))
        else:
            cases.transition(ctx, case, target, actor, _reason_of(form))
            flash(gettext("The case moved to: %(stage)s.", stage=STAGE_NAMES[target]))
        return _back(case)

    return _act(reference, "move", act, "")


def _the_pending(case: Case, form: Any) -> DecisionProposal:
    proposal = _pending(case)
    if proposal is None or str(proposal.id) != (form.proposal.data or ""):
        raise Refused(STALE_PROPOSAL)
    return proposal


@blueprint.post("/cases/<reference>/proposal/confirm")
@staff_required(Role.REVIEWER)
def confirm(reference: str) -> Response | str | tuple[str, int]:
    def act(ctx: Context, case: Case, actor: Actor, form: Any) -> None:
        cases.confirm_decision(ctx, _the_pending(case, form), actor)

    return _act(
        reference,
        "confirm",
        act,
        _l("The decision is confirmed and in force."),
        otherwise=STALE_PROPOSAL,
    )


@blueprint.post("/cases/<reference>/proposal/withdraw")
@staff_required(Role.REVIEWER)
def withdraw(reference: str) -> Response | str | tuple[str, int]:
    def act(ctx: Context, case: Case, actor: Actor, form: Any) -> None:
        cases.withdraw_decision(ctx, _the_pending(case, form), actor, _reason_of(form))

    return _act(
        reference,
        "withdraw",
        act,
        _l("The proposal was withdrawn."),
        otherwise=STALE_PROPOSAL,
    )


@blueprint.post("/cases/<reference>/recuse")
@staff_required(Role.REVIEWER)
def recuse(reference: str) -> Response | str | tuple[str, int]:
    def act(ctx: Context, case: Case, actor: Actor, form: Any) -> Response:
        cases.recuse(ctx, case, actor, _reason_of(form))
        flash(gettext("You are no longer on case %(reference)s.", reference=case.reference))
        return redirect(url_for("reviewer.queue"), code=303)

    return _act(reference, "recuse", act, "")


@blueprint.post("/cases/<reference>/translations")
@staff_required(Role.REVIEWER)
def add_translation(reference: str) -> Response | str | tuple[str, int]:
    def act(ctx: Context, case: Case, actor: Actor, form: Any) -> None:
        message = None
        if form.source.data != "statement":
            message = db.session.get(Message, int(form.source.data))
        translations.add_translation(
            ctx, case, actor, form.language.data or "", form.text.data or "", message
        )

    return _act(
        reference,
        "translation",
        act,
        _l("Your translation was added."),
        otherwise=_l("This case's words were erased: there is nothing to translate."),
        anchor="statement",
    )


@blueprint.post("/cases/<reference>/complainants/<int:complainant_id>/reveal")
@staff_required(Role.REVIEWER)
def reveal(reference: str, complainant_id: int) -> Response | str | tuple[str, int]:
    def act(ctx: Context, case: Case, actor: Actor, form: Any) -> str:
        complainant = db.session.get(Complainant, complainant_id)
        if complainant is None or complainant.case_id != case.id:
            abort(404)
        revealed = identity.reveal_identity(ctx, case, complainant, actor, _reason_of(form))
        return render_template(
            "reviewer/identity.html",
            case=case,
            complainant=complainant,
            identity=revealed,
            anonymity=ANONYMITY_NAMES[complainant.anonymity],
        )

    return _act(
        reference,
        f"{REVEAL_PREFIX}{complainant_id}",
        act,
        "",
        otherwise=_l("This identity cannot be shown."),
        refusals={
            NotAllowed: _l(
                "This identity cannot be shown: the complainant chose to stay anonymous."
            )
        },
    )


ACTION_FORMS = {
    "reviewer.acknowledge": "acknowledge",
    "reviewer.send_message": "message",
    "reviewer.request_information": "information",
    "reviewer.resume": "resume",
    "reviewer.assess_severity": "severity",
    "reviewer.assess_reprisal_risk": "risk",
    "reviewer.move": "move",
    "reviewer.confirm": "confirm",
    "reviewer.withdraw": "withdraw",
    "reviewer.recuse": "recuse",
    "reviewer.add_translation": "translation",
}
EXPIRED = _l("The page had expired: nothing was done. Check what you wrote and send it again.")


@blueprint.errorhandler(CSRFError)
def expired(error: CSRFError) -> Response | tuple[str, int]:
    """An action's form came back without a valid CSRF token: nothing is done, and what
    was typed comes back in its form (for an assigned reviewer, still signed in)."""
    user = current_staff()
    values = request.view_args or {}
    reference = values.get("reference")
    name = ACTION_FORMS.get(request.endpoint or "")
    if request.endpoint == "reviewer.reveal":
        name = f"{REVEAL_PREFIX}{values.get('complainant_id')}"
    if (
        user is None
        or user.role is not Role.REVIEWER
        or setup_step(user) is not None
        or not isinstance(reference, str)
        or name is None
    ):
        return http_error(error)
    the_case = _assigned_case(reference, user)
    if the_case is None:
        return http_error(error)
    policy = service_context().case_policy(the_case)
    form = _build_form(name, the_case, policy, bound=True)
    page = _case_page(the_case, user, bound=name, bound_form=form, error=str(EXPIRED))
    return page, 400
