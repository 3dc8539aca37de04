"""What a company in a case does, and what the reviewers do with it (#13): the company
responds to the complaint, accepts or contests its classification, reports on its
obligations; a reviewer of the case verifies each report and links remedy items to the
obligations they discharge; the company and the reviewers write to each other. Each is
a logged event; the company's own words are private to it and the mechanism
(`Concerns.COMPANY_PRIVATE`): neither the complainant nor another company sees them.

An obligation's status changes only here: fulfilled or not fulfilled when a reviewer
accepts the company's report; a report sent back leaves it open, its time limit again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from grievance.models import (
    Attachment,
    Case,
    Company,
    Obligation,
    ObligationStatus,
    RemedyAction,
    Role,
)
from grievance.services import caselog, company_deadlines, deadlines, notifications
from grievance.services.actors import Actor, require_part
from grievance.services.assignments import active_assignments
from grievance.services.attachments import MAX_FILES, CleanFile, UploadRefused
from grievance.services.context import Context, atomic
from grievance.services.errors import Code, InvalidInput, NotAllowed, ReasonRequired
from grievance.services.involvement import current_involvement
from grievance.services.texts import clean_text

#: The longest text a company or reviewer writes here, in characters.
MAX_TEXT = 5000


def _text(value: str, field: str, *, required: bool = True) -> str:
    text = clean_text(value, field)
    if required and not text:
        raise ReasonRequired(f"give the {field}")
    if len(text) > MAX_TEXT:
        raise InvalidInput({field: Code.TOO_LONG}, limits={field: {"max": MAX_TEXT}})
    return text


def _as_company(ctx: Context, case: Case, actor: Actor) -> Company:
    """The company a company user acts for in this case (it must be in it now)."""
    if actor.role is not Role.COMPANY or actor.company_id is None:
        raise NotAllowed("only the company's own users act for it")
    require_part(ctx, actor, case)
    return ctx.session.get_one(Company, actor.company_id)


def _as_reviewer(ctx: Context, case: Case, actor: Actor) -> None:
    if actor.role is not Role.REVIEWER:
        raise NotAllowed("only reviewers of the case do this")
    require_part(ctx, actor, case)


def _tell_reviewers(ctx: Context, case: Case) -> None:
    reviewers = [row.reviewer_id for row in active_assignments(ctx, case).values()]
    notifications.notify(ctx, reviewers, notifications.COMPANY_REPORTED, case=case)


def _closed(deadline: object) -> dict[str, object]:
    if deadline is None:
        return {}
    return deadlines.Changes(opened=[], closed=[deadline]).payload()  # type: ignore[list-item]


# -- the company ----------------------------------------------------------------------


@atomic
def respond(ctx: Context, case: Case, actor: Actor, response: str) -> None:
    """The company's response to the complaint; it meets its response time limit (missed
    when late)."""
    case = ctx.lock_case(case)
    company = _as_company(ctx, case, actor)
    response = _text(response, "response")
    now = ctx.now()
    closed = company_deadlines.close_deadline(
        ctx.session, case, company_deadlines.response_code(company.id), now
    )
    caselog.append(
        ctx.session,
        case,
        "company_responded",
        actor,
        now,
        {"company_id": company.id, "response": response, **_closed(closed)},
    )
    _tell_reviewers(ctx, case)


@atomic
def answer_classification(
    ctx: Context, case: Case, actor: Actor, accepted: bool, reasons: str
) -> None:
    """The company accepts or contests its current classification; a contest needs its
    reasons and goes to the reviewers. It changes nothing: only reviewers classify."""
    case = ctx.lock_case(case)
    company = _as_company(ctx, case, actor)
    involvement = current_involvement(ctx, case, company)
    if involvement is None or involvement.kind is None:
        raise InvalidInput({"answer": Code.UNKNOWN})
    reasons = _text(reasons, "reasons", required=not accepted)
    caselog.append(
        ctx.session,
        case,
        "classification_answered",
        actor,
        ctx.now(),
        {
            "company_id": company.id,
            "kind": involvement.kind.value,
            "version": involvement.version,
            "accepted": accepted,
            "reasons": reasons,
        },
    )
    _tell_reviewers(ctx, case)


@atomic
def write(ctx: Context, case: Case, company: Company, actor: Actor, text: str) -> None:
    """A message between a company in the case and its reviewers."""
    case = ctx.lock_case(case)
    if actor.role is Role.COMPANY:
        if _as_company(ctx, case, actor).id != company.id:
            raise NotAllowed("a company writes in its own conversation")
    else:
        _as_reviewer(ctx, case, actor)
        if current_involvement(ctx, case, company) is None:
            raise InvalidInput({"company": Code.NOT_IN_CASE})
    text = _text(text, "text")
    from_company = actor.role is Role.COMPANY
    caselog.append(
        ctx.session,
        case,
        "company_message",
        actor,
        ctx.now(),
        {"company_id": company.id, "from_company": from_company, "text": text},
    )
    if from_company:
        _tell_reviewers(ctx, case)
    else:
        notifications.notify(
            ctx, notifications.company_users(ctx, company.id), notifications.COMPANY_CASE,
            case=case,
        )  # fmt: skip


def _seal_evidence(
    ctx: Context, case: Case, obligation: Obligation, files: Sequence[CleanFile], now: datetime
) -> list[int]:
    """Files checked and stripped by the attachment pipeline (`attachments.check_file`),
    sealed under the case's data key as every attachment is."""
    if len(files) > MAX_FILES:
        raise UploadRefused("too_many")
    ids = []
    for file in files:
        attachment = Attachment(
            case_id=case.id,
            obligation_id=obligation.id,
            filename_enc=b"",
            content_type=file.content_type,
            size=file.size,
            content_enc=b"",
            uploaded_by_role=Role.COMPANY.value,
            created_at=now,
        )
        ctx.session.add(attachment)
        ctx.session.flush()
        attachment.filename_enc = ctx.vault.seal(
            case.id, f"attachment.{attachment.id}.name", file.filename
        )
        attachment.content_enc = ctx.vault.seal_bytes(
            case.id, f"attachment.{attachment.id}.content", file.data
        )
        ids.append(attachment.id)
    return ids


