"""DESIGN invariant 1, end to end: a complaint filed through the web with a name, a phone
number, an e-mail address and a statement leaves none of them in the database file, the
application log, or any page but the complainant's own follow-up.

A second complainant chooses e-mail, a reviewer writes to them and the worker mails the
notice through a real SMTP server: their address is in no table, dump or log in clear
either (sealed in the vault, sealed in the mail outbox and emptied once sent).

This runs on an app of its own with a SQLite file, so that what is committed is really on
disk (the rest of the suite rolls every test back). On PostgreSQL (`DATABASE_URL`), the
same complaint goes into a database created for the test, and `pg_dump` of it (data
only, and the whole plain dump) is scanned the same way: what a backup holds."""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import URL, create_engine, make_url, select, text
from sqlalchemy.pool import NullPool
from werkzeug.test import TestResponse

from grievance import MIGRATIONS, create_app
from grievance.clock import FixedClock
from grievance.config import TEST_KDF, Settings
from grievance.crypto.keyring import Keyring
from grievance.extensions import db
from grievance.http.context import service_context
from grievance.http.mail import MailRenderer
from grievance.models import (
    AssignmentRole,
    Channel,
    Complainant,
    ContactChannel,
    MailMessage,
    Mechanism,
    User,
)
from grievance.services import mailbox, messages
from grievance.services.actors import Actor
from grievance.services.mail_transport import SmtpTransport
from tests.apps import surfaces
from tests.factories import assigned_ids, make_reviewer
from tests.smtp_server import MailSink, RunningServer, serve

NAME = "Shapla Begum Testname"
PHONE = "+8801712345678"
EMAIL = "shapla.testname@example.org"
STATEMENT = "Supervisor Karim hit me on 3 March, line 9; উনি আমাকে মেরেছেন।"
SECRETS = (NAME, PHONE, EMAIL, STATEMENT, "1712345678", "Testname", "উনি আমাকে মেরেছেন")
#: The phone number's digits as the database would hold them (E.164 without its '+').
PHONE_DIGITS = ("8801712345678", "01712345678", "1712345678")


def _migrate_with_mechanism(app: Flask, clock: FixedClock) -> None:
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        db.session.add(
            Mechanism(
                code="IDN",
                name="Identity test mechanism",
                sector="textile",
                created_at=clock.now(),
            )
        )
        db.session.commit()
        db.session.remove()


def _settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        env="test",
        secret_key="identity-test-secret-key-32-characters",
        database_url=database_url,
        public_base_url="http://localhost",
        instance_path=tmp_path,
        kdf=TEST_KDF,
    )


@pytest.fixture
def file_app(tmp_path: Path, keyring: Keyring, clock: FixedClock) -> Iterator[Flask]:
    settings = _settings(tmp_path, f"sqlite:///{tmp_path / 'intake.sqlite3'}")
    app = create_app(settings, clock=clock, keyring=keyring)
    _migrate_with_mechanism(app, clock)
    try:
        yield app
    finally:
        for surface in surfaces(app):  # the staff app's pool too: its pages were visited
            with surface.app_context():
                db.engine.dispose()


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match
    return match.group(1)


@dataclass
class Filed:
    receipt: TestResponse
    code: str
    reference: str
    pages: list[str]


def _file_and_follow(app: Flask) -> Filed:
    """File the complaint through the form, follow it with its code, visit the pages."""
    client = app.test_client()
    form = client.get("/complaint?lang=en").get_data(as_text=True)
    receipt = client.post(
        "/complaint?lang=en",
        follow_redirects=True,
        data={
            "csrf_token": _token(form),
            "mechanism": "IDN",
            "statement": STATEMENT,
            "urgent": "yes",
            "kind": "affected",
            "anonymity": "confidential",
            "name": NAME,
            "contact": "sms",
            "phone": PHONE,
            "email": EMAIL,
        },
    )
    page = receipt.get_data(as_text=True)
    assert receipt.status_code == 200, page
    code = re.search(r'class="receipt-code"[^>]*><strong>([0-9 ]+)</strong>', page)
    reference = re.search(r"IDN-[0-9]{4}-[0-9]{5}", page)
    assert code
    assert reference

    # the complainant's own follow-up shows their words back to them
    follower = app.test_client()
    sign_in = follower.get("/follow-up").get_data(as_text=True)
    follower.post("/follow-up", data={"csrf_token": _token(sign_in), "code": code.group(1)})

    pages = [
        client.get(path).get_data(as_text=True)
        for path in ("/", "/procedure/IDN", "/complaint", "/follow-up", "/healthz")
    ]
    return Filed(receipt, code.group(1).replace(" ", ""), reference.group(0), pages)


