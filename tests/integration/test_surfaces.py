"""Two surfaces (DESIGN §2): the intake app (complainants and the public) and the staff app
(reviewers, companies, secretariat, administrators), each with its own routes, cookies,
rate limits and error pages; `create_app` serves both, the staff app under `/staff/`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade

from grievance import MIGRATIONS, create_intake_app, create_staff_app
from grievance.app import STAFF_PREFIX, staff_app_of
from grievance.clock import FixedClock
from grievance.config import TEST_KDF, Settings
from grievance.crypto.keyring import Keyring
from grievance.extensions import db, intake_limiter, staff_limiter
from grievance.http.context import app_services
from tests.conftest import START

#: The complainant's and the public's pages, and the programs that file for them.
INTAKE_BLUEPRINTS = frozenset(
    {"public", "intake", "followup", "api", "sms", "transparency", "registry", "registry_api"}
)
STAFF_BLUEPRINTS = frozenset(
    {
        "staff",
        "admin",
        "admin_profile",
        "api_clients",
        "secretariat",
        "unrouted",
        "profile",
        "record",
        "reviewer",
        "inbox",
        "company",
        "company_remedy",
    }
)
SHARED_BLUEPRINTS = frozenset({"errors", "health"})


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        secret_key="surfaces-test-secret-key-of-32-characters",
        database_url=f"sqlite:///{tmp_path / 'surfaces.sqlite3'}",
        public_base_url="http://localhost",
        instance_path=tmp_path,
        kdf=TEST_KDF,
    )


@pytest.fixture
def alone(tmp_path: Path) -> Iterator[tuple[Flask, Flask]]:
    """Each surface built on its own, as it is deployed on a host of its own."""
    settings, keyring, clock = _settings(tmp_path), Keyring.generate(), FixedClock(START)
    intake = create_intake_app(settings, clock=clock, keyring=keyring)
    staff = create_staff_app(settings, clock=clock, keyring=keyring)
    with intake.app_context():
        upgrade(directory=str(MIGRATIONS))
        db.session.remove()
    yield intake, staff
    for app in (intake, staff):
        with app.app_context():
            db.engine.dispose()


def _blueprints_of_routes(app: Flask) -> set[str]:
    return {
        rule.endpoint.rsplit(".", 1)[0] for rule in app.url_map.iter_rules() if "." in rule.endpoint
    }


def test_the_intake_app_has_no_staff_route_and_the_staff_app_no_complainant_route(alone):
    intake, staff = alone
    assert _blueprints_of_routes(intake) <= INTAKE_BLUEPRINTS | SHARED_BLUEPRINTS
    assert _blueprints_of_routes(staff) <= STAFF_BLUEPRINTS | SHARED_BLUEPRINTS
    assert _blueprints_of_routes(intake) >= INTAKE_BLUEPRINTS
    assert _blueprints_of_routes(staff) >= STAFF_BLUEPRINTS
    assert not any(rule.rule.startswith(STAFF_PREFIX) for rule in intake.url_map.iter_rules())
    assert all(
        rule.rule == STAFF_PREFIX or rule.rule.startswith(STAFF_PREFIX + "/")
        for rule in staff.url_map.iter_rules()
    )


def test_each_surface_alone_answers_only_its_own_pages(alone):
    intake, staff = alone
    public, internal = intake.test_client(), staff.test_client()
    assert public.get("/complaint").status_code == 200
    assert public.get("/follow-up").status_code == 200
    assert public.get("/staff/sign-in").status_code == 404
    assert public.get("/staff/reviewer/").status_code == 404
    assert internal.get("/staff/sign-in").status_code == 200
    assert internal.get("/complaint").status_code == 404
    assert internal.get("/follow-up").status_code == 404
    assert internal.get("/api/v1/openapi.json").status_code == 404
    assert internal.get("/staff/healthz").status_code == 200
    assert public.get("/healthz").status_code == 200


def test_the_combined_app_hands_staff_paths_to_the_staff_app(app):
    staff = staff_app_of(app)
    assert app_services(app) is app_services(staff)
    client = app.test_client()
    assert client.get("/staff/sign-in").status_code == 200
    assert client.get("/staff").status_code in (200, 302)
    assert client.get("/complaint").status_code == 200
    # a path that only looks like the prefix stays with the intake app
    assert client.get("/staffing").status_code == 404
    assert 'href="/staff/static/site.css"' in client.get("/staff/sign-in").get_data(as_text=True)
    assert 'href="/static/site.css"' in client.get("/complaint").get_data(as_text=True)
    stylesheet = client.get("/staff/static/site.css")
    assert stylesheet.status_code == 200
    stylesheet.close()


def test_each_surface_has_its_own_cookie_and_a_copied_one_is_worthless(alone):
    intake, staff = alone
    public, internal = intake.test_client(), staff.test_client()
    public.get("/follow-up")
    internal.get("/staff/sign-in")
    intake_cookie = public.get_cookie("intake")
    staff_cookie = internal.get_cookie("staff")
    assert intake_cookie is not None
    assert staff_cookie is not None
    assert public.get_cookie("staff") is None
    assert internal.get_cookie("intake") is None
    assert intake_cookie.expires is None  # ends when the browser closes
    # the staff cookie's value under the intake name: not signed for the intake surface
    with intake.test_request_context(headers={"Cookie": f"intake={staff_cookie.value}"}):
        assert dict(intake.session_interface.open_session(intake, _request())) == {}
    with staff.test_request_context(headers={"Cookie": f"staff={staff_cookie.value}"}):
        assert dict(staff.session_interface.open_session(staff, _request()))


def _request():  # type: ignore[no-untyped-def]
    from flask import request

    return request


def test_each_surface_counts_its_own_rate_limits(alone):
    intake, staff = alone
    assert intake.extensions["limiter"] == {intake_limiter}
    assert staff.extensions["limiter"] == {staff_limiter}
    # one store, two key prefixes: a budget spent on one surface is not the other's
    assert intake_limiter._key_prefix != staff_limiter._key_prefix


def test_the_staff_error_page_links_only_to_staff_pages(alone):
    intake, staff = alone
    staff_page = staff.test_client().get("/staff/nowhere").get_data(as_text=True)
    intake_page = intake.test_client().get("/nowhere").get_data(as_text=True)
    assert 'href="/complaint"' not in staff_page
    assert 'href="/follow-up"' not in staff_page
    assert 'href="/staff"' in staff_page
    assert 'href="/complaint"' in intake_page
    assert 'href="/follow-up"' in intake_page


def test_both_surfaces_send_their_security_headers(alone):
    for app, path in zip(alone, ("/complaint", "/staff/sign-in"), strict=True):
        headers = app.test_client().get(path).headers
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"
