"""The grievance mechanism: domain, services and the staff-facing app.

`create_app` reads like a checklist of `configure_*` steps. It never runs migrations
(`flask db upgrade` does, once, before the workers start).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from flask import Flask, current_app, g, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from grievance.clock import Clock, SystemClock
from grievance.config import PROJECT_ROOT, Settings
from grievance.crypto.keyring import Keyring, load_keyring
from grievance.extensions import babel, csrf, db, limiter, migrate
from grievance.services.context import Context

__all__ = ["create_app", "service_context"]

TEMPLATES = PROJECT_ROOT / "templates"
LOCALES = PROJECT_ROOT / "locales"
MIGRATIONS = PROJECT_ROOT / "migrations"


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    keyring: Keyring | None = None,
) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(
        __name__,
        template_folder=str(TEMPLATES),
        static_folder="static",
        instance_path=str(settings.instance_path),
        instance_relative_config=False,
    )
    configure_logging(settings)
    configure_settings(app, settings)
    configure_database(app, settings)
    configure_services(app, settings, clock or SystemClock(), keyring)
    configure_i18n(app)
    configure_security(app, settings)
    configure_login(app)
    register_blueprints(app)
    register_cli(app)
    return app


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def configure_settings(app: Flask, settings: Settings) -> None:
    secure = settings.public_base_url.startswith("https://")
    app.config.update(
        GRIEVANCE_SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        # Errors never carry the statement's parameters into logs (ASVS 7.1.2).
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "hide_parameters": True},
        SESSION_COOKIE_NAME="__Host-staff" if secure else "staff",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        # Five files of 10 MB and the form around them (grievance.services.attachments).
        MAX_CONTENT_LENGTH=52 * 1024 * 1024,
        PREFERRED_URL_SCHEME="https" if secure else "http",
        TESTING=settings.env == "test",
        WTF_CSRF_TIME_LIMIT=None,  # bound to the session instead
        # memory:// serves one process; set RATELIMIT_STORAGE_URI=redis://… for several.
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_uri,
    )


def configure_database(app: Flask, settings: Settings) -> None:
    if settings.database_url.startswith("sqlite:///"):
        settings.instance_path.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True, compare_type=True)
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, WAL for the web server beside the worker, and the pysqlite
    work-around that lets SAVEPOINTs (and so every service) be atomic."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def configure_services(
    app: Flask, settings: Settings, clock: Clock, keyring: Keyring | None
) -> None:
    if keyring is None:
        keyring = load_keyring(
            file=settings.keyring_file,
            json_text=settings.keyring_json,
            generate_if_missing=settings.is_development,
        )
    app.extensions["grievance.clock"] = clock
    app.extensions["grievance.keyring"] = keyring


def service_context() -> Context:
    """The services' context for the current request or command (one per app context)."""
    if "service_context" not in g:
        settings: Settings = current_app.config["GRIEVANCE_SETTINGS"]
        g.service_context = Context(
            session=db.session(),
            clock=current_app.extensions["grievance.clock"],
            keyring=current_app.extensions["grievance.keyring"],
            kdf=settings.kdf,
        )
    context: Context = g.service_context
    return context


def configure_i18n(app: Flask) -> None:
    from grievance.web.i18n import remember_language, select_locale, template_globals

    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(LOCALES)
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    babel.init_app(app, locale_selector=select_locale)
    app.context_processor(template_globals)
    app.after_request(remember_language)


def configure_security(app: Flask, settings: Settings) -> None:
    from grievance.web.requests import InMemoryRequest
    from grievance.web.sessions import SurfaceSessionInterface

    app.request_class = InMemoryRequest
    app.session_interface = SurfaceSessionInterface()
    csrf.init_app(app)
    limiter.init_app(app)
    https = settings.public_base_url.startswith("https://")

    @app.after_request
    def _security_headers(response: Any) -> Any:
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"
        )
        if request.endpoint != "static":
            headers.setdefault("Cache-Control", "no-store")
        if https:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        return response


def configure_login(app: Flask) -> None:
    """Staff sessions (Flask-Login): see `grievance.web.auth`."""
    from grievance.web.auth import init_login

    init_login(app)


def register_blueprints(app: Flask) -> None:
    from grievance.web.admin import blueprint as admin
    from grievance.web.auth import blueprint as staff
    from grievance.web.errors import blueprint as errors
    from grievance.web.health import blueprint as health
    from grievance.web.profile import admin_blueprint as admin_profile
    from grievance.web.profile import blueprint as profile
    from grievance.web.public import blueprint as public
    from grievance.web.record import blueprint as record
    from grievance.web.reviewer import blueprint as reviewer
    from grievance.web.secretariat import blueprint as secretariat
    from intake.api import blueprint as api
    from intake.sms.webhook import blueprint as sms
    from intake.web import blueprint as intake
    from intake.web.followup import blueprint as followup

    app.register_blueprint(errors)
    app.register_blueprint(health)
    app.register_blueprint(public)
    app.register_blueprint(intake)
    app.register_blueprint(followup)
    app.register_blueprint(api)
    app.register_blueprint(sms)
    app.register_blueprint(staff)
    app.register_blueprint(admin)
    app.register_blueprint(secretariat)
    app.register_blueprint(profile)
    app.register_blueprint(admin_profile)
    app.register_blueprint(record)
    app.register_blueprint(reviewer)


def register_cli(app: Flask) -> None:
    from grievance.cli import grievance_commands

    app.cli.add_command(grievance_commands)
