"""The restore drill (issue 17): a small database and its key ring backed up, both
destroyed, both restored; then every sealed identity opens, every receipt code opens its
case, every chain verifies. SQLite in `make test`; PostgreSQL when DATABASE_URL names one
(its tables are dropped and restored: the test database)."""

from __future__ import annotations

import os

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text

from grievance import MIGRATIONS
from grievance.drill import FILED, run_drill
from grievance.extensions import db


def _schema_afresh(app: Flask) -> None:
    """The test database as the suite made it (tests/conftest.py `_app`): the drill
    restored the demo's rows into it, and later tests count cases from none."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        upgrade(directory=str(MIGRATIONS))
        db.session.remove()


def test_a_backup_of_the_database_and_the_key_ring_restores_everything(tmp_path, request):
    url = os.environ.get("DATABASE_URL")
    postgresql = bool(url and url.startswith("postgresql"))
    try:
        report = run_drill(url if postgresql else None, tmp_path)
    finally:
        if postgresql:
            _schema_afresh(request.getfixturevalue("_app"))
    assert report.passed, str(report)
    assert report.codes == FILED
    assert report.cases >= 31 + FILED  # the demo's and the drill's
    assert report.sealed_fields > report.cases  # statements and identities
    assert not (tmp_path / "backup" / "keyring.json").samefile(tmp_path / "live-keyring.json")


def test_the_drill_fails_without_the_key_ring(tmp_path, monkeypatch):
    """A backup of the database alone restores nobody: with another key ring nothing
    sealed opens and no code opens its case."""
    from grievance import drill
    from grievance.crypto.keyring import Keyring

    real = drill.Keyring.from_json

    def other_ring(text, source="key ring"):
        if source != "key ring":  # the restored one
            return Keyring.generate()
        return real(text, source)

    monkeypatch.setattr(drill.Keyring, "from_json", other_ring)
    report = run_drill(None, tmp_path)
    assert not report.passed
    assert report.codes == 0
    assert report.problems