def _email_notice(app: Flask, smtp: RunningServer) -> None:
    """A second complainant chooses e-mail; a reviewer writes to them; the worker mails
    the notice through a real SMTP server. Their address went through the form, the
    vault, the mail outbox and the SMTP conversation, and nowhere else."""
    with app.app_context():
        ctx = service_context()
        make_reviewer(ctx, languages=["en"]), make_reviewer(ctx, languages=["en"])
        db.session.commit()
    client = app.test_client()
    form = client.get("/complaint?lang=en").get_data(as_text=True)
    response = client.post(
        "/complaint?lang=en",
        follow_redirects=True,
        data={
            "csrf_token": _token(form),
            "mechanism": "IDN",
            "statement": STATEMENT,
            "urgent": "no",
            "kind": "affected",
            "anonymity": "confidential",
            "name": NAME,
            "contact": "email",
            "email": EMAIL,
        },
    )
    assert response.status_code == 200
    with app.app_context():
        ctx = service_context()
        complainant = db.session.scalars(
            select(Complainant).where(Complainant.contact_channel == ContactChannel.EMAIL)
        ).one()
        case = complainant.case
        reviewer = db.session.get_one(User, assigned_ids(ctx, case)[AssignmentRole.LEAD])
        messages.add_message(
            ctx, case, Actor.for_user(reviewer), "Please call us.", Channel.WEB, complainant
        )
        db.session.commit()
        waiting = db.session.scalars(
            select(MailMessage).where(MailMessage.complainant_id == complainant.id)
        ).one()
        assert waiting.address_enc  # sealed while it waits
        report = mailbox.drain(
            ctx, SmtpTransport(smtp.address()), MailRenderer(app), sender="noreply@example.org"
        )
        assert report.failed == 0
        db.session.commit()
    (notice,) = smtp.sink.to(EMAIL)
    assert "Please call us." not in notice.data.decode()
    assert STATEMENT not in notice.part("plain")


@pytest.fixture
def smtp() -> Iterator[RunningServer]:
    yield from serve(MailSink())


def _assert_nowhere_in_clear(filed: Filed, caplog: pytest.LogCaptureFixture) -> None:
    # every log line of the application; the SMTP server of the test ("mail.log") stands
    # for the recipient's mail server, whose log is not ours
    ours = "\n".join(
        f"{record.name} {record.getMessage()}"
        for record in caplog.records
        if not record.name.startswith("mail.log")
    )
    for secret in SECRETS:
        assert secret not in ours, secret
        for page in filed.pages:
            assert secret not in page, secret
        assert secret not in str(filed.receipt.headers)


def test_a_filed_identity_is_nowhere_in_clear(
    file_app: Flask, tmp_path: Path, caplog: pytest.LogCaptureFixture, smtp: RunningServer
) -> None:
    caplog.set_level(logging.DEBUG)
    filed = _file_and_follow(file_app)
    _email_notice(file_app, smtp)
    with file_app.app_context():
        db.engine.dispose()  # close connections: everything is in the file (and its WAL)
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("intake.sqlite3*"))
    assert b"IDN" in stored  # the scan does read the database
    for secret in SECRETS:
        assert secret.encode() not in stored, secret
    assert filed.code.encode() not in stored
    _assert_nowhere_in_clear(filed, caplog)


# -- PostgreSQL: what pg_dump (a backup) holds ----------------------------------------------


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.fixture
def pg_database(settings: Settings) -> Iterator[URL]:
    """A database of its own, created for the test and dropped after it: the complaint is
    committed, and the suite's database is shared and rolled back per test."""
    suite = make_url(settings.database_url)
    if suite.get_backend_name() != "postgresql":
        pytest.skip(
            "needs PostgreSQL (DATABASE_URL): scans a pg_dump; on SQLite the test above "
            "scans the database file"
        )
    if shutil.which("pg_dump") is None:
        pytest.fail("pg_dump not found: PostgreSQL's client tools are needed on PostgreSQL")
    name = f"{suite.database}_identity_{secrets.token_hex(4)}"
    admin = create_engine(suite, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {_quoted(name)}"))
    try:
        yield suite.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {_quoted(name)} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def pg_app(
    pg_database: URL, tmp_path: Path, keyring: Keyring, clock: FixedClock
) -> Iterator[Flask]:
    url = pg_database.render_as_string(hide_password=False)
    app = create_app(_settings(tmp_path, url), clock=clock, keyring=keyring)
    _migrate_with_mechanism(app, clock)
    try:
        yield app
    finally:
        for surface in surfaces(app):  # the staff app's pool too: its pages were visited
            with surface.app_context():
                db.engine.dispose()


def _pg_dump(database: URL, *options: str) -> bytes:
    """`pg_dump` of the database to stdout; the password (if any) through the environment,
    never on the command line."""
    environment = dict(os.environ)
    if database.password:
        environment["PGPASSWORD"] = str(database.password)
    arguments = ["pg_dump", "--no-password", *options, "--dbname", str(database.database)]
    if database.host:
        arguments += ["--host", database.host]
    if database.port:
        arguments += ["--port", str(database.port)]
    if database.username:
        arguments += ["--username", database.username]
    done = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        arguments, capture_output=True, env=environment, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


@pytest.mark.postgres
def test_a_filed_identity_is_nowhere_in_a_pg_dump(
    pg_app: Flask, pg_database: URL, caplog: pytest.LogCaptureFixture, smtp: RunningServer
) -> None:
    caplog.set_level(logging.DEBUG)
    filed = _file_and_follow(pg_app)
    _email_notice(pg_app, smtp)
    with pg_app.app_context():
        salt = db.session.scalars(text("SELECT salt FROM receipt_scheme")).one()
        db.session.remove()
        db.engine.dispose()
    for options in (["--data-only"], ["--format=plain"]):
        dump = _pg_dump(pg_database, *options)
        # the scan does read this database, its case rows and bytea columns (in hex)
        assert b"Identity test mechanism" in dump, options
        assert filed.reference.encode() in dump, options
        assert bytes(salt).hex().encode() in dump, options
        for secret in (*SECRETS, *PHONE_DIGITS, filed.code):
            for form in (secret.encode(), secret.encode().hex().encode()):
                assert form not in dump, (options, secret, form)
    _assert_nowhere_in_clear(filed, caplog)
