"""The administrators' pages of partner applications (`/staff/admin/api-clients`): a new
client's key shown once and never again, the list and each client's audit trail, revoking
after a confirmation; administrators only, with their second factor. Every role's access
is in the authorisation matrix (test_authorization_matrix.py)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from grievance.models import ApiClient, Role
from tests.factories import make_mechanism, make_staff
from tests.integration.test_staff_auth import _path, _post, password_step, sign_in

KEY = re.compile(r"gmk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")
BASE = "/staff/admin/api-clients"
FORM = {
    "name": "Worker Voice app",
    "organisation": "Awaj Foundation",
    "complaints_per_hour": "120",
    "complaints_per_day": "1200",
}


@pytest.fixture
def admin_client(app, ctx, clock):
    user, seed = make_staff(ctx, Role.ADMIN)
    client = app.test_client()
    assert _path(sign_in(client, user, seed, clock)) == "/staff"
    return client


def _file(http, key: str | None = None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {"mechanism": "ADM", "language": "en", "statement": "Unpaid overtime since March."}
    return http.post("/api/v1/complaints", json=body, headers=headers)


def test_a_new_key_is_shown_once_and_never_again(app, ctx, admin_client):
    make_mechanism(ctx, code="ADM")
    assert "No partner application" in admin_client.get(f"{BASE}?lang=en").get_data(as_text=True)
    response = _post(admin_client, f"{BASE}/new?lang=en", FORM)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    [key] = KEY.findall(response.get_data(as_text=True))
    client = ctx.session.scalars(select(ApiClient)).one()
    assert (client.name, client.organisation) == ("Worker Voice app", "Awaj Foundation")
    assert (client.complaints_per_hour, client.complaints_per_day) == (120, 1200)
    assert key.startswith(client.key_id)

    # it works on the API, and the trail shows the case it filed
    filed = _file(app.test_client(), key)
    assert filed.status_code == 201
    reference = filed.get_json()["reference"]
    for path in (BASE, f"{BASE}/{client.id}", f"{BASE}/{client.id}/revoke"):
        page = admin_client.get(f"{path}?lang=en").get_data(as_text=True)
        assert client.key_id in page
        assert key not in page, path
        assert key.removeprefix(f"{client.key_id}_") not in page, path
    trail = admin_client.get(f"{BASE}/{client.id}?lang=en").get_data(as_text=True)
    assert reference in trail
    assert "Accepted" in trail


def test_revoking_asks_first_then_the_key_opens_nothing(app, ctx, admin_client):
    make_mechanism(ctx, code="ADM")
    [key] = KEY.findall(_post(admin_client, f"{BASE}/new", FORM).get_data(as_text=True))
    client = ctx.session.scalars(select(ApiClient)).one()
    confirm = admin_client.get(f"{BASE}/{client.id}/revoke?lang=en")
    assert confirm.status_code == 200
    assert client.revoked_at is None  # asking changes nothing
    page = confirm.get_data(as_text=True)
    assert "Revoke the key for good" in page
    response = _post(admin_client, f"{BASE}/{client.id}/revoke", {}, page=page)
    assert _path(response) == f"{BASE}/{client.id}"
    ctx.session.refresh(client)
    assert client.revoked_at is not None
    assert client.revoked_by.role is Role.ADMIN
    assert _file(app.test_client(), key).status_code == 401
    after = admin_client.get(f"{BASE}/{client.id}?lang=en").get_data(as_text=True)
    assert "Revoked key" in after  # the refused use is in the trail
    assert "Revoke the key</a>" not in after
    again = admin_client.get(f"{BASE}/{client.id}/revoke?lang=en").get_data(as_text=True)
    assert "revoked already" in again


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Give the application"),
        ({"complaints_per_hour": "many"}, "complaints_per_hour", "Give a whole number from 1"),
        ({"complaints_per_hour": "0"}, "complaints_per_hour", "Give a number from 1 to 10000."),
        ({"complaints_per_day": "10"}, "complaints_per_day", "Give a number from 120 to 100000."),
    ],
)
def test_a_client_breaking_a_rule_comes_back_with_its_message(
    ctx, admin_client, changes, field, message
):
    response = _post(admin_client, f"{BASE}/new?lang=en", {**FORM, **changes})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert message in page
    assert not KEY.search(page)
    assert ctx.session.scalar(select(ApiClient.id)) is None


def test_an_administrator_without_a_second_factor_enrols_first(app, ctx):
    user, _ = make_staff(ctx, Role.ADMIN, totp=False)
    client = app.test_client()
    password_step(client, user.email)
    assert _path(client.get(BASE)) == "/staff/account/second-factor"
    page = client.get("/staff/account/second-factor").get_data(as_text=True)
    response = _post(client, f"{BASE}/new", FORM, page=page)
    assert _path(response) == "/staff/account/second-factor"
    assert ctx.session.scalar(select(ApiClient.id)) is None


def test_other_roles_get_403(app, ctx, clock):
    for role in (Role.REVIEWER, Role.SECRETARIAT):
        user, seed = make_staff(ctx, role, mechanisms=[make_mechanism(ctx, code=f"M{role[:2]}")])
        client = app.test_client()
        sign_in(client, user, seed, clock)
        assert client.get(BASE).status_code == 403
        assert client.get(f"{BASE}/new").status_code == 403
