"""A complainant's phone contact: linked from a new phone, forgotten when it must be.

The number is sealed under the case's data key and found again by its HMAC
(`Complainant.phone_lookup`, the same value as the SMS conversation's handle). Reviewers
see it only through `identity.reveal_identity`, which refuses anonymous complainants.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from grievance.models import (
    Anonymity,
    Case,
    Channel,
    Complainant,
    ContactChannel,
    Role,
    SmsConversation,
)
from grievance.services import caselog, outbox
from grievance.services.actors import Actor, acts_on_case
from grievance.services.context import Context, atomic
from grievance.services.errors import NotAllowed

PHONE_CONTACTS = (ContactChannel.SMS, ContactChannel.WHATSAPP)


def phone_handle(ctx: Context, number: str) -> str:
    """The HMAC a number is found by (E.164 in, 64 hex digits out)."""
    return ctx.vault.lookup_hash("phone", number)


@atomic
def link_phone(
    ctx: Context, case: Case, complainant: Complainant, actor: Actor, channel: Channel, number: str
) -> Complainant:
    """The complainant texts from a new phone and gave their receipt code: later messages
    to them go to this number, on this channel."""
    case = ctx.lock_case(case)
    if actor.role is not Role.COMPLAINANT or actor.complainant_id != complainant.id:
        raise NotAllowed("only complainants link their own phone")
    if not acts_on_case(ctx.session, actor, case):
        raise NotAllowed("not a complainant of this case")
    contact = ContactChannel.WHATSAPP if channel is Channel.WHATSAPP else ContactChannel.SMS
    complainant.contact_channel = contact
    complainant.phone_lookup = phone_handle(ctx, number)
    complainant.contact_enc = ctx.vault.seal(
        case.id, f"complainant.{complainant.id}.contact", number
    )
    caselog.append(
        ctx.session,
        case,
        "contact_changed",
        actor,
        ctx.now(),
        {"complainant_id": complainant.id, "channel": contact.value, "by": "receipt_code"},
    )
    return complainant


def queue_to_phone(
    ctx: Context, case: Case, complainant: Complainant, text: str, message_id: int | None = None
) -> bool:
    """Queue a text for a complainant who gave a phone contact; False if they gave none.
    The case reference comes first, so the person knows which complaint it is about."""
    if (
        complainant.contact_channel not in PHONE_CONTACTS
        or complainant.contact_enc is None
        or complainant.phone_lookup is None
    ):
        return False
    number = ctx.vault.open(
        case.id, f"complainant.{complainant.id}.contact", complainant.contact_enc
    )
    channel = (
        Channel.WHATSAPP if complainant.contact_channel is ContactChannel.WHATSAPP else Channel.SMS
    )
    outbox.queue(
        ctx,
        channel=channel,
        address=number,
        handle=complainant.phone_lookup,
        body=f"{case.reference}: {text}",
        case_id=case.id,
        complainant_id=complainant.id,
        message_id=message_id,
    )
    return True


def forget_anonymous_phones(ctx: Context, case: Case) -> int:
    """An anonymous complainant's number is kept only while their case is open: when it
    ends, the number, its HMAC and the conversation go (what was already queued still goes
    out: the outbox row holds its own sealed address until sent). Called by the case
    service in the transaction that ends the case."""
    forgotten = 0
    for complainant in ctx.session.scalars(
        select(Complainant).where(
            Complainant.case_id == case.id,
            Complainant.anonymity == Anonymity.ANONYMOUS,
            Complainant.contact_channel.in_(PHONE_CONTACTS),
        )
    ):
        complainant.contact_enc = None
        complainant.phone_lookup = None
        complainant.contact_channel = ContactChannel.NONE
        forgotten += 1
    if forgotten:
        ctx.session.execute(delete(SmsConversation).where(SmsConversation.case_id == case.id))
    return forgotten


def forget_conversations(ctx: Context, case: Case) -> None:
    """Retention erased the case's identities: its conversations and outbox go too."""
    ctx.session.execute(delete(SmsConversation).where(SmsConversation.case_id == case.id))
    outbox.cancel_for_case(ctx, case.id)
