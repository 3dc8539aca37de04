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
    """Migrations must keep working when the models change: they import only alembic and
    sqlalchemy."""
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
                assert name.split(".")[0] in {"alembic", "sqlalchemy", "__future__"}, (
                    path.name,
                    name,
                )
