"""The migrations build exactly the schema the models describe, and can be undone."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from grievance import MIGRATIONS, create_app
from grievance.config import TEST_KDF, Settings
from grievance.extensions import db


def schema_differences(app: Flask, connection: Any) -> list[Any]:
    """What `flask db migrate` would generate, with the project's own options."""
    options = app.extensions["migrate"].configure_args
    context = MigrationContext.configure(
        connection=connection,
        opts={
            "compare_type": options["compare_type"],
            "render_as_batch": options["render_as_batch"],
            "target_metadata": db.metadata,
        },
    )
    return compare_metadata(context, db.metadata)


def script_directory() -> ScriptDirectory:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config)


def test_upgraded_schema_matches_the_models(app, session):
    assert app.extensions["migrate"].configure_args["compare_type"] is True
    assert schema_differences(app, session.connection()) == []


def test_the_test_database_is_at_head(app, session):
    heads = script_directory().get_heads()
    assert len(heads) == 1, "migrations have branched: merge them"
    current = session.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert current == heads


def test_schema_differences_are_found(app, session):
    """The comparison is not blind: a column the models do not know is reported."""
    session.execute(text("ALTER TABLE mechanism ADD COLUMN stray INTEGER"))
    differences = schema_differences(app, session.connection())
    assert [(item[0], item[3].name) for item in differences] == [("remove_column", "stray")]


# -- down and up again, on a database of its own ------------------------------------------------


@pytest.fixture
def scratch_app(tmp_path: Path, keyring, clock) -> Iterator[Flask]:
    settings = Settings(
        env="test",
        secret_key="migration-test-secret-key-32-characters",
        database_url=f"sqlite:///{tmp_path / 'migrations.sqlite3'}",
        public_base_url="http://localhost",
        instance_path=tmp_path,
        kdf=TEST_KDF,
    )
    app = create_app(settings, clock=clock, keyring=keyring)
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def _tables(app: Flask) -> set[str]:
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


def _version(app: Flask) -> list[str]:
    with app.app_context(), db.engine.connect() as connection:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def test_downgrade_to_base_and_upgrade_to_head(scratch_app):
    model_tables = set(db.metadata.tables)
    head = script_directory().get_current_head()

    with scratch_app.app_context():
        upgrade(directory=str(MIGRATIONS))
    assert _tables(scratch_app) == model_tables | {"alembic_version"}
    assert _version(scratch_app) == [head]

    with scratch_app.app_context():
        downgrade(directory=str(MIGRATIONS), revision="base")
    assert _tables(scratch_app) == {"alembic_version"}
    assert _version(scratch_app) == []

    with scratch_app.app_context():
        upgrade(directory=str(MIGRATIONS))
    assert _tables(scratch_app) == model_tables | {"alembic_version"}
    assert _version(scratch_app) == [head]
    with scratch_app.app_context(), db.engine.connect() as connection:
        assert schema_differences(scratch_app, connection) == []


def test_each_revision_steps_down_and_up(scratch_app):
    revisions = list(reversed(list(script_directory().walk_revisions())))  # oldest first
    assert revisions
    with scratch_app.app_context():
        for revision in revisions:
            upgrade(directory=str(MIGRATIONS), revision=revision.revision)
            assert _version(scratch_app) == [revision.revision]
        for revision in reversed(revisions):
            downgrade(directory=str(MIGRATIONS), revision=revision.down_revision or "base")
            expected = [revision.down_revision] if revision.down_revision else []
            assert _version(scratch_app) == expected


def test_migrations_do_not_import_application_code():
    """Migrations must keep working when the models change: they import only alembic,
    sqlalchemy, a few modules of the standard library and the pinned RFC 8785 library
    (0021 re-chains the log: it carries its own copy of the hash form)."""
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in {
                    "alembic",
                    "sqlalchemy",
                    "__future__",
                    "datetime",
                    "hashlib",
                    "secrets",
                    "rfc8785",
                }, (
                    path.name,
                    name,
                )


