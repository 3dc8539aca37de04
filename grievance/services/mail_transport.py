"""How mails leave: SMTP (`SMTP_URL`), or files under `instance/mail/` for development.

`SmtpTransport` opens one connection per message (the worker sends a few at a time) and
says what went wrong as a `mailbox.MailError`: a 5xx at RCPT refuses the address for
good; other 5xx replies are final; 4xx replies, lost connections and timeouts are worth
another try. Neither the server's text nor the exception's (they may name the address)
reaches the error: only the reply code.

TLS (`config.SmtpServer`): `smtp+starttls://` requires STARTTLS and `smtps://` speaks TLS
from the start, both checking the server's certificate and host name; `smtp://` takes
STARTTLS when the server offers it, without checking the certificate (opportunistic, as
mail servers do between themselves), and sends a password only over TLS.
"""

from __future__ import annotations

import os
import secrets
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from grievance.config import SmtpServer
from grievance.services.mail_content import MailError

TIMEOUT_SECONDS = 30


class SmtpTransport:
    def __init__(
        self,
        server: SmtpServer,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.server = server
        self.timeout = timeout
        #: Checks certificates (the system's authorities unless a test gives its own).
        self.verified = ssl_context or ssl.create_default_context()

    def _opportunistic(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        if server.scheme == "smtps":
            return smtplib.SMTP_SSL(
                server.host, server.port, timeout=self.timeout, context=self.verified
            )
        client = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        try:
            client.ehlo()
            if client.has_extn("starttls"):
                context = self.verified if server.requires_tls else self._opportunistic()
                client.starttls(context=context)
                client.ehlo()
            elif server.requires_tls:
                raise MailError("no-starttls", temporary=True)
        except BaseException:
            client.close()
            raise
        return client

    def send(self, message: EmailMessage) -> None:
        try:
            client = self._connect()
        except MailError:
            raise
        except smtplib.SMTPResponseException as error:
            raise _reply_error(error.smtp_code) from None
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(_word(error), temporary=True) from None
        try:
            self._login(client)
            refused = client.send_message(message)
            if refused:  # some recipients refused, others taken: one recipient per mail
                raise _refusal(next(iter(refused.values()))[0])
        except smtplib.SMTPRecipientsRefused as error:
            raise _refusal(next(iter(error.recipients.values()))[0]) from None
        except smtplib.SMTPResponseException as error:
            raise _reply_error(error.smtp_code) from None
        except (OSError, smtplib.SMTPException) as error:
            raise MailError(_word(error), temporary=True) from None
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()

    def _login(self, client: smtplib.SMTP) -> None:
        server = self.server
        if server.username is None or server.password is None:
            return
        if not isinstance(client.sock, ssl.SSLSocket):
            raise MailError("no-tls-for-password", temporary=True)
        client.login(server.username, server.password)


def _refusal(code: int) -> MailError:
    """A recipient refused at RCPT: for good (5xx), or for now (4xx)."""
    permanent = 500 <= code < 600
    return MailError(str(code), temporary=not permanent, refused_recipient=permanent)


def _reply_error(code: int) -> MailError:
    return MailError(str(code), temporary=not 500 <= code < 600)


def _word(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, ssl.SSLError):
        return "tls"
    if isinstance(error, smtplib.SMTPServerDisconnected | ConnectionError):
        return "disconnected"
    return "connection"


class DirectoryTransport:
    """Each message as one `.eml` file in a folder (development: `instance/mail/`), readable
    by any mail program. The file's name says when, never to whom."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = self.folder / f"{stamp}-{secrets.token_hex(4)}.eml"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(message.as_bytes())
