"""What every benchmark starts from: the app on a fresh, migrated database."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import make_url, text

from grievance import MIGRATIONS, create_app
from grievance.clock import Clock
from grievance.config import TEST_KDF, Settings
from grievance.crypto.keyring import Keyring
from grievance.extensions import db


def bench_app(clock: Clock, *, fresh: bool = True, **overrides: Any) -> Flask:
    """SQLite in a temporary directory, or the PostgreSQL database DATABASE_URL names; its
    name must contain 'bench', because every table in it is dropped (unless `fresh` is
    false: the tables of the last run are used again). The cheap test KDF: the benchmarks
    measure the database and the services, not Argon2id. `overrides` are further settings
    (the Twilio ones, say)."""
    tmp = Path(tempfile.mkdtemp())
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    if "bench" not in (make_url(url).database or ""):
        sys.exit("DATABASE_URL must name a database whose name contains 'bench'")
    settings = Settings(
        env="test",
        secret_key="bench-secret-key-0123456789abcdef0123",
        database_url=url,
        public_base_url="http://localhost",
        instance_path=tmp,
        kdf=TEST_KDF,
        **overrides,
    )
    app = create_app(settings, clock=clock, keyring=Keyring.generate())
    if not fresh:
        return app
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(directory=str(MIGRATIONS))
        db.session.remove()
    return app