# -- 0002 upgrades a database holding deadlines made at 0001 ------------------------------------

#: How a UTC timestamp is held in SQLite (naive, see `UTCDateTime`).
FILED = "2026-03-02 09:00:00.000000"


def _seed_at_0001(connection: Any) -> None:
    """A mechanism, a case and three deadlines (open, met, paused) as revision 0001 held
    them: raw SQL, because the models describe the newest schema."""
    connection.execute(
        text(
            "INSERT INTO mechanism (id, code, name, sector, publishes_cases, receipt_salt,"
            " created_at) VALUES (1, 'OLD', 'Old mechanism', 'textile', 1, :salt, :at)"
        ),
        {"salt": b"salt-OLD-0123456789", "at": FILED},
    )
    connection.execute(
        text(
            'INSERT INTO "case" (id, reference, mechanism_id, policy_version, channel, language,'
            " urgent, stage, stage_entered_at, received_at, statement_enc, published, legal_hold,"
            " event_count, log_head, created_at, updated_at) VALUES (1, 'OLD-2026-0001', 1, 0,"
            " 'web', 'bn', 0, 'acknowledged', :at, :at, :blob, 0, 0, 0, :head, :at, :at)"
        ),
        {"at": FILED, "blob": b"\x01sealed", "head": "0" * 64},
    )
    deadlines = [
        (1, "acknowledge", "2026-03-09 09:00:00.000000", "met", "2026-03-04 10:00:00.000000", None),
        (2, "admissibility", "2026-05-31 09:00:00.000000", "open", None, None),
        (3, "feedback", "2026-06-04 10:00:00.000000", "open", None, "2026-03-20 08:30:00.000000"),
    ]
    for number, code, due, state, closed, paused in deadlines:
        connection.execute(
            text(
                "INSERT INTO deadline (id, case_id, code, opened_at, due_at, state, closed_at,"
                " paused_at, note) VALUES (:id, 1, :code, :at, :due, :state, :closed, :paused, '')"
            ),
            {
                "id": number,
                "code": code,
                "at": FILED,
                "due": due,
                "state": state,
                "closed": closed,
                "paused": paused,
            },
        )


def test_0002_backfills_the_deadlines_made_at_0001(scratch_app):
    with scratch_app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0001")
        with db.engine.begin() as connection:
            _seed_at_0001(connection)
        upgrade(directory=str(MIGRATIONS), revision="0002")
    assert _version(scratch_app) == ["0002"]

    with scratch_app.app_context(), db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, code, due_at, state, closed_at, paused_at, remind_at, reminded_at,"
                " escalated_at, extended_days FROM deadline ORDER BY id"
            )
        ).all()
        assert [tuple(row) for row in rows] == [
            (
                1,
                "acknowledge",
                "2026-03-09 09:00:00.000000",
                "met",
                "2026-03-04 10:00:00.000000",
                None,
                "2026-03-09 09:00:00.000000",  # reminded when due: the share is policy
                None,
                None,
                0,
            ),
            (
                2,
                "admissibility",
                "2026-05-31 09:00:00.000000",
                "open",
                None,
                None,
                "2026-05-31 09:00:00.000000",
                None,
                None,
                0,
            ),
            (
                3,
                "feedback",
                "2026-06-04 10:00:00.000000",
                "open",
                None,
                "2026-03-20 08:30:00.000000",
                "2026-06-04 10:00:00.000000",
                None,
                None,
                0,
            ),
        ]
        case = connection.execute(text('SELECT reference, clock_paused_at FROM "case"')).one()
        assert tuple(case) == ("OLD-2026-0001", None)
        assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
        # remind_at is required from now on
        with pytest.raises(IntegrityError, match="remind_at"):
            connection.execute(
                text(
                    "INSERT INTO deadline (case_id, code, opened_at, due_at, state, note,"
                    " extended_days) VALUES (1, 'decision', :at, :at, 'open', '', 0)"
                ),
                {"at": FILED},
            )


# -- 0005 gives the cases filed before routing their queue keys ---------------------------------

