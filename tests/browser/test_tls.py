"""The app served over TLS on loopback, as production serves it (issue #12, item 1): a
complaint is filed, followed with its receipt code and answered with a message, and a
reviewer signs in with an authenticator code and acts on the case. Every POST must pass
the CSRF checks, the https origin check among them (it needs the browser's Referer).

The certificate is made at test time with `cryptography`, for 127.0.0.1; the browser
context is told to accept it.
"""

from __future__ import annotations

import ipaddress
import secrets
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from flask_migrate import upgrade
from playwright.sync_api import Browser, Page
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from grievance import MIGRATIONS, create_app
from grievance.config import TEST_KDF, Settings
from grievance.crypto.keyring import Keyring
from grievance.crypto.secrets import hash_password
from grievance.demo import load_demo
from grievance.extensions import db
from grievance.http.context import service_context
from grievance.models import Assignment, AssignmentRole, Case, Stage, User
from grievance.services import accounts
from tests.browser.conftest import REFERENCE, STATEMENT, QuietHandler, fill_complaint, submit
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass(frozen=True)
class TlsServer:
    url: str
    app: Flask


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = _certificate(folder)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server: BaseWSGIServer | None = None
    # the port is known only once bound: bind first, then build the app for that address
    probe = make_server("127.0.0.1", 0, Flask("probe"), request_handler=QuietHandler)
    port = probe.server_port
    probe.server_close()
    settings = Settings(
        env="test",
        secret_key="tls-browser-test-secret-key-of-32-characters",
        database_url=f"sqlite:///{folder / 'tls.sqlite3'}",
        public_base_url=f"https://127.0.0.1:{port}",
        instance_path=folder,
        kdf=TEST_KDF,
    )
    app = create_app(settings, keyring=Keyring.generate())
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        load_demo(service_context())
        db.session.commit()
        db.session.remove()
    server = make_server(
        "127.0.0.1", port, app, threaded=True, request_handler=QuietHandler, ssl_context=context
    )
    thread = threading.Thread(target=server.serve_forever, name="tls-server", daemon=True)
    thread.start()
    try:
        yield TlsServer(f"https://127.0.0.1:{port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


def _lead_reviewer_of(server: TlsServer, reference: str) -> tuple[str, bytes]:
    """The case's lead reviewer, given a known password and a fresh authenticator seed."""
    with server.app.app_context():
        ctx = service_context()
        case = ctx.session.scalars(select(Case).where(Case.reference == reference)).one()
        lead = ctx.session.scalars(
            select(User)
            .join(Assignment, Assignment.reviewer_id == User.id)
            .where(
                Assignment.case_id == case.id,
                Assignment.role == AssignmentRole.LEAD,
                Assignment.ended_at.is_(None),
            )
        ).one()
        lead.password_hash = hash_password(PASSWORD, ctx.kdf)
        secret = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
        accounts.enrol_totp_secret(ctx, lead, secret, last_step=None)
        db.session.commit()
        email = lead.email
        db.session.remove()
    return email, secret


def _stage(server: TlsServer, reference: str) -> Stage:
    with server.app.app_context():
        stage = db.session.scalars(select(Case.stage).where(Case.reference == reference)).one()
        db.session.remove()
    return stage


def _posted(page: Page, action: str, expected: int = 200) -> None:
    status = submit(page, action)
    assert status == expected, f"POST {action}: {status}\n{page.locator('main').inner_text()}"


def test_every_post_succeeds_over_tls(browser: Browser, tls_server: TlsServer) -> None:
    complainant = browser.new_context(
        base_url=tls_server.url, ignore_https_errors=True, java_script_enabled=False
    )
    try:
        page = complainant.new_page()
        assert page.goto("/complaint?lang=en").ok
        fill_complaint(page, STATEMENT)
        _posted(page, "/complaint")
        code = page.locator(".receipt-code").inner_text().strip()
        found = REFERENCE.search(page.locator("main").inner_text())
        assert found, "no case reference on the receipt page"
        reference = found.group(0)
        cookies = {cookie["name"]: cookie for cookie in complainant.cookies()}
        assert cookies["__Host-intake"]["secure"]

        page.goto("/follow-up?lang=en")
        page.fill("#code", code)
        _posted(page, "/follow-up")
        assert reference in page.locator("main").inner_text()
        page.fill("textarea[name=body]", "Over TLS: the supervisor said it again today.")
        _posted(page, "/follow-up/case")
        assert "Over TLS" in page.locator("main").inner_text()
    finally:
        complainant.close()

    email, secret = _lead_reviewer_of(tls_server, reference)
    reviewer = browser.new_context(base_url=tls_server.url, ignore_https_errors=True)
    try:
        page = reviewer.new_page()
        page.goto("/staff/sign-in?lang=en")
        page.fill("input[type=email]", email)
        page.fill("input[type=password]", PASSWORD)
        _posted(page, "/staff/sign-in")
        page.fill(
            "input[name=code]",
            accounts.totp_code(secret, accounts.totp_step(datetime.now(UTC))),
        )
        _posted(page, "/staff/sign-in/code")
        assert "/staff/sign-in" not in page.url, page.locator("main").inner_text()
        page.goto(f"/staff/reviewer/cases/{reference}?lang=en")
        assert "Over TLS" in page.locator("main").inner_text()
        page.locator("#form-acknowledge button[type=submit]").click()
        page.wait_for_load_state()
        assert _stage(tls_server, reference) is Stage.ACKNOWLEDGED
        assert "page expired" not in page.locator("main").inner_text().lower()
    finally:
        reviewer.close()
