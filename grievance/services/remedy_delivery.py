"""Carrying out the remedy plan (R19-R21): the responsible company reports progress on
its items with evidence files (checked and stripped by `services.attachments`, sealed
under the case's data key), a reviewer verifies each completed item (never a company),
and the complainant confirms or disputes it, on the web, through the API or by SMS."""

from __future__ import annotations

from collections.abc import Sequence

from grievance.models import (
    Attachment,
    Case,
    ComplainantResponse,
    PlanState,
    RemedyAction,
    RemedyReport,
    RemedyStatus,
    Role,
)
from grievance.services import case_notices, caselog, deadlines
from grievance.services.actors import Actor, require_part
from grievance.services.attachments import MAX_FILES, CleanFile, UploadRefused
from grievance.services.context import Context, atomic
from grievance.services.errors import Code, InvalidInput, NotAllowed, ServiceError
from grievance.services.remedy_plan import CHANNELS
from grievance.services.remedy_rules import plan_of
from grievance.services.texts import clean_text

#: Items a company reports on.
REPORTABLE = (RemedyStatus.PLANNED, RemedyStatus.IN_PROGRESS)


def _approved_item(ctx: Context, item: RemedyAction) -> Case:
    case = ctx.lock_case(ctx.session.get_one(Case, item.case_id))
    ctx.session.refresh(item)
    plan = plan_of(ctx, case)
    if plan is None or item.plan_id != plan.id or plan.state is not PlanState.APPROVED:
        raise ServiceError("the item is not part of an approved plan")
    return case


@atomic
def report_progress(
    ctx: Context,
    item: RemedyAction,
    actor: Actor,
    note: str,
    *,
    completed: bool = False,
    files: Sequence[CleanFile] = (),
) -> RemedyReport:
    """The responsible company says what it did; `completed` when the item is done (its
    time limit is met then, or stays missed). Only that company reports on the item; an
    item no company carries out (the mechanism's own, or another party's) is reported by
    a reviewer. Verification is a separate step either way (`verify`)."""
    case = _approved_item(ctx, item)
    reporter = Role.COMPANY if item.company_id is not None else Role.REVIEWER
    if actor.role is not reporter or actor.user_id is None:
        raise NotAllowed("the responsible company reports on its items")
    require_part(ctx, actor, case)
    if item.company_id != actor.company_id:
        raise NotAllowed("a company reports only on its own items")
    if item.status not in REPORTABLE:
        raise ServiceError(f"an item {item.status} takes no more reports")
    note = clean_text(note, "note")
    if not note:
        raise InvalidInput({"note": Code.REQUIRED})
    if len(files) > MAX_FILES:
        raise UploadRefused("too_many")
    now = ctx.now()
    report = RemedyReport(
        case_id=case.id,
        remedy_action_id=item.id,
        company_id=item.company_id,
        reported_by_id=actor.user_id,
        note=note,
        completed=completed,
        attachment_count=len(files),
        created_at=now,
    )
    ctx.session.add(report)
    added = _seal(ctx, case, item, actor, files)
    previous = item.status
    item.status = RemedyStatus.COMPLETED if completed else RemedyStatus.IN_PROGRESS
    changes = deadlines.Changes(opened=[], closed=[])
    if completed:
        changes = deadlines.close_for_remedy_action(
            ctx.session, case, item.id, now, abandoned=False
        )
    ctx.session.flush()
    caselog.append(
        ctx.session,
        case,
        "remedy_progress_reported",
        actor,
        now,
        {
            "remedy_action_id": item.id,
            "report_id": report.id,
            "note": note,
            "status": item.status.value,
            "previous_status": previous.value,
            "attachment_ids": [a.id for a in added],
            **changes.payload(),
        },
    )
    case_notices.remedy_reported(ctx, case, actor, item.company_id, due=False)
    return report