#: id, urgent, reprisal risk, (scale, scope, irremediability, likelihood), themes
OLD_CASES: list[tuple[int, int, str | None, tuple[int, int, int, int] | None, list[str]]] = [
    (1, 0, None, None, ["living_wage"]),  # new, ordinary
    (2, 0, None, None, ["child_labour"]),  # new, an urgent theme
    (3, 1, None, None, []),  # new, someone in danger
    (4, 0, None, (3, 2, 2, 4), ["child_labour"]),  # assessed: not irremediable
    (5, 0, None, (2, 2, 5, 1), []),  # assessed: irremediable
    (6, 0, "high", (3, 2, 2, 4), []),  # a reprisal jumps the queue
]


def _seed_at_0004(connection: Any) -> None:
    connection.execute(
        text(
            "INSERT INTO mechanism (id, code, name, sector, publishes_cases, receipt_salt,"
            " created_at) VALUES (1, 'OLD', 'Old mechanism', 'textile', 1, :salt, :at)"
        ),
        {"salt": b"salt-OLD-0123456789", "at": FILED},
    )
    for number, urgent, risk, severity, themes in OLD_CASES:
        scale, scope, irremediability, likelihood = severity or (None, None, None, None)
        connection.execute(
            text(
                'INSERT INTO "case" (id, reference, mechanism_id, policy_version, channel,'
                " language, urgent, stage, stage_entered_at, received_at, statement_enc,"
                " published, legal_hold, event_count, log_head, created_at, updated_at,"
                " reprisal_risk, severity_scale, severity_scope, severity_irremediability,"
                " severity_likelihood) VALUES (:id, :reference, 1, 0, 'web', 'bn', :urgent,"
                " 'acknowledged', :at, :at, :blob, 0, 0, 0, :head, :at, :at, :risk, :scale,"
                " :scope, :irremediability, :likelihood)"
            ),
            {
                "id": number,
                "reference": f"OLD-2026-{number:04d}",
                "urgent": urgent,
                "at": FILED,
                "blob": b"\x01sealed",
                "head": "0" * 64,
                "risk": risk,
                "scale": scale,
                "scope": scope,
                "irremediability": irremediability,
                "likelihood": likelihood,
            },
        )
        for theme in themes:
            connection.execute(
                text("INSERT INTO case_theme (case_id, theme) VALUES (:id, :theme)"),
                {"id": number, "theme": theme},
            )
    deadlines = [  # case 1: met, paused, open, open; case 2: none running
        (1, 1, "acknowledge", "2026-03-01 09:00:00.000000", "met", None),
        (2, 1, "feedback", "2026-03-05 09:00:00.000000", "open", "2026-03-03 09:00:00.000000"),
        (3, 1, "admissibility", "2026-05-31 09:00:00.000000", "open", None),
        (4, 1, "progress_update", "2026-04-01 09:00:00.000000", "open", None),
        (5, 2, "acknowledge", "2026-03-09 09:00:00.000000", "waived", None),
    ]
    for number, case_id, code, due, state, paused in deadlines:
        connection.execute(
            text(
                "INSERT INTO deadline (id, case_id, code, opened_at, due_at, remind_at, state,"
                " paused_at, note, extended_days) VALUES (:id, :case_id, :code, :at, :due,"
                " :due, :state, :paused, '', 0)"
            ),
            {
                "id": number,
                "case_id": case_id,
                "code": code,
                "at": FILED,
                "due": due,
                "state": state,
                "paused": paused,
            },
        )


def test_0005_backfills_the_queue_keys(scratch_app):
    with scratch_app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0004")
        with db.engine.begin() as connection:
            _seed_at_0004(connection)
        upgrade(directory=str(MIGRATIONS), revision="0005")
    assert _version(scratch_app) == ["0005"]

    with scratch_app.app_context(), db.engine.connect() as connection:
        rows = connection.execute(
            text('SELECT id, queue_rank, next_due_at FROM "case" ORDER BY id')
        ).all()
    assert [tuple(row) for row in rows] == [
        (1, 1000, "2026-04-01 09:00:00.000000"),
        (2, 0, None),
        (3, 0, None),
        (4, 2081, None),
        (5, 64, None),
        (6, 81, None),
    ]


