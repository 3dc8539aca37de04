"""The case page of the reviewer's workspace (`/staff/reviewer/cases/<reference>`): 404
unless the reviewer is on the case now, whether it exists or not; the case's words, the
messages, files, parties, time limits, assessments and log, and the forms of the actions
the table (`actions.ACTIONS`) offers on it. A refused or expired action comes back here,
its form bound to what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, render_template, request
from flask_babel import gettext
from sqlalchemy import select
from werkzeug.wrappers import Response

from grievance.extensions import db
from grievance.http.context import service_context
from grievance.http.labels import STAGE_NAMES
from grievance.http.uploads import size_label
from grievance.models import (
    Attachment,
    Case,
    CaseEvent,
    Complainant,
    Direction,
    Involvement,
    Message,
    Role,
    User,
    Visibility,
)
from grievance.policies import Policy
from grievance.services import attachments, cases, deadlines, messages, queue, translations
from grievance.services.actors import Actor
from grievance.services.caselog import visible_payload
from grievance.web.auth import staff_required
from grievance.web.reviewer import actions
from grievance.web.reviewer.actions import Action, Offer
from grievance.web.reviewer.common import (
    case_or_404,
    language_name,
    pending,
    reviewer_moves,
)
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
    actor_name,
    describe_for_reviewers,
)


@dataclass(frozen=True)
class TranslationView:
    language: str
    text: str
    translator: str
    created_at: datetime


@dataclass(frozen=True)
class MessageView:
    id: int
    created_at: datetime
    from_complainant: bool
    author: str
    channel: str
    feedback: bool
    body: str
    translations: list[TranslationView]


def _names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {row.id: row.display_name for row in rows}


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
    erased = case.identities_erased_at is not None
    events = list(
        db.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        )
    )
    visible = [(event, visible_payload(event, Visibility.REVIEWERS)) for event in events]
    shown = [(event, payload) for event, payload in visible if payload is not None]
    message_rows = list(
        db.session.scalars(select(Message).where(Message.case_id == case.id).order_by(Message.id))
    )
    translation_rows = translations.translations_of(ctx, case)
    proposal = pending(case)
    assignments = cases.active_assignments(ctx, case)

    ids: set[int] = {event.actor_id for event, _ in shown if event.actor_id is not None}
    ids |= {p["reviewer_id"] for _, p in shown if isinstance(p.get("reviewer_id"), int)}
    ids |= {m.author_id for m in message_rows if m.author_id is not None}
    ids |= {t.translator_id for t in translation_rows}
    ids |= {row.reviewer_id for row in assignments.values()}
    if proposal is not None:
        ids.add(proposal.proposed_by_id)
    names = _names(ids)

    timeline = []
    for event, payload in shown:
        who = actor_name(event.actor_role)
        if event.actor_id is not None and event.actor_id in names:
            who = f"{names[event.actor_id]} ({who})"
        timeline.append((event.created_at, who, describe_for_reviewers(event, payload, names)))

    def translated(message_id: int | None) -> list[TranslationView]:
        if erased:
            return []
        return [
            TranslationView(
                language_name(policy, row.language),
                translations.read_translation(ctx, row),
                names.get(row.translator_id, ""),
                row.created_at,
            )
            for row in translation_rows
            if row.message_id == message_id
        ]

    feedback_ids = {
        event.payload.get("message_id") for event in events if event.kind == "feedback_given"
    }
    conversation = []
    if not erased:
        for row in message_rows:
            mine = row.direction is Direction.FROM_COMPLAINANT
            author = (
                gettext("The complainant")
                if mine
                else names.get(row.author_id or 0, gettext("The reviewers"))
            )
            conversation.append(
                MessageView(
                    row.id,
                    row.created_at,
                    mine,
                    author,
                    str(CHANNEL_NAMES.get(row.channel, row.channel.value)),
                    row.id in feedback_ids,
                    messages.read_message(ctx, row),
                    translated(row.id),
                )
            )

    words: dict[str, str] = {}
    if not erased:
        words["statement"] = ctx.vault.open(case.id, "statement", case.statement_enc)
        for name in ("location", "companies", "occurred"):
            blob = getattr(case, f"{name}_enc")
            if blob:
                words[name] = ctx.vault.open(case.id, name, blob)

    case_files = []
    if not erased:
        case_files = [
            (a.id, attachments.filename_of(ctx, a), size_label(a.size), a.created_at)
            for a in attachments.attachments_of(ctx, case)
        ]

    limits = []
    now = ctx.now()
    for deadline in deadlines.open_deadlines(ctx.session, case):
        limit = policy.time_limit_for(deadline.code)
        label = gettext(limit.label) if limit else gettext("Remedy action")
        overdue = deadline.paused_at is None and deadline.due_at < now
        limits.append((label, deadline.due_at, deadline.paused_at is not None, overdue))

    involvements = db.session.scalars(
        select(Involvement)
        .where(Involvement.case_id == case.id, Involvement.superseded_at.is_(None))
        .order_by(Involvement.id)
    ).all()
    companies = [
        (row.company.name, str(INVOLVEMENT_NAMES[row.kind]) if row.kind else str(NOT_CLASSIFIED))
        for row in involvements
    ]
    complainants = db.session.scalars(
        select(Complainant).where(Complainant.case_id == case.id).order_by(Complainant.id)
    ).all()

    moves = bool(reviewer_moves(case))
    can_confirm = proposal is not None and proposal.proposed_by_id != user.id
    waiting = case.clock_paused_at is not None
    offer = Offer(case, erased, waiting, moves, proposal, can_confirm, bound)
    forms: dict[str, WorkspaceForm] = {}
    offered: dict[str, bool] = {}
    for action in actions.ACTIONS:
        for name, is_offered in action.forms_on(offer, list(complainants)):
            forms[name] = build_form(action, name, case, policy, bound=False)
            offered[name] = is_offered
    if bound is not None and bound_form is not None:
        forms[bound] = bound_form

    reviewers = [
        (ASSIGNMENT_ROLE_NAMES[role], names.get(row.reviewer_id, ""), row.reviewer_id == user.id)
        for role, row in sorted(assignments.items())
    ]
    return render_template(
        "reviewer/case.html",
        case=case,
        user=user,
        stage=STAGE_NAMES[case.stage],
        error=error,
        bound=bound,
        forms=forms,
        words=words,
        statement_translations=translated(None),
        conversation=conversation,
        case_files=case_files,
        erased=erased,
        limits=limits,
        waiting=waiting,
        timeline=timeline,
        companies=companies,
        site=case.site,
        complainants=complainants,
        anonymity_names=ANONYMITY_NAMES,
        kind_names=COMPLAINANT_KIND_NAMES,
        contact_names=CONTACT_NAMES,
        risk_names=RISK_NAMES,
        band=BAND_NAMES[min(case.queue_rank // queue.BAND, 2)],
        language=language_name(policy, case.language),
        reviewers=reviewers,
        proposal=proposal,
        proposal_stage=STAGE_NAMES[proposal.to_stage] if proposal else None,
        proposer=names.get(proposal.proposed_by_id, "") if proposal else None,
        offered=offered,
    )


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
