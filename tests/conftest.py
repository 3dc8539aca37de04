"""Shared fixtures: one app and one migrated database per test session, each test inside
a transaction rolled back at its end (SAVEPOINTs inside it), a fixed clock, cheap KDF.

`DATABASE_URL=postgresql+psycopg://…/…test…` runs the same suite on PostgreSQL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session, sessionmaker

from grievance import MIGRATIONS, create_app
from grievance.clock import FixedClock
from grievance.config import TEST_KDF, Settings
from grievance.crypto.keyring import Keyring
from grievance.extensions import LIMITERS, db
from grievance.services.context import Context
from tests.apps import surfaces

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


#: What the test harness sends around the test's transaction (the `session` fixture's
#: SAVEPOINTs, the pysqlite BEGIN), not what the code under test asks for.
_HARNESS = re.compile(
    r"^\s*(SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT|BEGIN)\b", re.IGNORECASE
)


@dataclass
class Queries:
    """The SQL statements sent while counting, in order."""

    statements: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statements)

    def __str__(self) -> str:
        lines = (" ".join(statement.split()) for statement in self.statements)
        return "\n".join(f"{number:3}. {line[:200]}" for number, line in enumerate(lines, 1))


class QueryCounter:
    """Counts the statements sent to the database, as Warehouse's `query_recorder` does:
    `with query_counter() as queries: client.get(...)`, then `len(queries)`, with every
    statement in `str(queries)` for the failure message.

    The session's objects are expired first, so that the request loads what a request of
    its own (a fresh session) would load, not what the test's factories left in the
    identity map; the harness's SAVEPOINTs are not counted."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._current: Queries | None = None

    def record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self._current is not None and not _HARNESS.match(statement):
            self._current.statements.append(statement)

    @contextmanager
    def __call__(self) -> Iterator[Queries]:
        self._session.flush()
        self._session.expire_all()
        self._current = Queries()
        try:
            yield self._current
        finally:
            self._current = None


@pytest.fixture
def query_counter(app: Flask, session: Session) -> Iterator[QueryCounter]:
    """Counts the SQL statements of what runs inside `with query_counter() as queries:`
    (typically one request), on the engines of both surfaces."""
    counter = QueryCounter(session)
    engines: list[Engine] = []
    for surface in surfaces(app):
        with surface.app_context():
            engines.extend(e for e in db.engines.values() if e not in engines)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", counter.record)
    try:
        yield counter
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", counter.record)


def _reset_limits() -> None:
    for limiter in LIMITERS:
        limiter.reset()
