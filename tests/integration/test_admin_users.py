"""The administrators' staff accounts page (#15, item 11): searching users, changing a
user's name, role and mechanisms, and a reset or a deactivation that asks to confirm
first and says what happened after. Every role's access is in the authorisation matrix."""

from __future__ import annotations

import html
import re

from grievance.models import Role
from grievance.services import accounts
from grievance.services.actors import Actor
from tests.factories import make_mechanism, make_staff, staff_case
from tests.integration.test_staff_auth import (
    PASSWORD,
    _path,
    _post,
    admin_client,
    password_step,
    sign_in,
    signed_in,
)


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_users_are_found_by_name_or_address(app, ctx, clock):
    selin, _ = make_staff(ctx, Role.REVIEWER)
    selin.display_name = "Selin Aydın"
    other, _ = make_staff(ctx, Role.REVIEWER)
    other.display_name = "Hiwot Kamau"
    ctx.session.flush()
    _admin, client = admin_client(app, ctx, clock)
    page = _text(client.get("/staff/admin/users?lang=en&q=selin"))
    assert "Selin Aydın" in page
    assert "Hiwot Kamau" not in page
    assert "1 account matches “selin”." in page
    by_address = _text(client.get(f"/staff/admin/users?lang=en&q={other.email[:12]}"))
    assert "Hiwot Kamau" in by_address
    assert "Selin Aydın" not in by_address
    # LIKE's wildcards are searched for as themselves
    assert "No account matches." in _text(client.get("/staff/admin/users?lang=en&q=%25_%25"))


def test_an_admin_changes_a_name_role_and_mechanisms(app, ctx, clock):
    tex, nst = make_mechanism(ctx, code="TXA"), make_mechanism(ctx, code="NSA")
    user, seed = make_staff(ctx, Role.SECRETARIAT, mechanisms=[tex])
    victim = app.test_client()
    sign_in(victim, user, seed, clock)
    clock.advance(seconds=30)
    _admin, client = admin_client(app, ctx, clock)
    path = f"/staff/admin/users/{user.id}/edit?lang=en"
    form = _text(client.get(path))
    assert f'value="{user.display_name}"' in form
    checked = rf'<input checked[^>]*value="{tex.id}"|value="{tex.id}"[^>]*checked'
    assert re.search(checked, form)
    bad = _post(
        client,
        path,
        {"display_name": "Anouk V.", "role": "secretariat"},
        page=form,
    )
    assert bad.status_code == 422
    assert "Choose at least one mechanism." in _text(bad)
    assert 'value="Anouk V."' in _text(bad)  # what was typed is kept
    done = _post(
        client,
        path,
        {
            "display_name": "Anouk V.",
            "role": "secretariat",
            "mechanisms": [str(tex.id), str(nst.id)],
        },
        page=form,
    )
    assert _path(done) == "/staff/admin/users"
    assert user.display_name == "Anouk V."
    assert {m.code for m in user.mechanisms} == {"TXA", "NSA"}
    assert "The account of Anouk V. is changed." in _text(client.get("/staff/admin/users?lang=en"))
    assert not signed_in(victim)  # a new scope: signed in again


def test_a_reviewer_on_cases_keeps_the_role_and_an_admin_their_own(app, ctx, clock):
    _filed, lead, _second = staff_case(ctx)
    admin, client = admin_client(app, ctx, clock)
    path = f"/staff/admin/users/{lead.id}/edit?lang=en"
    refused = _post(client, path, {"display_name": lead.display_name, "role": "admin"})
    assert refused.status_code == 422
    assert "hand them over before changing the role" in _text(refused)
    assert lead.role is Role.REVIEWER
    own = _post(
        client,
        f"/staff/admin/users/{admin.id}/edit?lang=en",
        {"display_name": "Me", "role": "reviewer"},
    )
    assert own.status_code == 422
    assert "You cannot change your own role." in _text(own)
    assert admin.role is Role.ADMIN
    assert accounts.update_user(
        ctx, Actor.for_user(admin), admin, display_name="Me", role=Role.ADMIN
    )
    assert admin.display_name == "Me"


def test_deactivating_asks_first_then_says_what_happened(app, ctx, clock):
    user, _ = make_staff(ctx, Role.COMPANY, totp=False)
    _admin, client = admin_client(app, ctx, clock)
    listing = _text(client.get("/staff/admin/users?lang=en"))
    assert '<main id="main" class="staff-main">' in listing  # staff pages use the width
    assert f'href="/staff/admin/users/{user.id}/deactivate"' in listing
    assert f'action="/staff/admin/users/{user.id}/deactivate"' not in listing  # no one-click
    confirm = client.get(f"/staff/admin/users/{user.id}/deactivate?lang=en")
    assert confirm.status_code == 200
    assert f"Deactivate the account of {user.display_name}?" in _text(confirm)
    assert user.active  # asking changes nothing
    done = _post(
        client, f"/staff/admin/users/{user.id}/deactivate", {}, page=confirm.get_data(as_text=True)
    )
    assert _path(done) == "/staff/admin/users"
    assert not user.active
    told = _text(client.get("/staff/admin/users?lang=en"))
    assert f"The account of {user.display_name} is deactivated" in told
    assert password_step(app.test_client(), user.email, PASSWORD).status_code == 401


def test_resetting_asks_first_then_says_what_happened(app, ctx, clock):
    user, _ = make_staff(ctx, Role.REVIEWER)
    _admin, client = admin_client(app, ctx, clock)
    before = user.password_hash
    confirm = client.get(f"/staff/admin/users/{user.id}/reset?lang=en")
    assert confirm.status_code == 200
    assert f"Reset the password of {user.display_name}?" in _text(confirm)
    assert user.password_hash == before
    done = _post(
        client,
        f"/staff/admin/users/{user.id}/reset?lang=en",
        {"remove_second_factor": "yes"},
        page=confirm.get_data(as_text=True),
    )
    page = _text(done)
    assert f"The password of {user.display_name} was reset" in page
    assert "Their second factor was removed" in page
    assert not accounts.has_second_factor(user)


def test_an_admin_is_not_asked_to_reset_or_deactivate_themselves(app, ctx, clock):
    admin, client = admin_client(app, ctx, clock)
    assert client.get(f"/staff/admin/users/{admin.id}/reset").status_code == 403
    assert client.get(f"/staff/admin/users/{admin.id}/deactivate").status_code == 403