# -- 0010 hashes receipt codes by versioned schemes; older codes open nothing --------------------


def test_0010_leaves_the_older_codes_without_a_scheme_and_drops_the_mechanism_salts(scratch_app):
    with scratch_app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0004")
        with db.engine.begin() as connection:
            _seed_at_0004(connection)
        upgrade(directory=str(MIGRATIONS), revision="0009")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO complainant (id, case_id, anonymity, kind, language,"
                    " contact_channel, receipt_lookup, created_at) VALUES (1, 1, 'anonymous',"
                    " 'affected', 'bn', 'none', :lookup, :at)"
                ),
                {"lookup": "ab" * 32, "at": FILED},
            )
        upgrade(directory=str(MIGRATIONS), revision="0010")
    assert _version(scratch_app) == ["0010"]

    with scratch_app.app_context(), db.engine.connect() as connection:
        columns = {column["name"] for column in inspect(connection).get_columns("mechanism")}
        assert "receipt_salt" not in columns
        assert connection.execute(text("SELECT count(*) FROM receipt_scheme")).scalar() == 0
        row = connection.execute(
            text("SELECT receipt_lookup, receipt_scheme_version FROM complainant")
        ).one()
        assert tuple(row) == ("ab" * 32, None)  # kept, but no scheme: no code opens it
        assert connection.execute(text("PRAGMA foreign_key_check")).all() == []

    with scratch_app.app_context():
        downgrade(directory=str(MIGRATIONS), revision="0009")
    with scratch_app.app_context(), db.engine.connect() as connection:
        salts = connection.execute(text("SELECT receipt_salt FROM mechanism")).scalars().all()
        assert [len(salt) for salt in salts] == [16]  # a new random salt, required again
        columns = {column["name"] for column in inspect(connection).get_columns("complainant")}
        assert "receipt_scheme_version" not in columns
        assert "receipt_scheme" not in inspect(connection).get_table_names()


# -- 0011 keeps the users and notifications made before it --------------------------------------


def test_0011_gives_existing_users_and_notifications_what_they_had(scratch_app):
    with scratch_app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0010")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO user (id, email, display_name, role, password_hash, active,"
                    " must_change_password, created_at) VALUES (1, 'r@example.org', 'R',"
                    " 'reviewer', 'x', 1, 0, :at)"
                ),
                {"at": FILED},
            )
            connection.execute(
                text(
                    "INSERT INTO staff_notification (id, user_id, kind, created_at)"
                    " VALUES (1, 1, 'deadline_reminder', :at)"
                ),
                {"at": FILED},
            )
        upgrade(directory=str(MIGRATIONS), revision="0011")
    with scratch_app.app_context(), db.engine.begin() as connection:
        user = connection.execute(text("SELECT email_mode, language FROM user")).one()
        notice = connection.execute(
            text("SELECT urgent, digest_pending, mail_id, digest_mail_id FROM staff_notification")
        ).one()
        assert tuple(user) == ("immediate", "en")  # at once, in English, as before
        assert tuple(notice) == (0, 0, None, None)  # never mailed, and not now either
        with pytest.raises(IntegrityError), connection.begin_nested():  # one of three modes
            connection.execute(text("UPDATE user SET email_mode = 'hourly'"))
        connection.execute(
            text(
                "INSERT INTO mail_outbox (kind, topic, user_id, digest_day, language, status,"
                " attempts, next_attempt_at, created_at, updated_at) VALUES ('digest', 'digest',"
                " 1, '2026-03-02', 'en', 'pending', 0, :at, :at, :at)"
            ),
            {"at": FILED},
        )
        with pytest.raises(IntegrityError), connection.begin_nested():  # one digest a day
            connection.execute(
                text(
                    "INSERT INTO mail_outbox (kind, topic, user_id, digest_day, language,"
                    " status, attempts, next_attempt_at, created_at, updated_at) VALUES"
                    " ('digest', 'digest', 1, '2026-03-02', 'en', 'pending', 0, :at, :at, :at)"
                ),
                {"at": FILED},
            )
    with scratch_app.app_context():
        downgrade(directory=str(MIGRATIONS), revision="0010")
    with scratch_app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SELECT email FROM user")).scalar_one() == "r@example.org"
        assert connection.execute(text("SELECT kind FROM staff_notification")).scalar_one() == (
            "deadline_reminder"
        )
    assert "mail_outbox" not in _tables(scratch_app)


