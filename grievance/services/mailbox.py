"""The mail outbox: every e-mail is a row, sent by the worker, as the SMS outbox sends texts.

- No mail carries case content: never the complainant's words, a name, a phone number, an
  address or a file. A row says what happened (`topic`), to whom, in which language, and
  which case (its reference); the text is written when the row is sent, by a renderer
  the caller gives (`Render`: the web plumbing's Jinja templates, `grievance.http.mail`).
- The recipient's address is sealed in the row (`grievance.crypto.derived`, with the
  outbox's key, `Purpose.OUTBOX`, which `rotate-keys` rotates and `services.keys`
  re-seals; associated data naming the row) and emptied once the row is final: a
  complainant's address stays in the identity vault and nowhere else in clear.
- `queue_*` write a `pending` row in the caller's transaction, so a mail is queued if and
  only if the change that caused it lands.
- `drain` (a job) claims due rows one at a time with a conditional UPDATE (`pending` ->
  `sending`, committed before the call): two workers at once never claim the same row.
  A row left in `sending` by a worker that died mid-call is failed, never sent again (at
  most once). Temporary failures (4xx, no connection, timeouts) are retried after 30 s,
  doubling up to an hour, eight attempts in all; permanent ones (5xx) are not. A
  complainant's address refused for good at RCPT is marked on the complainant, with a
  `contact_failed` event the reviewers see, and nothing more goes to it.
- `digests.queue_digests` (a job) makes one digest a day per user who chose one.

A job, not a request: `drain` commits as it goes. What a mail says is `mail_content`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update

from grievance.crypto import derived
from grievance.models import (
    Case,
    Complainant,
    ContactChannel,
    MailKind,
    MailMessage,
    OutboxStatus,
    User,
)
from grievance.services import caselog
from grievance.services.actors import SYSTEM
from grievance.services.context import Context
from grievance.services.mail_content import (
    MailError,
    MailTransport,
    Render,
    build_message,
    content_of,
)
from grievance.services.outbox import retry_delay

log = logging.getLogger(__name__)

#: The outbox's key (`keyring.Purpose.OUTBOX`): both outboxes are sealed with it; the
#: associated data tells their rows apart.
_INFO = b"grievance/outbox/v1"
MAX_ATTEMPTS = 8

#: What a complainant is told (the mail says only that there is something to read).
MESSAGE = "message"  # a reviewer wrote
INFORMATION_REQUESTED = "information_requested"
ACKNOWLEDGED = "acknowledged"
REMEDY_QUESTION = "remedy_question"  # the satisfaction check: was the harm put right?
COMPLAINANT_TOPICS = (MESSAGE, INFORMATION_REQUESTED, ACKNOWLEDGED, REMEDY_QUESTION)


# -- queueing ---------------------------------------------------------------------------


def _associated(row_id: int) -> str:
    return f"grievance/v1|mail_outbox={row_id}|field=address"


def new_row(
    ctx: Context, kind: MailKind, topic: str, language: str, address: str, **links: object
) -> MailMessage:
    now = ctx.now()
    row = MailMessage(
        kind=kind,
        topic=topic,
        language=language,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
        **links,
    )
    ctx.session.add(row)
    ctx.session.flush()
    row.address_enc = derived.seal(ctx.keyring, _INFO, _associated(row.id), address.encode())
    return row


def open_address(ctx: Context, row: MailMessage) -> str:
    assert row.address_enc is not None
    return derived.open_sealed(ctx.keyring, _INFO, _associated(row.id), row.address_enc).decode()


def queue_for_user(ctx: Context, user: User, topic: str, case_id: int | None) -> MailMessage:
    """An e-mail to a staff user about one notification (the caller links it)."""
    return new_row(
        ctx,
        MailKind.NOTIFICATION,
        topic,
        user.language,
        user.email,
        user_id=user.id,
        case_id=case_id,
    )


def mailable(complainant: Complainant) -> bool:
    """The complainant chose e-mail, and the address is there and was never refused."""
    return (
        complainant.contact_channel is ContactChannel.EMAIL
        and complainant.contact_enc is not None
        and complainant.erased_at is None
        and complainant.contact_failed_at is None
    )


def queue_for_complainant(ctx: Context, case: Case, complainant: Complainant, topic: str) -> bool:
    """A short notice to a complainant who chose e-mail: there is something to read on
    the follow-up page. One waits at a time: while a notice is still to go, another says
    nothing more. False when they chose no e-mail (or it is erased or refused)."""
    if topic not in COMPLAINANT_TOPICS:
        raise ValueError(f"no complainant notice {topic!r}")
    if not mailable(complainant) or case.identities_erased_at is not None:
        return False
    waiting = ctx.session.scalar(
        select(MailMessage.id).where(
            MailMessage.complainant_id == complainant.id,
            MailMessage.status == OutboxStatus.PENDING,
        )
    )
    if waiting is not None:
        return True
    assert complainant.contact_enc is not None
    address = ctx.vault.open(
        case.id, f"complainant.{complainant.id}.contact", complainant.contact_enc
    )
    new_row(
        ctx,
        MailKind.COMPLAINANT,
        topic,
        complainant.language,
        address,
        case_id=case.id,
        complainant_id=complainant.id,
    )
    return True


def queue_for_complainants(ctx: Context, case: Case, topic: str) -> int:
    """`queue_for_complainant` for every complainant of the case; how many."""
    return sum(
        queue_for_complainant(ctx, case, complainant, topic)
        for complainant in ctx.session.scalars(
            select(Complainant).where(Complainant.case_id == case.id).order_by(Complainant.id)
        )
    )


def _cancel(ctx: Context, *conditions: ColumnElement[bool]) -> int:
    result = ctx.session.execute(
        update(MailMessage)
        .where(MailMessage.status == OutboxStatus.PENDING, *conditions)
        .values(status=OutboxStatus.CANCELLED, address_enc=None, updated_at=ctx.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def cancel_for_case(ctx: Context, case_id: int) -> int:
    """Cancel and empty what waits for a case whose identities are erased."""
    return _cancel(ctx, MailMessage.case_id == case_id)


def cancel_all_pending(ctx: Context) -> int:
    """Cancel everything that waits (the demo's history is not mailed: its addresses are
    made up)."""
    return _cancel(ctx)


# -- draining ---------------------------------------------------------------------------


@dataclass
class MailReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    abandoned: int = 0
    refused: int = 0

    def __bool__(self) -> bool:
        return any((self.sent, self.retried, self.failed, self.cancelled, self.abandoned))


def _due_ids(ctx: Context, limit: int) -> Sequence[int]:
    statement = (
        select(MailMessage.id)
        .where(
            MailMessage.status == OutboxStatus.PENDING,
            MailMessage.next_attempt_at <= ctx.now(),
        )
        .order_by(MailMessage.next_attempt_at, MailMessage.id)
        .limit(limit)
    )
    if ctx.session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    ids = ctx.session.scalars(statement).all()
    ctx.session.commit()
    return ids


def _claim(ctx: Context, row_id: int) -> bool:
    """Take a pending row for this worker; False if another one took it first."""
    result = ctx.session.execute(
        update(MailMessage)
        .where(MailMessage.id == row_id, MailMessage.status == OutboxStatus.PENDING)
        .values(
            status=OutboxStatus.SENDING,
            attempts=MailMessage.attempts + 1,
            updated_at=ctx.now(),
        )
        .execution_options(synchronize_session=False)
    )
    ctx.session.commit()
    return bool(getattr(result, "rowcount", 0))


def _finish(row: MailMessage, status: OutboxStatus, now: datetime) -> None:
    row.status = status
    row.updated_at = now
    row.address_enc = None


def _abandon_stale(ctx: Context, stale_after: timedelta) -> int:
    """Rows a dead worker left in `sending`: never sent again (at most once)."""
    now = ctx.now()
    result = ctx.session.execute(
        update(MailMessage)
        .where(
            MailMessage.status == OutboxStatus.SENDING,
            MailMessage.updated_at < now - stale_after,
        )
        .values(
            status=OutboxStatus.FAILED,
            last_error="interrupted",
            address_enc=None,
            updated_at=now,
        )
    )
    ctx.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def drain(
    ctx: Context,
    transport: MailTransport,
    render: Render,
    *,
    sender: str,
    limit: int = 100,
    stale_after: timedelta = timedelta(minutes=15),
) -> MailReport:
    """Send what is due, each row at most once. A job: it commits as it goes."""
    report = MailReport()
    report.abandoned = _abandon_stale(ctx, stale_after)
    for row_id in _due_ids(ctx, limit):
        if not _claim(ctx, row_id):
            continue
        row = ctx.session.get_one(MailMessage, row_id, populate_existing=True)
        if row.status is not OutboxStatus.SENDING or row.address_enc is None:
            ctx.session.commit()  # cancelled between the claim and now
            continue
        refused = _send_claimed(ctx, transport, render, sender, row, report)
        ctx.session.commit()
        if refused:
            _contact_failed(ctx, row.case_id, row.complainant_id)
            ctx.session.commit()
    return report


def _send_claimed(
    ctx: Context,
    transport: MailTransport,
    render: Render,
    sender: str,
    row: MailMessage,
    report: MailReport,
) -> bool:
    """Send one claimed row; True if a complainant's address was refused for good."""
    content = content_of(ctx, row)
    if content is None:  # nobody to tell any more: deactivated, erased
        _finish(row, OutboxStatus.CANCELLED, ctx.now())
        report.cancelled += 1
        return False
    try:
        rendered = render(content)
        message = build_message(rendered, sender, open_address(ctx, row), ctx.now(), row.language)
        transport.send(message)
    except MailError as error:
        return _failed(ctx, row, error, report)
    except Exception as error:  # a bug or an unforeseen failure: its text may hold the address
        log.warning("mail %s not sent: %s", row.id, type(error).__name__)
        return _failed(ctx, row, MailError("error", temporary=True), report)
    now = ctx.now()
    _finish(row, OutboxStatus.SENT, now)
    row.sent_at = now
    row.last_error = None
    report.sent += 1
    return False


