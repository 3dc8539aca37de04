"""DESIGN invariant 1, end to end: a complaint filed through the web with a name, a phone
number, an e-mail address and a statement leaves none of them in the database file, the
application log, or any page but the complainant's own follow-up.

This runs on an app of its own with a SQLite file, so that what is committed is really on
disk (the rest of the suite rolls every test back)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade

from grievance import MIGRATIONS, create_app
from grievance.config import TEST_KDF, Settings
from grievance.extensions import db
from grievance.models import Mechanism

NAME = "Shapla Begum Testname"
PHONE = "+8801712345678"
EMAIL = "shapla.testname@example.org"
STATEMENT = "Supervisor Karim hit me on 3 March, line 9; উনি আমাকে মেরেছেন।"
SECRETS = (NAME, PHONE, EMAIL, STATEMENT, "1712345678", "Testname", "উনি আমাকে মেরেছেন")


@pytest.fixture
def file_app(tmp_path: Path, keyring, clock) -> Iterator[Flask]:
    settings = Settings(
        env="test",
        secret_key="identity-test-secret-key-32-characters",
        database_url=f"sqlite:///{tmp_path / 'intake.sqlite3'}",
        public_base_url="http://localhost",
        instance_path=tmp_path,
        kdf=TEST_KDF,
    )
    app = create_app(settings, clock=clock, keyring=keyring)
    with app.app_context():
        upgrade(directory=str(MIGRATIONS))
        db.session.add(
            Mechanism(
                code="IDN",
                name="Identity test mechanism",
                sector="textile",
                receipt_salt=b"identity-salt-16",
                created_at=clock.now(),
            )
        )
        db.session.commit()
        db.session.remove()
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_a_filed_identity_is_nowhere_in_clear(file_app, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    client = file_app.test_client()
    form = client.get("/complaint?lang=en").get_data(as_text=True)
    receipt = client.post(
        "/complaint?lang=en",
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
    assert receipt.status_code == 200, receipt.get_data(as_text=True)
    code = re.search(
        r'class="receipt-code"[^>]*><strong>([0-9 ]+)</strong>', receipt.get_data(as_text=True)
    )
    assert code

    # the complainant's own follow-up shows their words back to them
    follower = file_app.test_client()
    sign_in = follower.get("/follow-up").get_data(as_text=True)
    follower.post("/follow-up", data={"csrf_token": _token(sign_in), "code": code.group(1)})

    pages = [
        client.get(path).get_data(as_text=True)
        for path in ("/", "/procedure/IDN", "/complaint", "/follow-up", "/healthz")
    ]
    with file_app.app_context():
        db.engine.dispose()  # close connections: everything is in the file (and its WAL)
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("intake.sqlite3*"))
    assert b"IDN" in stored  # the scan does read the database
    for secret in SECRETS:
        assert secret.encode() not in stored, secret
        assert secret not in caplog.text, secret
        for page in pages:
            assert secret not in page, secret
        assert secret not in str(receipt.headers)
    assert code.group(1).replace(" ", "").encode() not in stored
