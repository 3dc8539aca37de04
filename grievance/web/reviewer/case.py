"""The case page of the reviewer's workspace (`/staff/reviewer/cases/<reference>`): 404
unless the reviewer is on the case now, whether it exists or not; the case's words, the
messages, files, parties, time limits, assessments and log, and the forms of the actions
the table (`actions.ACTIONS`) offers on it. A refused or expired action comes back here,
its form bound to what was typed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale, gettext
from werkzeug.wrappers import Response

from grievance.extensions import db
from grievance.http.context import service_context
from grievance.http.labels import STAGE_NAMES, limit_label
from grievance.http.uploads import size_label
from grievance.models import Attachment, Case, ReprisalRisk, Role, User
from grievance.policies import Policy
from grievance.services import attachments, casereads, involvement, queue
from grievance.services.actors import Actor
from grievance.web.auth import staff_required
from grievance.web.reviewer import actions
from grievance.web.reviewer.actions import Action, Offer
from grievance.web.reviewer.common import case_or_404, language_name, reviewer_moves
from grievance.web.reviewer.forms import WorkspaceForm
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
    URGENCY_NAMES,
    case_log,
)


def build_form(
    action: Action, name: str, case: Case, policy: Policy, *, bound: bool
) -> WorkspaceForm:
    """The form `name` of `action` on this case's page: bound to the request's form data
    (the one being sent) or not (the others on the page, with their current values)."""
    formdata = request.form if bound else None
    form = action.form(formdata=formdata, prefix=name, data=action.form.initial(case, policy))
    form.offer(case, policy)
    return form


def case_page(
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
    proposal = view.proposal
    can_confirm = proposal is not None and proposal.proposed_by_id != user.id
    offer = Offer(
        case, view.erased, view.waiting, bool(reviewer_moves(case)), proposal, can_confirm, bound
    )
    forms: dict[str, WorkspaceForm] = {}
    offered: dict[str, bool] = {}
    for action in actions.ACTIONS:
        for name, is_offered in action.forms_on(offer, list(view.complainants)):
            forms[name] = build_form(action, name, case, policy, bound=False)
            offered[name] = is_offered
    if bound is not None and bound_form is not None:
        forms[bound] = bound_form

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
            (
                limit_label(limit),
                limit.due_at,
                limit.paused,
                limit.overdue,
                _days_left(limit.due_at, ctx.now()),
            )
            for limit in view.time_limits
        ],
        urgency=_urgency(case, policy, view.facts.themes),
        theme_names=[_theme_name(policy, code) for code in view.facts.themes],
        country=_country_name(view.facts.country),
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
        language=language_name(policy, case.language),
        proposal=proposal,
        proposal_stage=STAGE_NAMES[proposal.to_stage] if proposal else None,
        proposer=view.staff_names.get(proposal.proposed_by_id, "") if proposal else None,
        offered=offered,
        company_proposals=len(involvement.pending_proposals(ctx, case)),
        untranslated=_untranslated_reasons(view, case.language),
        reason_dates={event.seq: event.at for event in view.events},
    )


def _untranslated_reasons(
    view: casereads.ReviewerCaseView, reads: str
) -> list[UntranslatedReasons]:
    """The reasons given to the complainant in a language that is not theirs, with no
    translation into theirs attached: the reviewer is warned (#15, item 4). Reasons of an
    unknown language are not counted (nobody said which language they are in)."""
    found = []
    for event in view.events:
        written = str(event.fields.get("reason_language") or "")
        if not event.fields.get("reason") or not written or written == reads:
            continue
        if any(t.language == reads for t in view.reason_translations.get(event.seq, ())):
            continue
        found.append(UntranslatedReasons(event.seq, event.at, written))
    return found


@dataclass(frozen=True)
class UntranslatedReasons:
    seq: int
    at: datetime
    language: str


def _days_left(due_at: datetime, now: datetime) -> int:
    """Whole days to a time limit (negative once it has passed), counted as a person
    would: a limit later today is 0 days away."""
    return (due_at.date() - now.date()).days


def _urgency(case: Case, policy: Policy, themes: Iterable[str]) -> list[str]:
    """Why the case is urgent, in the reader's language (`queue.urgency_reasons`); an
    ended case is not."""
    if case.queue_rank >= queue.BAND or case.has_ended:
        return []
    urgent_themes = [code for code in themes if code in policy.urgent_themes]
    reasons = queue.urgency_reasons(
        danger=case.urgent,
        urgent_theme=bool(urgent_themes),
        reprisal_high=case.reprisal_risk is ReprisalRisk.HIGH,
        irremediability=case.severity_irremediability,
    )
    said = []
    for reason in reasons:
        text = str(URGENCY_NAMES[reason])
        if reason is queue.UrgencyReason.URGENT_THEME:
            names = ", ".join(_theme_name(policy, code) for code in urgent_themes)
            text = f"{text} ({names})"
        said.append(text)
    return said


def _theme_name(policy: Policy, code: str) -> str:
    theme = next((t for t in policy.themes if t.code == code), None)
    return gettext(theme.label) if theme else code


def _country_name(code: str | None) -> str | None:
    if not code:
        return None
    return str(get_locale().territories.get(code.upper(), code)) if get_locale() else code


@staff_required(Role.REVIEWER)
def case(reference: str) -> str:
    user, the_case = case_or_404(reference)
    return case_page(the_case, user)


@staff_required(Role.REVIEWER)
def download(reference: str, attachment_id: int) -> Response:
    user, the_case = case_or_404(reference)
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


def register(blueprint: Blueprint) -> None:
    blueprint.add_url_rule("/cases/<reference>", "case", case, methods=["GET"])
    blueprint.add_url_rule(
        "/cases/<reference>/files/<int:attachment_id>", "download", download, methods=["GET"]
    )
