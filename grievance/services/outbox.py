"""The outbox: every SMS and WhatsApp message to a person is a row, sent by the worker.

- `queue` seals the address and the text (`grievance.crypto.derived`, associated data
  naming the row) and writes a `pending` row in the caller's transaction, so a message
  is queued if and only if the change that caused it lands.
- `drain` (a job) claims due rows one at a time with a conditional UPDATE
  (`pending` → `sending`, committed before the call): two drainers at once never claim
  the same row, so each row is handed to the gateway at most once. A row left in
  `sending` by a worker that died mid-call is never sent again (`stale_after`): it may
  have gone out, and a message twice is worse than a message lost to a crash.
- Temporary failures (5xx, 429, timeouts, no connection) are retried with exponential
  backoff; permanent ones (4xx) are not; 21610 (the number said STOP to the carrier)
  records the opt-out and cancels what waits for that number.
- Before each send the opt-out is checked by the number's HMAC; the STOP confirmation
  and HELP answers are flagged `despite_opt_out`.
- Status callbacks (`apply_status`) move a row only forward: a late `sent` never
  overwrites `delivered`.
- Once a row is final (sent, failed, cancelled) its sealed address and text are emptied:
  reviewers' messages live on in `Message`, dialogue texts in the catalogs, and a receipt
  code shown by SMS is not kept.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from grievance.crypto import derived
from grievance.models import Channel, OutboundMessage, OutboxStatus, SmsOptOut
from grievance.services.context import Context

log = logging.getLogger(__name__)

_INFO = b"grievance/outbox/v1"
#: Twilio takes at most 1,600 characters in one message; longer texts become several.
MAX_BODY_CHARS = 1600
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
#: Twilio's error for a recipient who replied STOP to the carrier.
OPTED_OUT_ERROR = "21610"
PHONE_CHANNELS = (Channel.SMS, Channel.WHATSAPP)

#: Order of the statuses a row goes through; a callback never moves a row back.
_RANK = {
    OutboxStatus.PENDING: 0,
    OutboxStatus.SENDING: 1,
    OutboxStatus.SENT: 2,
    OutboxStatus.DELIVERED: 3,
    OutboxStatus.UNDELIVERED: 3,
    OutboxStatus.FAILED: 3,
    OutboxStatus.CANCELLED: 4,
}
#: Twilio's MessageStatus words as outbox statuses (`read`, on WhatsApp, is delivered).
PROVIDER_STATUSES = {
    "accepted": OutboxStatus.SENT,
    "scheduled": OutboxStatus.SENT,
    "queued": OutboxStatus.SENT,
    "sending": OutboxStatus.SENT,
    "sent": OutboxStatus.SENT,
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.DELIVERED,
    "undelivered": OutboxStatus.UNDELIVERED,
    "failed": OutboxStatus.FAILED,
    "canceled": OutboxStatus.CANCELLED,
}
#: Statuses Twilio documents that say nothing about an outbound row's delivery: accepted
#: (204) and ignored. Anything else is no Twilio status: the callback is refused (400).
IGNORED_PROVIDER_STATUSES = frozenset({"receiving", "received", "partially_delivered"})


def is_provider_status(value: str) -> bool:
    """Whether `value` is a MessageStatus Twilio sends (any case, surrounding blanks)."""
    key = value.strip().lower()
    return key in PROVIDER_STATUSES or key in IGNORED_PROVIDER_STATUSES


FINAL = frozenset(
    {OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.UNDELIVERED, OutboxStatus.FAILED,
     OutboxStatus.CANCELLED}
)  # fmt: skip


# -- the gateway ---------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    provider_sid: str
    #: "gsm7" or "ucs2", and the number of segments the text takes.
    encoding: str
    segments: int


class GatewayError(Exception):
    """The gateway did not take the message. `temporary`: worth trying again later."""

    def __init__(self, code: str, *, temporary: bool) -> None:
        super().__init__(code)
        self.code = code
        self.temporary = temporary


class SmsGateway(Protocol):
    def send(self, channel: Channel, to: str, body: str) -> Sent:
        """Hand one message to the provider; raise `GatewayError` if it does not take it."""
        ...


# -- queueing ------------------------------------------------------------------------


def _associated(row_id: int, name: str) -> str:
    return f"grievance/v1|outbound_message={row_id}|field={name}"


def split_body(body: str) -> list[str]:
    """Texts of at most MAX_BODY_CHARS, cut at a space or line break where there is one."""
    parts: list[str] = []
    rest = body
    while len(rest) > MAX_BODY_CHARS:
        cut = max(rest.rfind(" ", 0, MAX_BODY_CHARS), rest.rfind("\n", 0, MAX_BODY_CHARS))
        if cut < MAX_BODY_CHARS // 2:
            cut = MAX_BODY_CHARS
            if 0xD800 <= ord(rest[cut - 1]) <= 0xDBFF:  # pragma: no cover - str has no halves
                cut -= 1
        part = rest[:cut].rstrip()
        if part:  # a leading blank run is no message of its own
            parts.append(part)
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def queue(
    ctx: Context,
    *,
    channel: Channel,
    address: str,
    handle: str,
    body: str,
    case_id: int | None = None,
    complainant_id: int | None = None,
    message_id: int | None = None,
    conversation_id: int | None = None,
    despite_opt_out: bool = False,
) -> list[OutboundMessage]:
    """Queue a text to a phone number (E.164) on SMS or WhatsApp; one row per part."""
    if channel not in PHONE_CHANNELS:
        raise ValueError(f"the outbox sends SMS and WhatsApp, not {channel}")
    now = ctx.now()
    rows = []
    # NFC first, as the gateway sends it: it can lengthen a text (ড় is two characters)
    for text in split_body(unicodedata.normalize("NFC", body)):
        row = OutboundMessage(
            case_id=case_id,
            complainant_id=complainant_id,
            message_id=message_id,
            conversation_id=conversation_id,
            channel=channel,
            handle=handle,
            body_enc=b"",
            despite_opt_out=despite_opt_out,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        ctx.session.add(row)
        ctx.session.flush()
        row.address_enc = derived.seal(
            ctx.keyring, _INFO, _associated(row.id, "address"), address.encode()
        )
        row.body_enc = derived.seal(ctx.keyring, _INFO, _associated(row.id, "body"), text.encode())
        rows.append(row)
    return rows


def open_body(ctx: Context, row: OutboundMessage) -> str:
    return derived.open_sealed(
        ctx.keyring, _INFO, _associated(row.id, "body"), row.body_enc
    ).decode()


def _open_address(ctx: Context, row: OutboundMessage) -> str:
    assert row.address_enc is not None
    return derived.open_sealed(
        ctx.keyring, _INFO, _associated(row.id, "address"), row.address_enc
    ).decode()


# -- opting out ----------------------------------------------------------------------


def is_opted_out(ctx: Context, handle: str) -> bool:
    return ctx.session.get(SmsOptOut, handle) is not None


def opt_out(ctx: Context, handle: str, source: str) -> None:
    """Record the opt-out (once) and cancel what waits for the number, but the messages
    that go despite it (the STOP confirmation itself)."""
    if ctx.session.get(SmsOptOut, handle) is None:
        try:
            with ctx.session.begin_nested():
                ctx.session.add(SmsOptOut(handle=handle, opted_out_at=ctx.now(), source=source))
        except IntegrityError:  # another worker recorded it first
            pass
    now = ctx.now()
    ctx.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.handle == handle,
            OutboundMessage.status == OutboxStatus.PENDING,
            OutboundMessage.despite_opt_out.is_(False),
        )
        .values(status=OutboxStatus.CANCELLED, address_enc=None, body_enc=b"", updated_at=now)
    )


def opt_in(ctx: Context, handle: str) -> None:
    ctx.session.execute(delete(SmsOptOut).where(SmsOptOut.handle == handle))


def cancel_for_case(ctx: Context, case_id: int) -> int:
    """Cancel and empty what waits for a case whose identities are erased."""
    result = ctx.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.case_id == case_id,
            OutboundMessage.status == OutboxStatus.PENDING,  # one being sent is in flight
        )
        .values(status=OutboxStatus.CANCELLED, address_enc=None, body_enc=b"", updated_at=ctx.now())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- draining ------------------------------------------------------------------------


@dataclass
class DrainReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    abandoned: int = 0
    sent_ids: list[int] = field(default_factory=list)


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, doubling, at most an hour."""
    delay: timedelta = FIRST_RETRY * (2 ** max(attempts - 1, 0))
    return min(delay, LONGEST_RETRY)


