"""How mails leave: SMTP with STARTTLS when offered, STARTTLS required, TLS at once, a
password only over TLS, errors by reply code only; `.eml` files for development; the
worker's mail job."""

from __future__ import annotations

import email
import email.policy
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from grievance.config import Settings, SmtpServer
from grievance.http.mail import transport_for
from grievance.models import MailMessage, OutboxStatus
from grievance.scheduler import JOBS, run_job
from grievance.services.mail_content import MailError, RenderedMail, build_message
from grievance.services.mail_transport import DirectoryTransport, SmtpTransport
from tests.factories import make_mechanism, make_reviewer, new_case
from tests.smtp_server import Certificate, MailSink, RunningServer, make_certificate, serve

TO = "someone@example.org"


def _message(subject: str = "Hello") -> object:
    rendered = RenderedMail(subject, "Text part.", "<p>HTML part.</p>")
    return build_message(rendered, "Mechanism <noreply@example.org>", TO, datetime.now(UTC), "en")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def plain() -> Iterator[RunningServer]:
    yield from serve(MailSink())


@pytest.fixture
def starttls(certificate: Certificate) -> Iterator[RunningServer]:
    sink = MailSink()
    yield from serve(
        sink,
        tls_context=certificate.server_context(),
        require_starttls=True,
        authenticator=sink.authenticate,
    )


@pytest.fixture
def implicit_tls(certificate: Certificate) -> Iterator[RunningServer]:
    yield from serve(MailSink(), ssl_context=certificate.server_context())


def test_a_plain_server_takes_the_mail(plain):
    SmtpTransport(plain.address()).send(_message())
    (mail,) = plain.sink.received
    assert mail.recipients == [TO]
    assert mail.part("plain").strip() == "Text part."


def test_starttls_is_taken_when_required_and_the_certificate_is_checked(starttls, certificate):
    SmtpTransport(starttls.address("smtp+starttls"), ssl_context=certificate.client_context()).send(
        _message()
    )
    assert len(starttls.sink.received) == 1
    # a certificate nobody vouches for is refused, and nothing is sent
    with pytest.raises(MailError) as refused:
        SmtpTransport(starttls.address("smtp+starttls")).send(_message())
    assert (refused.value.code, refused.value.temporary) == ("tls", True)
    assert len(starttls.sink.received) == 1


def test_smtp_takes_starttls_when_offered_without_checking_the_certificate(starttls):
    SmtpTransport(starttls.address("smtp")).send(_message())  # opportunistic
    assert len(starttls.sink.received) == 1


def test_starttls_required_but_not_offered_sends_nothing(plain):
    with pytest.raises(MailError) as refused:
        SmtpTransport(plain.address("smtp+starttls")).send(_message())
    assert (refused.value.code, refused.value.temporary) == ("no-starttls", True)
    assert plain.sink.received == []


def test_smtps_speaks_tls_from_the_start(implicit_tls, certificate):
    SmtpTransport(implicit_tls.address("smtps"), ssl_context=certificate.client_context()).send(
        _message()
    )
    assert len(implicit_tls.sink.received) == 1


def test_a_password_goes_only_over_tls(plain, starttls, certificate):
    with pytest.raises(MailError) as refused:
        SmtpTransport(plain.address("smtp", ("mailer", "right password"))).send(_message())
    assert refused.value.code == "no-tls-for-password"
    assert plain.sink.received == []
    transport = SmtpTransport(
        starttls.address("smtp+starttls", ("mailer", "right password")),
        ssl_context=certificate.client_context(),
    )
    transport.send(_message())
    assert starttls.sink.logins == [("mailer", "right password")]
    assert len(starttls.sink.received) == 1