def evidence_of(ctx: Context, case: Case) -> dict[int, list[Attachment]]:
    """The evidence files of the case's obligation reports, by obligation."""
    found: dict[int, list[Attachment]] = {}
    rows = ctx.session.scalars(
        select(Attachment)
        .where(Attachment.case_id == case.id, Attachment.obligation_id.is_not(None))
        .order_by(Attachment.id)
    )
    for row in rows:
        assert row.obligation_id is not None
        found.setdefault(row.obligation_id, []).append(row)
    return found


@atomic
def report_obligation(
    ctx: Context,
    obligation: Obligation,
    actor: Actor,
    fulfilled: bool,
    reasons: str,
    files: Sequence[CleanFile] = (),
) -> Obligation:
    """The company reports an open obligation fulfilled or not, with its reasons and
    evidence files; a reviewer verifies the report before the status changes."""
    case = ctx.lock_case(ctx.session.get_one(Case, obligation.case_id))
    company = _as_company(ctx, case, actor)
    ctx.session.refresh(obligation)
    if obligation.company_id != company.id:
        raise NotAllowed("a company reports on its own obligations")
    if obligation.status is not ObligationStatus.OPEN or obligation.reported_status is not None:
        raise InvalidInput({"obligation": Code.ALREADY_DONE})
    reasons = _text(reasons, "reasons")
    now = ctx.now()
    obligation.reported_status = (
        ObligationStatus.FULFILLED if fulfilled else ObligationStatus.NOT_FULFILLED
    )
    obligation.report = reasons
    obligation.reported_at = now
    obligation.reported_by_id = actor.user_id
    evidence = _seal_evidence(ctx, case, obligation, files, now)
    closed = company_deadlines.close_deadline(
        ctx.session, case, company_deadlines.obligation_code(company.id, obligation.id), now
    )
    caselog.append(
        ctx.session,
        case,
        "obligation_reported",
        actor,
        now,
        {
            "company_id": company.id,
            "obligation_id": obligation.id,
            "code": obligation.code,
            "reported_status": obligation.reported_status.value,
            "reasons": reasons,
            **({"attachment_ids": evidence} if evidence else {}),
            **_closed(closed),
        },
    )
    _tell_reviewers(ctx, case)
    return obligation