def _failed(ctx: Context, row: MailMessage, error: MailError, report: MailReport) -> bool:
    now = ctx.now()
    row.last_error = error.code[:32]
    log.warning("mail %s not sent (%s, attempt %s)", row.id, error.code, row.attempts)
    if error.refused_recipient:
        _finish(row, OutboxStatus.FAILED, now)
        report.failed += 1
        report.refused += 1
        return row.complainant_id is not None
    if error.temporary and row.attempts < MAX_ATTEMPTS:
        row.status = OutboxStatus.PENDING
        row.next_attempt_at = now + retry_delay(row.attempts)
        row.updated_at = now
        report.retried += 1
        return False
    _finish(row, OutboxStatus.FAILED, now)
    report.failed += 1
    return False


def _contact_failed(ctx: Context, case_id: int | None, complainant_id: int | None) -> None:
    """The complainant's address was refused for good: marked, logged for the reviewers,
    and what else waits for it is cancelled."""
    complainant = ctx.session.get(Complainant, complainant_id) if complainant_id else None
    if case_id is None or complainant is None:
        return
    case = ctx.lock_case(ctx.session.get_one(Case, case_id))
    ctx.session.refresh(complainant)
    if complainant.contact_failed_at is not None:
        return
    complainant.contact_failed_at = ctx.now()
    _cancel(ctx, MailMessage.complainant_id == complainant.id)
    caselog.append(
        ctx.session,
        case,
        "contact_failed",
        SYSTEM,
        ctx.now(),
        {"complainant_id": complainant.id, "channel": ContactChannel.EMAIL.value},
    )