def _seal(
    ctx: Context, case: Case, item: RemedyAction, actor: Actor, files: Sequence[CleanFile]
) -> list[Attachment]:
    """Seal the evidence as attachments of the item (reviewers and the complainant read
    them through `attachments.read_attachment`; companies never read case files)."""
    added = []
    for file in files:
        attachment = Attachment(
            case_id=case.id,
            remedy_action_id=item.id,
            filename_enc=b"",
            content_type=file.content_type,
            size=file.size,
            content_enc=b"",
            uploaded_by_role=actor.role.value,
            created_at=ctx.now(),
        )
        ctx.session.add(attachment)
        ctx.session.flush()
        attachment.filename_enc = ctx.vault.seal(
            case.id, f"attachment.{attachment.id}.name", file.filename
        )
        attachment.content_enc = ctx.vault.seal_bytes(
            case.id, f"attachment.{attachment.id}.content", file.data
        )
        added.append(attachment)
    return added


@atomic
def verify(ctx: Context, item: RemedyAction, actor: Actor, note: str = "") -> RemedyAction:
    """A reviewer of the case verifies a completed item (never a company: R06)."""
    case = _approved_item(ctx, item)
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("reviewers verify remedy")
    require_part(ctx, actor, case)
    if item.status is not RemedyStatus.COMPLETED or item.verified_at is not None:
        raise ServiceError("only a completed item not yet verified is verified")
    note = clean_text(note, "note")
    item.verified_by_id = actor.user_id
    item.verified_at = ctx.now()
    caselog.append(
        ctx.session,
        case,
        "remedy_verified",
        actor,
        ctx.now(),
        {"remedy_action_id": item.id, **({"note": note} if note else {})},
    )
    return item


@atomic
def send_back(ctx: Context, item: RemedyAction, actor: Actor, reason: str) -> RemedyAction:
    """A reviewer finds a completed item not done: back in progress, with reasons."""
    case = _approved_item(ctx, item)
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("reviewers verify remedy")
    require_part(ctx, actor, case)
    if item.status is not RemedyStatus.COMPLETED:
        raise ServiceError("only a completed item is sent back")
    reason = clean_text(reason, "reason")
    if not reason:
        raise InvalidInput({"reason": Code.REQUIRED})
    item.status = RemedyStatus.IN_PROGRESS
    item.verified_by_id = None
    item.verified_at = None
    caselog.append(
        ctx.session,
        case,
        "remedy_status_changed",
        actor,
        ctx.now(),
        {
            "remedy_action_id": item.id,
            "status": item.status.value,
            "previous_status": RemedyStatus.COMPLETED.value,
            "note": reason,
        },
    )
    return item


@atomic
def respond(
    ctx: Context,
    item: RemedyAction,
    actor: Actor,
    response: ComplainantResponse,
    channel: str,
) -> RemedyAction:
    """The complainant says whether they experienced the item (R21): once it is reported
    done, and again if they change their mind."""
    case = _approved_item(ctx, item)
    if actor.role is not Role.COMPLAINANT:
        raise NotAllowed("only the complainant confirms or disputes remedy")
    require_part(ctx, actor, case)
    if channel not in CHANNELS:
        raise ValueError(channel)
    if item.status is not RemedyStatus.COMPLETED:
        raise ServiceError("the complainant answers on an item reported done")
    item.complainant_response = response
    item.complainant_response_at = ctx.now()
    item.complainant_response_channel = channel
    caselog.append(
        ctx.session,
        case,
        "remedy_response",
        actor,
        ctx.now(),
        {"remedy_action_id": item.id, "response": response.value, "channel": channel},
    )
    if response is ComplainantResponse.DISPUTED:
        case_notices.remedy_disputed(ctx, case)
    return item


def awaiting_response(items: Sequence[RemedyAction]) -> list[RemedyAction]:
    """The items the complainant may confirm or dispute (reported done, not answered)."""
    return [
        item
        for item in items
        if item.status is RemedyStatus.COMPLETED and item.complainant_response is None
    ]