# -- 0014 keeps the complainant's follow-up sessions on the server -------------------------------


def test_0014_adds_the_follow_up_sessions_table_and_takes_it_away_again(scratch_app):
    before = script_directory().get_revision("0014").down_revision
    assert isinstance(before, str)
    with scratch_app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0004")
        with db.engine.begin() as connection:
            _seed_at_0004(connection)
        upgrade(directory=str(MIGRATIONS), revision=before)
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO complainant (id, case_id, anonymity, kind, language,"
                    " contact_channel, receipt_lookup, created_at) VALUES (1, 1, 'anonymous',"
                    " 'affected', 'bn', 'none', :lookup, :at)"
                ),
                {"lookup": "ab" * 32, "at": FILED},
            )
        assert "followup_session" not in _tables(scratch_app)
        upgrade(directory=str(MIGRATIONS), revision="0014")
    assert "followup_session" in _tables(scratch_app)

    with scratch_app.app_context(), db.engine.begin() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("followup_session")}
        assert columns == {
            "id",
            "token_hash",
            "complainant_id",
            "created_at",
            "last_seen_at",
            "revoked_at",
        }
        row = {"hash": b"\x01" * 32, "at": FILED}
        insert = text(
            "INSERT INTO followup_session (token_hash, complainant_id, created_at,"
            " last_seen_at) VALUES (:hash, 1, :at, :at)"
        )
        connection.execute(insert, row)
        with pytest.raises(IntegrityError), connection.begin_nested():
            connection.execute(insert, row)  # one row per token

    with scratch_app.app_context():
        downgrade(directory=str(MIGRATIONS), revision=before)
    assert "followup_session" not in _tables(scratch_app)
    assert _version(scratch_app) == [before]


# -- 0015 adds the partner applications' keys and their audit trail ------------------------------


def test_0015_adds_the_api_clients_and_their_trail_and_drops_them_again(scratch_app):
    below = script_directory().get_revision("0015").down_revision
    assert isinstance(below, str)
    with scratch_app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0004")
        with db.engine.begin() as connection:
            _seed_at_0004(connection)
        upgrade(directory=str(MIGRATIONS), revision=below)
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    'INSERT INTO "user" (id, email, display_name, role, password_hash, active,'
                    " must_change_password, created_at) VALUES (1, 'admin@example.org',"
                    " 'Admin', 'admin', 'x', 1, 0, :at)"
                ),
                {"at": FILED},
            )
        upgrade(directory=str(MIGRATIONS), revision="0015")
    assert _version(scratch_app) == ["0015"]

    client = (
        "INSERT INTO api_client (id, name, organisation, key_id, key_hash, complaints_per_hour,"
        " complaints_per_day, created_at, created_by_id, revoked_at, revoked_by_id) VALUES"
        " (:id, 'Worker Voice app', 'Awaj', :key_id, :hash, :hour, :day, :at, 1, :revoked, :by)"
    )
    values = {"hash": "ab" * 32, "at": FILED, "revoked": None, "by": None}
    with scratch_app.app_context(), db.engine.begin() as connection:
        connection.execute(
            text(client), {**values, "id": 1, "key_id": "gmk_0123456789ab", "hour": 20, "day": 200}
        )
        connection.execute(
            text(
                "INSERT INTO api_client_use (client_id, at, endpoint, outcome, status, case_id)"
                " VALUES (1, :at, 'complaints', 'accepted', 201, 1)"
            ),
            {"at": FILED},
        )
        assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
    # the limits and the revocation are checked by the database too
    refused = [
        {"hour": 0, "day": 10},  # no complaint an hour
        {"hour": 20, "day": 10},  # fewer a day than an hour
        {"hour": 20, "day": 200, "revoked": FILED},  # revoked by nobody
    ]
    for number, changes in enumerate(refused, start=2):
        row = {**values, "id": number, "key_id": f"gmk_{number:012d}", **changes}
        with (
            scratch_app.app_context(),
            db.engine.begin() as connection,
            pytest.raises(IntegrityError),
        ):
            connection.execute(text(client), row)
    duplicate = {**values, "id": 9, "key_id": "gmk_0123456789ab", "hour": 1, "day": 1}
    with (
        scratch_app.app_context(),
        db.engine.begin() as connection,
        pytest.raises(IntegrityError),  # one client per key id
    ):
        connection.execute(text(client), duplicate)

    with scratch_app.app_context():
        downgrade(directory=str(MIGRATIONS), revision=below)
    tables = _tables(scratch_app)
    assert not {"api_client", "api_client_use"} & tables
    assert {"user", "case"} <= tables