def test_refusals_say_their_code_and_never_the_address(plain):
    plain.sink.refuse[TO] = f"550 5.1.1 <{TO}>: unknown"
    with pytest.raises(MailError) as refused:
        SmtpTransport(plain.address()).send(_message())
    assert refused.value.code == "550"
    assert refused.value.refused_recipient
    assert not refused.value.temporary
    assert TO not in str(refused.value)
    plain.sink.refuse[TO] = "452 4.2.2 mailbox full"
    with pytest.raises(MailError) as refused:
        SmtpTransport(plain.address()).send(_message())
    assert refused.value.temporary
    assert not refused.value.refused_recipient


def test_no_server_is_a_temporary_failure():
    from tests.smtp_server import free_port

    with pytest.raises(MailError) as refused:
        SmtpTransport(SmtpServer("smtp", "127.0.0.1", free_port()), timeout=2).send(_message())
    assert refused.value.temporary


def test_development_writes_each_mail_as_an_eml_file(tmp_path: Path):
    DirectoryTransport(tmp_path / "mail").send(_message("Files"))
    (path,) = (tmp_path / "mail").glob("*.eml")
    assert TO not in path.name
    assert path.stat().st_mode & 0o777 == 0o600
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Files"


def _settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(
        env=values.pop("env", "test"),  # type: ignore[arg-type]
        secret_key="x" * 40,
        database_url="sqlite://",
        public_base_url="https://complaints.example.org",
        instance_path=tmp_path,
        **values,  # type: ignore[arg-type]
    )


def test_the_transport_follows_the_settings(tmp_path: Path):
    assert isinstance(transport_for(_settings(tmp_path)), DirectoryTransport)
    server = SmtpServer("smtp", "mail.example.org", 25)
    assert isinstance(transport_for(_settings(tmp_path, smtp=server)), SmtpTransport)
    assert transport_for(_settings(tmp_path, env="production")) is None  # mails wait


def test_the_worker_sends_what_waits(app, ctx, tmp_path, caplog):
    mechanism = make_mechanism(ctx, code="JOB")
    make_reviewer(ctx, languages=["bn"]), make_reviewer(ctx, languages=["bn"])
    new_case(ctx, mechanism)
    ctx.session.flush()
    folder = tmp_path / "worker-mail"
    app.extensions["grievance.mail_transport"] = DirectoryTransport(folder)
    caplog.set_level(logging.INFO, logger="grievance.scheduler")
    try:
        (job,) = [job for job in JOBS if job.name == "mail"]
        run_job(app, job)
    finally:
        del app.extensions["grievance.mail_transport"]
    assert len(list(folder.glob("*.eml"))) == 2
    assert "worker: mail done: 2 sent, 0 to retry, 0 failed (0 refused), 0 cancelled" in (
        caplog.messages
    )
    statuses = ctx.session.scalars(select(MailMessage.status)).all()
    assert statuses == [OutboxStatus.SENT, OutboxStatus.SENT]


def test_production_without_smtp_says_so_once_and_keeps_the_mails(app, ctx, caplog):
    from dataclasses import replace

    from grievance.http.context import AppServices, app_services, install

    mechanism = make_mechanism(ctx, code="WAI")
    make_reviewer(ctx, languages=["bn"]), make_reviewer(ctx, languages=["bn"])
    new_case(ctx, mechanism)
    ctx.session.flush()
    services = app_services(app)
    install(app, AppServices(replace(services.settings, env="production"), services.clock,
                             services.keyring))  # fmt: skip
    caplog.set_level(logging.INFO, logger="grievance.scheduler")
    try:
        (job,) = [job for job in JOBS if job.name == "mail"]
        run_job(app, job)
        run_job(app, job)
    finally:
        install(app, services)
        app.extensions.pop("grievance.mail_unset_said", None)
    said = [m for m in caplog.messages if "SMTP_URL is not set" in m]
    assert said == ["worker: SMTP_URL is not set: e-mails wait in the outbox"]
    statuses = ctx.session.scalars(select(MailMessage.status)).all()
    assert statuses == [OutboxStatus.PENDING, OutboxStatus.PENDING]