def _claim(ctx: Context, row_id: int) -> bool:
    """Take a pending row for this drainer; False if another one took it first."""
    now = ctx.now()
    result = ctx.session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == row_id, OutboundMessage.status == OutboxStatus.PENDING)
        .values(
            status=OutboxStatus.SENDING,
            attempts=OutboundMessage.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    ctx.session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _finish(row: OutboundMessage, status: OutboxStatus, now: datetime) -> None:
    row.status = status
    row.updated_at = now
    row.address_enc = None
    row.body_enc = b""


def due_ids(
    ctx: Context, limit: int, conversation_id: int | None = None, handle: str | None = None
) -> Sequence[int]:
    statement = (
        select(OutboundMessage.id)
        .where(
            OutboundMessage.status == OutboxStatus.PENDING,
            OutboundMessage.next_attempt_at <= ctx.now(),
        )
        .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
        .limit(limit)
    )
    if conversation_id is not None:
        statement = statement.where(OutboundMessage.conversation_id == conversation_id)
    if handle is not None:
        statement = statement.where(OutboundMessage.handle == handle)
    if ctx.session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    ids = ctx.session.scalars(statement).all()
    ctx.session.commit()
    return ids


def drain(
    ctx: Context,
    gateway: SmsGateway,
    *,
    limit: int = 200,
    stale_after: timedelta = timedelta(minutes=15),
    conversation_id: int | None = None,
    handle: str | None = None,
) -> DrainReport:
    """Send what is due (only to the number of `handle`, if given), each row at most
    once. A job: it commits as it goes."""
    report = DrainReport()
    report.abandoned = _abandon_stale(ctx, stale_after)
    for row_id in due_ids(ctx, limit, conversation_id, handle):
        if not _claim(ctx, row_id):
            continue
        row = ctx.session.get_one(OutboundMessage, row_id, populate_existing=True)
        if row.status is not OutboxStatus.SENDING or row.address_enc is None:
            ctx.session.commit()  # cancelled between the claim and now
            continue
        _send_claimed(ctx, gateway, row, report)
        ctx.session.commit()
    return report


def _send_claimed(
    ctx: Context, gateway: SmsGateway, row: OutboundMessage, report: DrainReport
) -> None:
    now = ctx.now()
    if row.handle and not row.despite_opt_out and is_opted_out(ctx, row.handle):
        _finish(row, OutboxStatus.CANCELLED, now)
        report.cancelled += 1
        return
    try:
        sent = gateway.send(row.channel, _open_address(ctx, row), open_body(ctx, row))
    except GatewayError as error:
        now = ctx.now()
        row.last_error_code = error.code[:16]
        if error.code == OPTED_OUT_ERROR and row.handle:
            _finish(row, OutboxStatus.FAILED, now)
            opt_out(ctx, row.handle, source="provider")
            report.failed += 1
        elif error.temporary and row.attempts < MAX_ATTEMPTS:
            row.status = OutboxStatus.PENDING
            row.next_attempt_at = now + retry_delay(row.attempts)
            row.updated_at = now
            report.retried += 1
        else:
            _finish(row, OutboxStatus.FAILED, now)
            report.failed += 1
        log.warning(
            "outbox: message %s not sent (error %s, attempt %s)", row.id, error.code, row.attempts
        )
        return
    now = ctx.now()
    _finish(row, OutboxStatus.SENT, now)
    row.provider_sid = sent.provider_sid
    row.encoding = sent.encoding
    row.segments = sent.segments
    row.sent_at = now
    report.sent += 1
    report.sent_ids.append(row.id)


def _abandon_stale(ctx: Context, stale_after: timedelta) -> int:
    """Rows a dead drainer left in `sending`: never sent again (at most once)."""
    now = ctx.now()
    result = ctx.session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.status == OutboxStatus.SENDING,
            OutboundMessage.updated_at < now - stale_after,
        )
        .values(
            status=OutboxStatus.FAILED,
            last_error_code="interrupted",
            address_enc=None,
            body_enc=b"",
            updated_at=now,
        )
    )
    ctx.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- status callbacks ----------------------------------------------------------------


def apply_status(
    ctx: Context, provider_sid: str, provider_status: str, error_code: str | None
) -> bool:
    """A delivery report. Moves the row forward only; True if it changed the row."""
    status = PROVIDER_STATUSES.get(provider_status.strip().lower())
    row = ctx.session.scalar(
        select(OutboundMessage)
        .where(OutboundMessage.provider_sid == provider_sid)
        .with_for_update()
    )
    if row is None or status is None:
        return False
    if error_code == OPTED_OUT_ERROR and row.handle:
        opt_out(ctx, row.handle, source="provider")
    if _RANK[status] <= _RANK[row.status] or row.status is OutboxStatus.CANCELLED:
        return False
    row.status = status
    row.updated_at = ctx.now()
    if error_code:
        row.last_error_code = error_code[:16]
    return True
