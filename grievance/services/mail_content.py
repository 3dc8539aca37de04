"""What a mail may say, and the message it becomes.

A renderer (`Render`: the web plumbing's templates, `grievance.http.mail`) is given a
`MailContent`: what happened, when, the case's reference, the notification to link to, a
digest's list. Nothing else is read for it: never the complainant's words, a name, a
phone number, an address or a file. `build_message` makes the multipart message (text,
then HTML); a `MailTransport` hands it over or raises `MailError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Protocol

from sqlalchemy import func, select

from grievance.models import Case, Complainant, MailKind, MailMessage, StaffNotification, User
from grievance.services.context import Context

#: A digest lists at most this many notifications; it says how many more wait.
DIGEST_ITEMS = 50


@dataclass(frozen=True)
class MailItem:
    """One notification as a digest lists it."""

    topic: str
    reference: str | None
    at: datetime
    urgent: bool


@dataclass(frozen=True)
class MailContent:
    """Everything a mail may say: what happened, when, the case's reference, and (for a
    staff user's notification) the notification to link to. Nothing else is known here."""

    kind: MailKind
    topic: str
    language: str
    at: datetime
    reference: str | None = None
    notification_id: int | None = None
    items: tuple[MailItem, ...] = ()
    more: int = 0
    day: date | None = None


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


Render = Callable[[MailContent], RenderedMail]


class MailError(Exception):
    """The server did not take the mail. `temporary`: worth trying again later;
    `refused_recipient`: the address was refused for good (a 5xx at RCPT)."""

    def __init__(self, code: str, *, temporary: bool, refused_recipient: bool = False) -> None:
        super().__init__(code)
        self.code = code
        self.temporary = temporary
        self.refused_recipient = refused_recipient


class MailTransport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand one message over; raise `MailError` if it is not taken."""
        ...


def content_of(ctx: Context, row: MailMessage) -> MailContent | None:
    """What the mail of `row` may say; None when nobody is to be told any more (a user
    deactivated, a case whose identities are erased)."""
    session = ctx.session
    if row.kind is MailKind.COMPLAINANT:
        case = session.get(Case, row.case_id) if row.case_id else None
        complainant = session.get(Complainant, row.complainant_id) if row.complainant_id else None
        if case is None or complainant is None or case.identities_erased_at is not None:
            return None
        return MailContent(row.kind, row.topic, row.language, row.created_at, case.reference)
    user = session.get(User, row.user_id) if row.user_id else None
    if user is None or not user.active:
        return None
    if row.kind is MailKind.NOTIFICATION:
        found = session.execute(
            select(StaffNotification.id, StaffNotification.created_at, Case.reference)
            .outerjoin(Case, Case.id == StaffNotification.case_id)
            .where(StaffNotification.mail_id == row.id)
        ).first()
        if found is None:
            return None
        return MailContent(
            row.kind, row.topic, row.language, found[1], found[2], notification_id=found[0]
        )
    listed = session.execute(
        select(
            StaffNotification.kind,
            Case.reference,
            StaffNotification.created_at,
            StaffNotification.urgent,
        )
        .outerjoin(Case, Case.id == StaffNotification.case_id)
        .where(StaffNotification.digest_mail_id == row.id)
        .order_by(StaffNotification.created_at, StaffNotification.id)
        .limit(DIGEST_ITEMS + 1)
    ).all()
    total = session.scalar(select(func.count()).where(StaffNotification.digest_mail_id == row.id))
    items = tuple(MailItem(kind, reference, at, urgent) for kind, reference, at, urgent in listed)
    return MailContent(
        row.kind,
        row.topic,
        row.language,
        row.created_at,
        items=items[:DIGEST_ITEMS],
        more=max((total or 0) - DIGEST_ITEMS, 0),
        day=row.digest_day,
    )


def build_message(
    rendered: RenderedMail, sender: str, to: str, now: datetime, language: str
) -> EmailMessage:
    """A multipart message (text, then HTML) with no more headers than a mail needs."""
    message = EmailMessage()
    message["Subject"] = " ".join(rendered.subject.split())
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(now)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    message["Content-Language"] = language  # after the content: setting it clears Content-*
    return message
