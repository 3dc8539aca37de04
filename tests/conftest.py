"""Shared fixtures: one app and one migrated database per test session, each test inside
a transaction rolled back at its end (SAVEPOINTs inside it), a fixed clock, cheap KDF.

`DATABASE_URL=postgresql+psycopg://…/…test…` runs the same suite on PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from grievance import MIGRATIONS, create_app
from grievance.clock import FixedClock
from grievance.config import TEST_KDF, Settings
from grievance.crypto.keyring import Keyring
from grievance.extensions import LIMITERS, db
from grievance.services.context import Context

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def _database_url(tmp: Path) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{tmp / 'test.sqlite3'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    database = make_url(url).database or ""
    if "test" not in database:
        raise pytest.UsageError(
            f"DATABASE_URL names the database {database!r}: the suite drops every table, "
            "so it runs only on a database whose name contains 'test'."
        )
    return url


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    instance = tmp_path_factory.mktemp("instance")
    return Settings(
        env="test",
        secret_key="test-secret-key-of-at-least-thirty-two-characters",
        database_url=_database_url(instance),
        public_base_url="http://localhost",
        instance_path=instance,
        kdf=TEST_KDF,
    )


@pytest.fixture(scope="session")
def keyring() -> Keyring:
    return Keyring.generate()


@pytest.fixture(scope="session")
def session_clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture(scope="session")
def _app(settings: Settings, keyring: Keyring, session_clock: FixedClock) -> Iterator[Flask]:
    app = create_app(settings, clock=session_clock, keyring=keyring)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        upgrade(directory=str(MIGRATIONS))
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def clock(session_clock: FixedClock) -> FixedClock:
    session_clock.set(START)
    return session_clock


class RequestIsolatingClient(FlaskClient):
    """The `session` fixture keeps an app context pushed for the whole test, so requests
    share it (and its `g`); forget what a request left in `g`, as production would."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            for name in list(g):
                g.pop(name)
        return super().open(*args, **kwargs)


@pytest.fixture
def app(_app: Flask, clock: FixedClock) -> Iterator[Flask]:
    _app.test_client_class = RequestIsolatingClient
    _reset_limits()  # each test starts with no attempt counted
    yield _app
    _reset_limits()


class TestScopedSession(scoped_session[Session]):
    """The test's session outlives the app contexts of its requests: a request to the
    staff app pushes and pops an app context of its own, whose teardown would otherwise
    close the session (and roll back what the test wrote). The fixture closes it."""

    def remove(self) -> None:
        pass

    def remove_for_real(self) -> None:
        super().remove()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test."""
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        scoped = TestScopedSession(factory)
        original = db.session
        db.session = scoped
        try:
            yield scoped()
        finally:
            scoped.remove_for_real()
            db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture
def ctx(session: Session, clock: FixedClock, keyring: Keyring) -> Context:
    return Context(session=session, clock=clock, keyring=keyring, kdf=TEST_KDF)


@pytest.fixture
def committing(app: Flask, clock: FixedClock, keyring: Keyring) -> Iterator[Callable[[], Context]]:
    """Contexts on their own sessions that really commit (several workers at once, in
    threads), on PostgreSQL only: they coordinate through row locks. Every table is
    emptied after the test."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("needs PostgreSQL (DATABASE_URL): workers coordinate with row locks")
        sessions: list[Session] = []
        engine = db.engine  # threads have no app context

        def make() -> Context:
            session = Session(bind=engine)
            sessions.append(session)
            return Context(session=session, clock=clock, keyring=keyring, kdf=TEST_KDF)

        try:
            yield make
        finally:
            for session in sessions:
                session.close()
            tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def _reset_limits() -> None:
    for limiter in LIMITERS:
        limiter.reset()