@atomic
def verify_obligation(
    ctx: Context, obligation: Obligation, actor: Actor, accepted: bool, note: str = ""
) -> Obligation:
    """A reviewer of the case accepts the company's report (the obligation takes the
    reported status) or sends it back with a note (it stays open, due when it was)."""
    case = ctx.lock_case(ctx.session.get_one(Case, obligation.case_id))
    _as_reviewer(ctx, case, actor)
    ctx.session.refresh(obligation)
    if obligation.status is not ObligationStatus.OPEN or obligation.reported_status is None:
        raise InvalidInput({"obligation": Code.ALREADY_DONE})
    note = _text(note, "note", required=not accepted)
    now = ctx.now()
    changes: dict[str, object] = {}
    if accepted:
        obligation.status = obligation.reported_status
        obligation.closed_at = now
        obligation.verified_by_id = actor.user_id
        obligation.verified_at = now
    else:
        obligation.reported_status = None
        code = company_deadlines.obligation_code(obligation.company_id, obligation.id)
        previous = company_deadlines.last_closed(ctx.session, case, code)
        if previous is not None:
            again = company_deadlines.reopen_deadline(ctx.session, case, previous, now)
            changes = deadlines.Changes(opened=[again], closed=[]).payload()
    caselog.append(
        ctx.session,
        case,
        "obligation_verified",
        actor,
        now,
        {
            "company_id": obligation.company_id,
            "obligation_id": obligation.id,
            "code": obligation.code,
            "accepted": accepted,
            "status": obligation.status.value,
            "note": note,
            **changes,
        },
    )
    notifications.notify(
        ctx, notifications.company_users(ctx, obligation.company_id), notifications.COMPANY_CASE,
        case=case,
    )  # fmt: skip
    return obligation


@atomic
def link_remedy_item(
    ctx: Context, obligation: Obligation, action: RemedyAction, actor: Actor
) -> None:
    """A reviewer says which remedy item discharges an obligation (the item's company
    must be the obligation's)."""
    case = ctx.lock_case(ctx.session.get_one(Case, obligation.case_id))
    _as_reviewer(ctx, case, actor)
    if action.case_id != case.id or action.company_id != obligation.company_id:
        raise InvalidInput({"remedy_action": Code.UNKNOWN})
    action.obligation_id = obligation.id
    caselog.append(
        ctx.session,
        case,
        "obligation_linked",
        actor,
        ctx.now(),
        {
            "company_id": obligation.company_id,
            "obligation_id": obligation.id,
            "code": obligation.code,
            "remedy_action_id": action.id,
        },
    )


@atomic
def arrange_meeting(
    ctx: Context, case: Case, actor: Actor, when: datetime, place: str, note: str = ""
) -> None:
    """The company proposes a meeting with the complainant's representatives, as the
    complainant asked (CSDDD 14(4)); the reviewers arrange it with the complainant."""
    case = ctx.lock_case(case)
    company = _as_company(ctx, case, actor)
    place = _text(place, "place")
    note = _text(note, "note", required=False)
    if when <= ctx.now():
        raise InvalidInput({"when": Code.OUT_OF_RANGE})
    caselog.append(
        ctx.session,
        case,
        "company_meeting_arranged",
        actor,
        ctx.now(),
        {"company_id": company.id, "when": when, "place": place, "note": note},
    )
    _tell_reviewers(ctx, case)


def obligations_of(ctx: Context, case: Case, company_id: int) -> list[Obligation]:
    """A company's obligations in the case, current and kept, in order."""
    return list(
        ctx.session.scalars(
            select(Obligation)
            .where(Obligation.case_id == case.id, Obligation.company_id == company_id)
            .order_by(Obligation.id)
        )
    )
