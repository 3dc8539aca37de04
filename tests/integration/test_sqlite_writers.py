"""SQLite, the embedded default, takes concurrent writers without "database is locked":
the worker's jobs, its SMS conversations and the web's posts each read before they write,
and a transaction that began reading (BEGIN DEFERRED) cannot wait for the write lock in
WAL mode once another writer committed: SQLite fails it at once, whatever the busy
timeout. Transactions that may write begin IMMEDIATE, and wait their turn instead."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from grievance import create_app
from grievance.config import TEST_KDF, Settings
from grievance.extensions import db, sqlite_writer

pytestmark = pytest.mark.skipif(
    "postgresql" in __import__("os").environ.get("DATABASE_URL", ""),
    reason="SQLite's locking (the default database)",
)

WRITERS = 10
ROUNDS = 10


@pytest.fixture
def file_app(tmp_path: Path, keyring, clock) -> Iterator[Flask]:
    settings = Settings(
        env="test",
        secret_key="sqlite-writers-secret-key-32-characters",
        database_url=f"sqlite:///{tmp_path / 'writers.sqlite3'}",
        public_base_url="http://localhost",
        instance_path=tmp_path,
        kdf=TEST_KDF,
    )
    app = create_app(settings, clock=clock, keyring=keyring)
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE tally (id INTEGER PRIMARY KEY, n INTEGER)"))
        connection.execute(text("INSERT INTO tally VALUES (1, 0)"))
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def _read_then_write(app: Flask, failures: list[BaseException]) -> None:
    try:
        for _ in range(ROUNDS):
            with app.app_context(), sqlite_writer():  # as the worker runs each job
                session = db.session
                n = session.execute(text("SELECT n FROM tally WHERE id = 1")).scalar_one()
                session.execute(text("UPDATE tally SET n = :n WHERE id = 1"), {"n": n + 1})
                session.commit()
                db.session.remove()
    except BaseException as failed:
        failures.append(failed)


def test_ten_writers_at_once_wait_their_turn_and_lose_nothing(file_app):
    failures: list[BaseException] = []
    threads = [
        threading.Thread(target=_read_then_write, args=(file_app, failures)) for _ in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with file_app.app_context():
        total = db.session.execute(text("SELECT n FROM tally")).scalar_one()
    assert total == WRITERS * ROUNDS  # no lost update either: one writer at a time


def test_a_post_waits_its_turn_too(file_app):
    with file_app.test_request_context("/", method="POST"):
        connection = db.session.connection()
        assert connection.exec_driver_sql("SELECT 1").scalar() == 1
        # the transaction holds the write lock already: another writer would wait
        other = sqlite3.connect(file_app.config["SQLALCHEMY_DATABASE_URI"][len("sqlite:///") :])
        other.execute("PRAGMA busy_timeout = 0")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
        db.session.remove()


def test_a_read_only_request_does_not_take_the_write_lock(file_app):
    """GET and HEAD requests begin DEFERRED: readers go on beside a writer (WAL)."""
    with file_app.app_context():
        writer = db.engine.connect()
        writer.begin()
        writer.execute(text("UPDATE tally SET n = n + 1"))  # holds the write lock
        try:
            with file_app.test_request_context("/", method="GET"):
                assert db.session.execute(text("SELECT count(*) FROM tally")).scalar() == 1
                db.session.remove()
        finally:
            writer.rollback()
            writer.close()
