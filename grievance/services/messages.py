"""Messages between a complainant and the reviewers, encrypted, on any channel."""

from __future__ import annotations

from grievance.models import Case, Channel, Complainant, Direction, Message, Role
from grievance.services import case_notices, caselog, contacts, deadlines, timekeeping
from grievance.services.actors import Actor, require_part
from grievance.services.context import Context, atomic
from grievance.services.errors import Code, InvalidInput, NotAllowed
from grievance.services.texts import clean_text

MESSAGE_MAX = 10_000


@atomic
def add_message(
    ctx: Context,
    case: Case,
    actor: Actor,
    body: str,
    channel: Channel,
    complainant: Complainant | None = None,
    *,
    feedback: bool = False,
) -> Message:
    """A complainant writes to the reviewers, or a reviewer to the complainant.

    `feedback` marks a reviewer's message as the feedback on the action envisaged or
    taken that the complainant is owed within the feedback time limit (WBD 9(1)(f)).
    """
    case = ctx.lock_case(case)
    require_part(ctx, actor, case)
    if actor.role is Role.COMPLAINANT:
        direction = Direction.FROM_COMPLAINANT
        complainant_id = actor.complainant_id
    elif actor.role in (Role.REVIEWER, Role.SECRETARIAT):
        direction = Direction.TO_COMPLAINANT
        complainant_id = complainant.id if complainant else None
    else:
        raise NotAllowed("only the complainant and the reviewers exchange messages")
    if feedback and direction is not Direction.TO_COMPLAINANT:
        raise NotAllowed("feedback goes from the reviewers to the complainant")
    text = clean_text(body, "body")
    if not text:
        raise InvalidInput({"body": Code.REQUIRED})
    if len(text) > MESSAGE_MAX:
        raise InvalidInput.too_long("body", MESSAGE_MAX)
    now = ctx.now()
    message = Message(
        case_id=case.id,
        complainant_id=complainant_id,
        direction=direction,
        channel=channel,
        author_id=actor.user_id,
        body_enc=b"",
        created_at=now,
    )
    ctx.session.add(message)
    ctx.session.flush()
    message.body_enc = ctx.vault.seal(case.id, f"message.{message.id}", text)
    if direction is Direction.FROM_COMPLAINANT:
        kind = "message_from_complainant"
    else:
        kind = "feedback_given" if feedback else "message_to_complainant"
    changes = deadlines.on_event(ctx.session, case, ctx.case_policy(case), kind, now)
    caselog.append(
        ctx.session,
        case,
        kind,
        actor,
        now,
        {"message_id": message.id, "channel": channel.value, **changes.payload()},
    )
    if direction is Direction.TO_COMPLAINANT:
        # Delivered on the complainant's channel: SMS and WhatsApp through the outbox; by
        # e-mail only a notice to read it on the follow-up page, which shows every message.
        recipients = [complainant] if complainant else case.complainants
        for recipient in recipients:
            contacts.queue_to_phone(ctx, case, recipient, text, message.id)
            case_notices.message_to_complainant(ctx, case, recipient)
    else:
        case_notices.message_from_complainant(ctx, case)
    if direction is Direction.FROM_COMPLAINANT and case.clock_paused_at is not None:
        timekeeping.restart(ctx, case, actor, by_message=True)  # the answer came
    return message


def read_message(ctx: Context, message: Message) -> str:
    return ctx.vault.open(message.case_id, f"message.{message.id}", message.body_enc)