# -- 0020 keeps routing's load in an index: `assignment.case_open` --------------------------------


def test_0020_fills_case_open_from_each_case_stage_and_takes_it_away_again(scratch_app):
    below = script_directory().get_revision("0020").down_revision
    assert isinstance(below, str)
    with scratch_app.app_context():
        upgrade(directory=str(MIGRATIONS), revision="0004")
        with db.engine.begin() as connection:
            _seed_at_0004(connection)
        upgrade(directory=str(MIGRATIONS), revision=below)
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    'INSERT INTO "user" (id, email, display_name, role, password_hash, active,'
                    " must_change_password, created_at) VALUES (1, 'r@example.org',"
                    " 'R', 'reviewer', 'x', 1, 0, :at)"
                ),
                {"at": FILED},
            )
            connection.execute(text("UPDATE \"case\" SET stage = 'closed' WHERE id IN (2, 4)"))
            for case_id in (1, 2, 3, 4):
                connection.execute(
                    text(
                        "INSERT INTO assignment (case_id, reviewer_id, role, reasons,"
                        " assigned_at) VALUES (:case_id, 1, 'lead', '{}', :at)"
                    ),
                    {"case_id": case_id, "at": FILED},
                )
        upgrade(directory=str(MIGRATIONS), revision="0020")
    with scratch_app.app_context(), db.engine.begin() as connection:
        rows = connection.execute(
            text("SELECT case_id, case_open FROM assignment ORDER BY case_id")
        ).all()
        assert [tuple(row) for row in rows] == [(1, 1), (2, 0), (3, 1), (4, 0)]
        indexes = {index["name"] for index in inspect(connection).get_indexes("assignment")}
        assert {"ix_assignment_open_load", "ix_assignment_case_id"} <= indexes
        loads = connection.execute(text("SELECT reviewer_id, delta FROM reviewer_load")).all()
        assert [tuple(row) for row in loads] == [(1, 2)]  # cases 1 and 3 are open
        keys = connection.execute(
            text(
                'SELECT a.queue_rank = c.queue_rank FROM assignment a JOIN "case" c'
                " ON c.id = a.case_id"
            )
        ).scalars()
        assert all(keys)
        mechanisms = connection.execute(text("SELECT DISTINCT mechanism_id FROM deadline"))
        assert mechanisms.scalars().all() == [1]
    with scratch_app.app_context():
        downgrade(directory=str(MIGRATIONS), revision=below)
    with scratch_app.app_context(), db.engine.connect() as connection:
        columns = {column["name"] for column in inspect(connection).get_columns("assignment")}
        assert "case_open" not in columns
        assert connection.execute(text("SELECT count(*) FROM assignment")).scalar() == 4
