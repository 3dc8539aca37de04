"""The app factories: two surfaces, as SecureDrop separates its source and journalist
interfaces (DESIGN §2).

- `create_intake_app()`: what complainants and the public use: the complaint form, the
  follow-up pages, the JSON intake API, the SMS webhooks, the public pages.
- `create_staff_app()`: reviewers, companies, the secretariat and administrators, every
  page under `/staff/`.
- `create_app()`: both in one process (what `make run` serves and `flask --app wsgi`
  commands use): requests under `/staff/` go to the staff app, the rest to the intake
  app. The paths are the same whether the surfaces run together or on hosts of their
  own, so an operator can keep the staff surface off the public internet.

Each surface has its own session cookie (signed apart), content security policy, rate
limiter and error pages. Each factory reads like a checklist of `configure_*` steps and
never runs migrations (`flask db upgrade` does, once, before the workers start).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, Flask, has_request_context, request
from flask_limiter import Limiter
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from grievance.clock import Clock, SystemClock
from grievance.config import LOCALES, MIGRATIONS, TEMPLATES, Settings
from grievance.crypto.keyring import Keyring, load_keyring
from grievance.extensions import (
    babel,
    csrf,
    db,
    in_sqlite_writer,
    intake_limiter,
    migrate,
    staff_limiter,
)
from grievance.http import errors, health, i18n, logs, numerals
from grievance.http.context import AppServices, install
from grievance.http.security import INTAKE, STAFF, Surface, configure_surface
from grievance.services.canonical import canonical_text

__all__ = ["STAFF_PREFIX", "create_app", "create_intake_app", "create_staff_app", "main"]

#: Every page of the staff surface is under this path, in the combined app and alone.
STAFF_PREFIX = "/staff"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def build_services(
    settings: Settings | None = None, *, clock: Clock | None = None, keyring: Keyring | None = None
) -> AppServices:
    """The settings, clock and key ring both surfaces of one process share."""
    settings = settings or Settings.from_env()
    if keyring is None:
        keyring = load_keyring(
            file=settings.keyring_file,
            json_text=settings.keyring_json,
            generate_if_missing=settings.is_development,
            private=settings.env == "production",
        )
    return AppServices(settings=settings, clock=clock or SystemClock(), keyring=keyring)


def create_intake_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    keyring: Keyring | None = None,
    services: AppServices | None = None,
) -> Flask:
    services = services or build_services(settings, clock=clock, keyring=keyring)
    app = _base_app(services, INTAKE, intake_limiter, static_url_path="/static")
    register_intake_blueprints(app)
    return app


def create_staff_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    keyring: Keyring | None = None,
    services: AppServices | None = None,
) -> Flask:
    services = services or build_services(settings, clock=clock, keyring=keyring)
    app = _base_app(services, STAFF, staff_limiter, static_url_path=f"{STAFF_PREFIX}/static")
    configure_login(app)
    register_staff_blueprints(app)
    return app


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    keyring: Keyring | None = None,
) -> Flask:
    """Both surfaces in one process: the intake app, handing `/staff/…` to the staff app.
    The `flask` commands are registered on it."""
    services = build_services(settings, clock=clock, keyring=keyring)
    intake = create_intake_app(services=services)
    staff = create_staff_app(services=services)
    intake.wsgi_app = PrefixDispatcher(intake.wsgi_app, STAFF_PREFIX, staff)  # type: ignore[method-assign]
    intake.extensions["grievance.staff_app"] = staff
    register_cli(intake)
    return intake


def staff_app_of(app: Flask) -> Flask:
    """The staff app served beside `app` by `create_app` (tests, commands)."""
    staff = app.extensions["grievance.staff_app"]
    assert isinstance(staff, Flask)
    return staff


class PrefixDispatcher:
    """Requests whose path is `prefix` or under it go to `other`, the rest to `default`.
    Unlike werkzeug's DispatcherMiddleware the path is left whole, so each app's URLs are
    the same alone and combined."""

    def __init__(self, default: WsgiApp, prefix: str, other: WsgiApp) -> None:
        self.default, self.prefix, self.other = default, prefix, other

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == self.prefix or path.startswith(self.prefix + "/"):
            return self.other(environ, start_response)
        return self.default(environ, start_response)


# -- the checklist ------------------------------------------------------------------------


def _base_app(
    services: AppServices, surface: Surface, limiter: Limiter, *, static_url_path: str
) -> Flask:
    settings = services.settings
    app = Flask(
        f"grievance.{surface.name}",
        root_path=str(TEMPLATES.parent / "grievance"),
        template_folder=str(TEMPLATES),
        static_folder="static",
        static_url_path=static_url_path,
        instance_path=str(settings.instance_path),
        instance_relative_config=False,
    )
    install(app, services)
    configure_logging(settings)
    configure_settings(app, settings)
    configure_database(app, settings)
    configure_i18n(app)
    configure_surface(app, surface, https=settings.public_base_url.startswith("https://"))
    configure_security(app, settings, limiter)
    configure_proxies(app, settings)
    app.register_blueprint(errors.blueprint)
    app.register_blueprint(health.blueprint, url_prefix=STAFF_PREFIX if surface is STAFF else None)
    return app


def configure_logging(settings: Settings) -> None:
    logs.configure(settings.log_level, settings.log_format)


def configure_settings(app: Flask, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        # Errors never carry the statement's parameters into logs (ASVS 7.1.2).
        SQLALCHEMY_ENGINE_OPTIONS={
            "pool_pre_ping": True,
            "hide_parameters": True,
            # JSON written canonically (sorted keys, no spaces): `verify-log` hashes an
            # event's payload as stored, without parsing it (`services.logcheck`).
            "json_serializer": canonical_text,
        },
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        # Five files of 10 MB and the form around them (grievance.services.attachments).
        MAX_CONTENT_LENGTH=52 * 1024 * 1024,
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


#: Requests that only read: their transactions begin DEFERRED on SQLite.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _sqlite_begin() -> str:
    """BEGIN IMMEDIATE for what writes (the worker's jobs, `sqlite_writer`, and requests
    other than GET and HEAD): it waits for the write lock (busy_timeout) before reading,
    so concurrent writers take turns. A DEFERRED transaction that read first cannot wait
    in WAL mode once another writer has committed: SQLite fails it at once ("database is
    locked"). Everything else (pages, commands) begins DEFERRED and reads beside the
    writer, holding no lock while it only reads."""
    if in_sqlite_writer():
        return "BEGIN IMMEDIATE"
    if has_request_context() and request.method not in READ_ONLY_METHODS:
        return "BEGIN IMMEDIATE"
    return "BEGIN"


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, WAL for the web server beside the worker, one writer at a time
    (`_sqlite_begin`), and the pysqlite work-around that lets SAVEPOINTs (and so every
    service) be atomic."""

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
        connection.exec_driver_sql(_sqlite_begin())


def configure_i18n(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(LOCALES)
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    babel.init_app(app, locale_selector=i18n.select_locale)
    numerals.install(app)  # dates and numbers with the locale's own digits
    app.context_processor(i18n.template_globals)
    app.after_request(i18n.remember_language)


def configure_security(app: Flask, settings: Settings, limiter: Limiter) -> None:
    csrf.init_app(app)
    limiter.init_app(app)


def configure_proxies(app: Flask, settings: Settings) -> None:
    """Behind `TRUSTED_PROXY_HOPS` reverse proxies, the client's address and scheme are
    the ones the nearest proxies wrote in X-Forwarded-For and -Proto (the last N
    entries: what a client wrote itself comes before them and is ignored). With no
    hop configured, the connection's own address counts and the headers are ignored."""
    hops = settings.trusted_proxy_hops
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def configure_login(app: Flask) -> None:
    """Staff sessions (Flask-Login): see `grievance.web.auth`."""
    from grievance.web.auth import init_login

    init_login(app)


def _register(app: Flask, blueprints: Iterable[Blueprint]) -> None:
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def register_intake_blueprints(app: Flask) -> None:
    from intake.api import blueprint as api
    from intake.api import remedy as _api_remedy  # noqa: F401 - its routes join the API's
    from intake.api.registry import blueprint as registry_api
    from intake.api.transparency import blueprint as transparency
    from intake.sms.webhook import blueprint as sms
    from intake.web import blueprint as complaint
    from intake.web import followup_remedy  # noqa: F401 - its routes join the follow-up's
    from intake.web.followup import blueprint as followup
    from intake.web.public import blueprint as public
    from intake.web.registry import blueprint as registry

    _register(app, (public, registry, complaint, followup, api, registry_api, transparency, sms))


def register_staff_blueprints(app: Flask) -> None:
    from grievance.web.admin import blueprint as admin
    from grievance.web.api_clients import blueprint as api_clients
    from grievance.web.auth import blueprint as staff
    from grievance.web.company import blueprint as company
    from grievance.web.company_remedy import blueprint as company_remedy
    from grievance.web.inbox import blueprint as inbox
    from grievance.web.profile import admin_blueprint as admin_profile
    from grievance.web.profile import blueprint as profile
    from grievance.web.record import blueprint as record
    from grievance.web.reviewer import blueprint as reviewer
    from grievance.web.secretariat import blueprint as secretariat
    from grievance.web.unrouted import blueprint as unrouted

    _register(
        app,
        (
            staff,
            admin,
            api_clients,
            secretariat,
            profile,
            admin_profile,
            record,
            reviewer,
            inbox,
            company,
            company_remedy,
        ),
    )
    _register(app, (unrouted,))


def register_cli(app: Flask) -> None:
    from grievance.cli import grievance_commands

    app.cli.add_command(grievance_commands)


def main() -> None:
    """The `grievance` console script: the `flask` commands of the combined app."""
    from flask.cli import FlaskGroup

    FlaskGroup(create_app=lambda: create_app()).main(prog_name="grievance")
