"""Writing the e-mails (`services.mailbox.Render`) and choosing how they leave.

`MailRenderer` writes a mail from a `MailContent` in the recipient's language, with the
app's Jinja environment and Flask-Babel's catalogs, inside an app context of its own
(the worker has no request): `templates/mail/mail.txt` and `mail.html`, one layout for
every mail, the words chosen here. What a mail can say is what `MailContent` holds:
what happened, when, the case's reference and a link (to the staff inbox, or to the
follow-up page for a complainant); never case content.

`transport_for` gives SMTP when `SMTP_URL` is set, `.eml` files under `instance/mail/`
outside production otherwise, and nothing in production without `SMTP_URL` (mails wait
in the outbox until it is set).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from babel import Locale
from flask import Flask
from flask_babel import force_locale, format_date, format_datetime, gettext, ngettext

from grievance.config import Settings
from grievance.http import notices
from grievance.http.context import app_services
from grievance.http.i18n import supported_languages, text_direction
from grievance.http.paths import FOLLOW_UP
from grievance.models import MailKind
from grievance.services import notifications
from grievance.services.mail_content import MailContent, MailTransport, RenderedMail
from grievance.services.mail_transport import DirectoryTransport, SmtpTransport

#: Where staff pages are, under `STAFF_BASE_URL` (the staff app's routes, tested).
INBOX_PATH = "/staff/inbox"
ACCOUNT_PATH = "/staff/account"


@dataclass
class Letter:
    """What a mail says, in the reader's words, before it is laid out."""

    lang: str
    subject: str
    paragraphs: list[str]
    link_text: str
    link: str
    #: A digest's list: (time, what happened, urgent).
    items: list[tuple[str, str, bool]] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)
    direction: str = "ltr"


class MailRenderer:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.settings = app_services(app).settings

    def __call__(self, content: MailContent) -> RenderedMail:
        language = content.language if content.language in supported_languages() else "en"
        with self.app.app_context(), force_locale(language):
            letter = self.letter(content)
            letter.lang = language
            letter.direction = text_direction(Locale.parse(language))
            environment = self.app.jinja_env
            values = {"letter": letter}
            return RenderedMail(
                subject=letter.subject,
                text=environment.get_template("mail/mail.txt").render(values),
                html=environment.get_template("mail/mail.html").render(values),
            )

    def letter(self, content: MailContent) -> Letter:
        if content.kind is MailKind.COMPLAINANT:
            return self._complainant(content)
        if content.kind is MailKind.DIGEST:
            return self._digest(content)
        return self._notification(content)

    # -- the three kinds of mail ---------------------------------------------------------

    def _notification(self, content: MailContent) -> Letter:
        what = str(notices.NOTICE_TEXTS[content.topic])
        security = content.topic in notifications.SECURITY_KINDS
        paragraphs = [what]
        if content.reference:
            paragraphs.append(gettext("Case: %(reference)s", reference=content.reference))
            subject = gettext(
                "%(what)s (case %(reference)s)", what=what, reference=content.reference
            )
        elif security:
            subject = gettext("Security notice: %(what)s", what=what)
        else:
            subject = what
        paragraphs.append(_when(content.at))
        footer = [str(notices.IF_NOT_YOU)] if security else []
        footer.append(_no_content())
        if security:
            link = self.settings.staff_url + ACCOUNT_PATH
        else:
            link = f"{self.settings.staff_url}{INBOX_PATH}/{content.notification_id}"
        return Letter(
            lang=content.language,
            subject=subject,
            paragraphs=paragraphs,
            link_text=gettext("Sign in to see it:"),
            link=link,
            footer=footer,
        )

    def _digest(self, content: MailContent) -> Letter:
        day = format_date(content.day, "long") if content.day else ""
        count = len(content.items) + content.more
        subject = ngettext(
            "Your notifications of %(day)s: %(num)d",
            "Your notifications of %(day)s: %(num)d",
            count,
            day=day,
        )
        items = []
        for item in content.items:
            what = str(notices.NOTICE_TEXTS.get(item.topic, ""))
            if item.reference:
                what = gettext("%(what)s (case %(reference)s)", what=what, reference=item.reference)
            items.append((format_datetime(item.at, "short"), what, item.urgent))
        paragraphs = [gettext("What happened on %(day)s:", day=day)]
        footer = []
        if content.more:
            footer.append(
                ngettext(
                    "And %(num)d more in your inbox.",
                    "And %(num)d more in your inbox.",
                    content.more,
                )
            )
        footer.append(_no_content())
        return Letter(
            lang=content.language,
            subject=subject,
            paragraphs=paragraphs,
            link_text=gettext("Sign in to see it:"),
            link=self.settings.staff_url + INBOX_PATH,
            items=items,
            footer=footer,
        )

    def _complainant(self, content: MailContent) -> Letter:
        reference = content.reference or ""
        return Letter(
            lang=content.language,
            subject=gettext("News about your complaint %(reference)s", reference=reference),
            paragraphs=[str(notices.COMPLAINANT_TEXTS[content.topic])],
            link_text=gettext("Read it on the follow-up page, with your receipt code:"),
            link=self.settings.public_base_url + FOLLOW_UP,
            footer=[
                gettext(
                    "To protect you, this e-mail says nothing of your complaint. Never send your receipt code to anyone."
                )
            ],
        )


def _when(moment: datetime) -> str:
    return str(format_datetime(moment, "long"))


def _no_content() -> str:
    return str(
        gettext(
            "This e-mail holds nothing of the case. You choose which notifications are e-mailed to you on your account page."
        )
    )


def transport_for(settings: Settings) -> MailTransport | None:
    """SMTP when configured; files under `instance/mail/` outside production; else none."""
    if settings.smtp is not None:
        return SmtpTransport(settings.smtp)
    if settings.env != "production":
        return DirectoryTransport(settings.instance_path / "mail")
    return None
