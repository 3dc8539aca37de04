"""Staff sign-in through the test client: password and second factor, throttling that does
not lock the owner out, session expiry, password change and reset, deactivation, roles,
CSRF, logs, and the demo and bootstrap commands."""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from grievance.config import KdfParameters
from grievance.crypto.secrets import hash_password
from grievance.demo import DEMO_PASSWORD, read_data
from grievance.demo.accounts import enrol_demo_accounts
from grievance.http.context import app_services
from grievance.models import LoginThrottle, RecoveryCode, Role, User
from grievance.services import accounts
from grievance.services.accounts import lifecycle, throttle
from grievance.services.actors import SYSTEM, Actor
from tests.apps import patch_services
from tests.factories import PASSWORD, make_company, make_mechanism, make_staff, make_user

NEW_PASSWORD = "granite dust on every windowsill"


# -- helpers --------------------------------------------------------------------------------


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _post(client, path: str, data: dict, page: str | None = None, **kwargs):
    """POST a form with the CSRF token of `page` (fetched from `path` if not given)."""
    if page is None:
        page = client.get(path, **kwargs).get_data(as_text=True)
    return client.post(path, data={"csrf_token": _token(page), **data}, **kwargs)


def _path(response) -> str:
    return response.headers["Location"].split("?", 1)[0].removeprefix("http://localhost")


def code_now(seed: bytes, clock, offset: int = 0) -> str:
    return accounts.totp_code(seed, accounts.totp_step(clock.now()) + offset)


def password_step(client, email: str, password: str = PASSWORD, **kwargs):
    return _post(client, "/staff/sign-in", {"email": email, "password": password}, **kwargs)


def code_step(client, code: str, **kwargs):
    return _post(client, "/staff/sign-in/code", {"code": code}, **kwargs)


def sign_in(client, user: User, seed: bytes | None, clock, password: str = PASSWORD):
    """Both steps; returns the last response."""
    response = password_step(client, user.email, password)
    if seed is None:
        return response
    assert _path(response) == "/staff/sign-in/code", response.get_data(as_text=True)
    return code_step(client, code_now(seed, clock))


def signed_in(client) -> bool:
    response = client.get("/staff")
    return response.status_code == 200


def sign_out(client):
    page = client.get("/staff").get_data(as_text=True)
    return client.post("/staff/sign-out", data={"csrf_token": _token(page)})


# -- signing in -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.SECRETARIAT, Role.ADMIN])
def test_roles_that_need_it_sign_in_with_password_and_totp(app, ctx, clock, role):
    mechanisms = [make_mechanism(ctx, code=f"M{role.value[:2].upper()}")]
    user, seed = make_staff(ctx, role, mechanisms=mechanisms if role is Role.SECRETARIAT else None)
    client = app.test_client()
    response = password_step(client, user.email)
    assert response.status_code == 302
    assert _path(response) == "/staff/sign-in/code"
    assert not signed_in(client)  # the password alone signs in nobody
    response = code_step(client, code_now(seed, clock))
    assert response.status_code == 302
    assert _path(response) == "/staff"
    page = client.get("/staff?lang=en").get_data(as_text=True)
    assert user.display_name in page
    assert user.last_login_at == clock.now()


def test_a_company_user_signs_in_with_the_password_alone(app, ctx, clock):
    user, _seed = make_staff(ctx, Role.COMPANY, totp=False)
    client = app.test_client()
    response = password_step(client, user.email)
    assert _path(response) == "/staff"
    page = client.get("/staff?lang=en").get_data(as_text=True)
    assert user.company is not None
    assert user.company.name in page
    assert "Staff accounts" not in page  # no admin link


def test_a_company_user_with_a_second_factor_must_give_it(app, ctx, clock):
    user, seed = make_staff(ctx, Role.COMPANY, totp=True)
    client = app.test_client()
    assert _path(password_step(client, user.email)) == "/staff/sign-in/code"
    assert not signed_in(client)
    assert _path(code_step(client, code_now(seed, clock))) == "/staff"


def test_a_reviewer_without_a_second_factor_must_enrol_first(app, ctx, clock):
    user, _ = make_staff(ctx, Role.REVIEWER, totp=False)
    client = app.test_client()
    response = password_step(client, user.email)
    assert _path(response) == "/staff/account/second-factor"
    assert _path(client.get("/staff")) == "/staff/account/second-factor"
    assert _path(client.get("/staff/account")) == "/staff/account/second-factor"

    page = client.get("/staff/account/second-factor?lang=en").get_data(as_text=True)
    assert "otpauth://totp/" in page
    # a QR code of the link, inline SVG, named for screen readers
    assert re.search(r'<div class="qr"><svg role="img" aria-label="[^"]+" viewBox=', page)
    match = re.search(r'<code [^>]*class="secret-groups">([A-Z2-7 ]+)</code>', page)
    assert match
    seed = base64.b32decode(match.group(1).replace(" ", ""))
    reloaded = client.get("/staff/account/second-factor").get_data(as_text=True)
    assert match.group(1) in reloaded  # reloading shows the same key

    wrong = _post(client, "/staff/account/second-factor", {"code": "000000"}, page=page)
    if code_now(seed, clock) != "000000":
        assert wrong.status_code == 422
        assert 'role="alert"' in wrong.get_data(as_text=True)
        assert user.totp_secret_enc is None

    done = _post(client, "/staff/account/second-factor", {"code": code_now(seed, clock)}, page=page)
    assert done.status_code == 200
    codes = re.findall(
        r"<li><code[^>]*>([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})</code></li>", done.get_data(as_text=True)
    )
    assert len(codes) == 10
    assert accounts.has_second_factor(user)
    assert accounts.totp_secret(ctx, user) == seed
    stored = ctx.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10
    assert all(row.code_hash.startswith("$argon2id$") for row in stored)
    assert not any(code.replace("-", "") in row.code_hash for code in codes for row in stored)
    assert signed_in(client)

    # the next sign-in asks for the code
    sign_out(client)
    clock.advance(seconds=30)
    assert _path(sign_in(client, user, seed, clock)) == "/staff"


def test_a_company_user_may_enrol_a_second_factor(app, ctx, clock):
    user, _ = make_staff(ctx, Role.COMPANY, totp=False)
    client = app.test_client()
    sign_in(client, user, None, clock)
    account = client.get("/staff/account?lang=en").get_data(as_text=True)
    assert "You may protect your account with a second factor" in account
    page = client.get("/staff/account/second-factor?lang=en").get_data(as_text=True)
    match = re.search(r'<code [^>]*class="secret-groups">([A-Z2-7 ]+)</code>', page)
    assert match
    seed = base64.b32decode(match.group(1).replace(" ", ""))
    done = _post(client, "/staff/account/second-factor", {"code": code_now(seed, clock)}, page=page)
    assert done.status_code == 200
    assert accounts.has_second_factor(user)
    sign_out(client)
    clock.advance(seconds=30)
    assert _path(password_step(client, user.email)) == "/staff/sign-in/code"


def test_a_code_signs_in_once(app, ctx, clock):
    user, seed = make_staff(ctx, Role.REVIEWER)
    client = app.test_client()
    code = code_now(seed, clock)
    password_step(client, user.email)
    assert _path(code_step(client, code)) == "/staff"
    sign_out(client)
    password_step(client, user.email)
    again = code_step(client, code)  # same step, same code
    assert again.status_code == 401
    assert "Wait for your app to show the next one" in again.get_data(as_text=True)
    assert not signed_in(client)
    clock.advance(seconds=30)
    password_step(client, user.email)
    assert _path(code_step(client, code_now(seed, clock))) == "/staff"


def test_only_a_reused_code_is_told_to_wait_for_the_next(app, ctx, clock):
    user, seed = make_staff(ctx, Role.REVIEWER)
    client = app.test_client()
    code = code_now(seed, clock)
    password_step(client, user.email)
    wrong = "000000" if code != "000000" else "111111"
    refused = code_step(client, wrong)
    assert refused.status_code == 401
    assert "Wait for your app" not in refused.get_data(as_text=True)
    assert _path(code_step(client, code)) == "/staff"
    # the same code on the account page (new recovery codes): wait for the next one
    page = client.get("/staff/account?lang=en").get_data(as_text=True)
    again = _post(client, "/staff/account/recovery-codes", {"code": code}, page=page)
    assert again.status_code == 422
    assert "Wait for your app to show the next one" in again.get_data(as_text=True)
    clock.advance(seconds=30)
    assert not accounts.totp_code_reused(ctx, user, code_now(seed, clock))


@pytest.mark.parametrize(("offset", "accepted"), [(-2, False), (-1, True), (1, True), (2, False)])
def test_codes_one_step_away_are_accepted_two_are_not(app, ctx, clock, offset, accepted):
    user, seed = make_staff(ctx, Role.ADMIN)
    client = app.test_client()
    password_step(client, user.email)
    response = code_step(client, code_now(seed, clock, offset))
    assert (response.status_code == 302) is accepted
    assert signed_in(client) is accepted


def test_a_recovery_code_signs_in_once(app, ctx, clock):
    user, _seed = make_staff(ctx, Role.SECRETARIAT)
    codes = accounts.new_recovery_codes(ctx, user)
    client = app.test_client()
    password_step(client, user.email)
    assert _path(code_step(client, codes[3].lower().replace("-", " "))) == "/staff"
    assert accounts.unused_recovery_codes(ctx, user) == 9
    sign_out(client)
    password_step(client, user.email)
    assert code_step(client, codes[3]).status_code == 401
    assert _path(code_step(client, codes[4])) == "/staff"


def test_the_code_step_expires_after_five_minutes(app, ctx, clock):
    user, seed = make_staff(ctx, Role.REVIEWER)
    client = app.test_client()
    password_step(client, user.email)
    page = client.get("/staff/sign-in/code").get_data(as_text=True)
    clock.advance(minutes=5, seconds=1)
    response = client.post(
        "/staff/sign-in/code", data={"csrf_token": _token(page), "code": code_now(seed, clock)}
    )
    assert _path(response) == "/staff/sign-in"
    assert not signed_in(client)


def test_new_recovery_codes_need_a_current_code(app, ctx, clock):
    user, seed = make_staff(ctx, Role.REVIEWER)
    old = accounts.new_recovery_codes(ctx, user)
    client = app.test_client()
    sign_in(client, user, seed, clock)
    page = client.get("/staff/account?lang=en").get_data(as_text=True)
    assert "10 unused recovery codes" in page
    refused = _post(client, "/staff/account/recovery-codes", {"code": "12345"}, page=page)
    assert refused.status_code == 422
    clock.advance(seconds=30)
    response = _post(
        client, "/staff/account/recovery-codes", {"code": code_now(seed, clock)}, page=page
    )
    assert response.status_code == 200
    fresh = re.findall(
        r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", response.get_data(as_text=True)
    )
    assert len(fresh) == 10
    assert not set(fresh) & set(old)
    assert not accounts.use_recovery_code(ctx, user, old[0])
    assert accounts.use_recovery_code(ctx, user, fresh[0])


# -- failures look alike ---------------------------------------------------------------------


def _normalised(response, email: str) -> str:
    body = response.get_data(as_text=True).replace(email, "EMAIL")
    return re.sub(r'name="csrf_token" (?:type="hidden" )?value="[^"]+"', "TOKEN", body)


def test_a_wrong_password_and_an_unknown_address_look_alike(app, ctx, clock, monkeypatch):
    user, _seed = make_staff(ctx, Role.REVIEWER)
    verified: list[str] = []
    real_verify = lifecycle.verify_password

    def counting(stored, password, kdf):
        verified.append(stored)
        return real_verify(stored, password, kdf)

    monkeypatch.setattr(lifecycle, "verify_password", counting)
    wrong = password_step(app.test_client(), user.email, "not the password at all")
    unknown_email = "nobody.here@example.org"
    unknown = password_step(app.test_client(), unknown_email, "not the password at all")
    inactive_user, _ = make_staff(ctx, Role.REVIEWER)
    inactive_user.active = False
    inactive = password_step(app.test_client(), inactive_user.email, PASSWORD)

    assert wrong.status_code == unknown.status_code == inactive.status_code == 401
    assert _normalised(wrong, user.email) == _normalised(unknown, unknown_email)
    assert _normalised(wrong, user.email) == _normalised(inactive, inactive_user.email)
    assert sorted(wrong.headers.keys()) == sorted(unknown.headers.keys())
    # one Argon2id verification each: an unknown address costs the same (a dummy hash)
    assert len(verified) == 3
    assert verified[1].startswith("$argon2id$")
    assert verified[1] not in (user.password_hash, inactive_user.password_hash)


def test_a_locked_pair_answers_like_a_wrong_password(app, ctx, clock):
    user, _seed = make_staff(ctx, Role.COMPANY, totp=False)
    client = app.test_client()
    for _ in range(accounts.MAX_FAILURES):
        wrong = password_step(client, user.email, "not the password at all")
    locked = password_step(client, user.email, PASSWORD)  # the right one
    assert locked.status_code == 401
    assert _normalised(locked, user.email) == _normalised(wrong, user.email)


# -- throttling ------------------------------------------------------------------------------


def _device_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("staff_device=")]
    assert len(cookies) == 1
    return cookies[0]


def test_failures_lock_untrusted_clients_but_not_the_owner_on_a_known_device(app, ctx, clock):
    user, seed = make_staff(ctx, Role.REVIEWER)
    owner = app.test_client()
    password_step(owner, user.email)
    response = code_step(owner, code_now(seed, clock))
    cookie = _device_cookie(response)
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Path=/staff/sign-in" in cookie
    assert "Secure" not in cookie  # http here; Secure (and __Secure-) with https
    assert user.email not in cookie
    sign_out(owner)

    attacker = app.test_client()
    for _ in range(accounts.MAX_FAILURES):
        assert password_step(attacker, user.email, "guess guess guess").status_code == 401
    # the attacker's clients (all untrusted ones) are locked, even with the right password
    assert password_step(attacker, user.email, PASSWORD).status_code == 401
    assert password_step(app.test_client(), user.email, PASSWORD).status_code == 401
    rows = ctx.session.scalars(select(LoginThrottle)).all()
    assert [(row.client_key, row.failures) for row in rows] == [("untrusted", 5)]
    assert user.email not in rows[0].account_key

    # the owner's browser signed in to this account before: unaffected
    clock.advance(seconds=30)
    assert _path(sign_in(owner, user, seed, clock)) == "/staff"


def test_a_device_cookie_counts_only_for_its_own_account(app, ctx, clock):
    user, seed = make_staff(ctx, Role.REVIEWER)
    other, _ = make_staff(ctx, Role.REVIEWER)
    client = app.test_client()
    sign_in(client, user, seed, clock)
    sign_out(client)
    for _ in range(accounts.MAX_FAILURES):
        password_step(client, other.email, "guess guess guess")
    keys = {row.client_key for row in ctx.session.scalars(select(LoginThrottle))}
    assert keys == {"untrusted"}  # this browser is a stranger to the other account


def test_failures_of_the_second_step_count_too(app, ctx, clock):
    user, seed = make_staff(ctx, Role.ADMIN)
    client = app.test_client()
    password_step(client, user.email)
    for _ in range(accounts.MAX_FAILURES):
        assert (
            code_step(
                client, "000001" if code_now(seed, clock) != "000001" else "000002"
            ).status_code
            == 401
        )
    assert code_step(client, code_now(seed, clock)).status_code == 401  # locked now
    assert not signed_in(client)


def test_locks_expire_and_double(ctx, clock):
    key = "k" * 64

    def fail(times: int) -> None:
        for _ in range(times):
            throttle._count_failure(ctx, key, "untrusted", "test")

    def locked() -> bool:
        return accounts.locked_until(ctx, key, "untrusted") is not None

    fail(4)
    assert not locked()
    fail(1)
    assert accounts.locked_until(ctx, key, "untrusted") == clock.now() + timedelta(minutes=15)
    assert not accounts.locked_until(ctx, key, "another-device")
    clock.advance(minutes=14)
    assert locked()
    clock.advance(minutes=1)
    assert not locked()
    fail(4)
    assert not locked()  # five more failures before the next lock ...
    fail(1)
    assert accounts.locked_until(ctx, key, "untrusted") == clock.now() + timedelta(minutes=30)
    clock.advance(minutes=29)
    assert locked()  # ... which is twice as long
    clock.advance(minutes=1)
    assert not locked()
    fail(5)
    assert accounts.locked_until(ctx, key, "untrusted") == clock.now() + timedelta(hours=1)
    # a day of quiet after the lock forgives the pair
    clock.advance(hours=25)
    fail(5)
    assert accounts.locked_until(ctx, key, "untrusted") == clock.now() + timedelta(minutes=15)


def test_failures_spread_beyond_the_window_do_not_lock(ctx, clock):
    key = "w" * 64
    for _ in range(4):
        throttle._count_failure(ctx, key, "untrusted", "test")
    clock.advance(minutes=15)
    for _ in range(4):
        throttle._count_failure(ctx, key, "untrusted", "test")
    assert accounts.locked_until(ctx, key, "untrusted") is None


def test_the_purge_forgets_only_rows_that_change_nothing(ctx, clock):
    def fail(key: str, times: int) -> None:
        for _ in range(times):
            throttle._count_failure(ctx, key, "untrusted", "test")

    fail("a" * 64, 2)  # failures whose window will pass: nothing left to protect
    fail("b" * 64, 5)  # locked, then its lock ends: it still doubles the next one
    clock.advance(minutes=16)
    fail("c" * 64, 2)  # a window still open
    fail("d" * 64, 5)  # locked now
    assert accounts.purge_throttles(ctx) == 1
    left = {row.account_key[0] for row in ctx.session.scalars(select(LoginThrottle))}
    assert left == {"b", "c", "d"}
    fail("b" * 64, 5)  # the memory kept: this lock is twice as long
    assert accounts.locked_until(ctx, "b" * 64, "untrusted") == clock.now() + timedelta(minutes=30)
    clock.advance(hours=25)  # a day after every lock ended: all forgiven
    assert accounts.purge_throttles(ctx) == 3
    assert ctx.session.scalars(select(LoginThrottle)).all() == []


def test_a_lock_lasts_at_most_a_day(ctx, clock):
    key = "d" * 64
    for _ in range(12):
        for _ in range(accounts.MAX_FAILURES):
            throttle._count_failure(ctx, key, "untrusted", "test")
        until = accounts.locked_until(ctx, key, "untrusted")
        assert until is not None
        assert until - clock.now() <= timedelta(hours=24)
        clock.set(until)
    assert until - (until - timedelta(hours=24)) == timedelta(hours=24)


def test_signing_in_is_rate_limited_per_device(app, ctx):
    """More in tests/integration/test_sign_in_limits.py."""
    client = app.test_client()
    page = client.get("/staff/sign-in").get_data(as_text=True)
    for number in range(30):
        response = client.post(
            "/staff/sign-in",
            data={"csrf_token": _token(page), "email": f"x{number}@example.org", "password": "p"},
        )
        assert response.status_code == 401
    response = client.post(
        "/staff/sign-in",
        data={"csrf_token": _token(page), "email": "x@example.org", "password": "p"},
    )
    assert response.status_code == 429
    other = app.test_client()
    assert (
        password_step(other, "y@example.org", environ_base={"REMOTE_ADDR": "10.9.8.7"}).status_code
        == 401
    )


# -- sessions --------------------------------------------------------------------------------


def test_a_session_ends_after_thirty_minutes_of_silence(app, ctx, clock):
    user, _ = make_staff(ctx, Role.COMPANY, totp=False)
    client = app.test_client()
    sign_in(client, user, None, clock)
    for _ in range(3):
        clock.advance(minutes=29)
        assert signed_in(client)
    clock.advance(minutes=30, seconds=1)
    response = client.get("/staff")
    assert _path(response) == "/staff/sign-in"
    assert "Your session ended" in client.get(response.headers["Location"] + "&lang=en").get_data(
        as_text=True
    )
    assert not signed_in(client)


def test_a_session_ends_eight_hours_after_it_began(app, ctx, clock):
    user, _ = make_staff(ctx, Role.COMPANY, totp=False)
    client = app.test_client()
    sign_in(client, user, None, clock)
    for _ in range(16):  # busy all day
        clock.advance(minutes=29, seconds=59)
        assert signed_in(client)
    clock.advance(minutes=1)  # 8 hours and a few seconds
    assert not signed_in(client)


def test_pages_need_a_signed_in_user_and_come_back_after(app, ctx, clock):
    user, seed = make_staff(ctx, Role.ADMIN)
    client = app.test_client()
    response = client.get("/staff/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/sign-in?next=/staff/admin/users")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    password_page = client.post(
        "/staff/sign-in?next=/staff/admin/users",
        data={"csrf_token": _token(page), "email": user.email, "password": PASSWORD},
    )
    assert _path(password_page) == "/staff/sign-in/code"
    assert _path(code_step(client, code_now(seed, clock))) == "/staff/admin/users"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_no_open_redirect_after_sign_in(app, ctx, clock, target):
    user, _ = make_staff(ctx, Role.COMPANY, totp=False)
    client = app.test_client()
    page = client.get("/staff/sign-in").get_data(as_text=True)
    response = client.post(
        "/staff/sign-in",
        query_string={"next": target},
        data={"csrf_token": _token(page), "email": user.email, "password": PASSWORD},
    )
    assert _path(response) == "/staff"


def test_signing_in_starts_a_new_session(app, ctx, clock):
    """No session fixation: nothing of the session before sign-in survives it."""
    user, _ = make_staff(ctx, Role.COMPANY, totp=False)
    client = app.test_client()
    before = _token(client.get("/staff/sign-in").get_data(as_text=True))
    client.post(
        "/staff/sign-in", data={"csrf_token": before, "email": user.email, "password": PASSWORD}
    )
    assert signed_in(client)
    assert client.post("/staff/sign-out", data={"csrf_token": before}).status_code == 400
    assert signed_in(client)


def test_staff_sign_in_leaves_the_anonymous_surface_alone(app, ctx, clock):
    """The intake pages keep their own cookie: no staff state is read or written there."""
    user, _ = make_staff(ctx, Role.COMPANY, totp=False)
    client = app.test_client()
    client.get("/staff/sign-in")
    sign_in(client, user, None, clock)
    staff_cookie = client.get_cookie("staff").value
    for path in ("/complaint", "/complaint", "/follow-up", "/"):
        response = client.get(path)
        cookies = response.headers.getlist("Set-Cookie")
        assert not any(c.startswith(("staff=", "remember_token=")) for c in cookies), cookies
    assert client.get_cookie("staff").value == staff_cookie
    assert signed_in(client)


def test_csrf_is_enforced_on_sign_in_and_sign_out(app, ctx, clock):
    user, _ = make_staff(ctx, Role.COMPANY, totp=False)
    client = app.test_client()
    client.get("/staff/sign-in")
    response = client.post("/staff/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert not signed_in(client)
    sign_in(client, user, None, clock)
    assert client.post("/staff/sign-out").status_code == 400
    assert signed_in(client)
    assert _path(sign_out(client)) == "/staff/sign-in"
    assert not signed_in(client)


def test_signing_out_ends_every_copy_of_the_session(app, ctx, clock):
    user, _ = make_staff(ctx, Role.COMPANY, totp=False)
    client = app.test_client()
    sign_in(client, user, None, clock)
    copy = app.test_client()
    copy.set_cookie("staff", client.get_cookie("staff").value)
    assert signed_in(copy)
    clock.advance(seconds=1)
    sign_out(client)
    assert not signed_in(copy)


def test_changing_the_password_ends_the_other_sessions(app, ctx, clock):
    user, seed = make_staff(ctx, Role.REVIEWER)
    mine, other = app.test_client(), app.test_client()
    sign_in(other, user, seed, clock)
    clock.advance(seconds=30)
    sign_in(mine, user, seed, clock)
    clock.advance(seconds=1)
    response = _post(
        mine,
        "/staff/account/password",
        {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert _path(response) == "/staff"
    assert signed_in(mine)
    assert not signed_in(other)
    assert user.password_changed_at == clock.now()
    clock.advance(seconds=30)
    sign_out(mine)
    assert password_step(mine, user.email, PASSWORD).status_code == 401
    clock.advance(seconds=30)
    assert _path(sign_in(mine, user, seed, clock, password=NEW_PASSWORD)) == "/staff"


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        (
            "wrong current password",
            NEW_PASSWORD,
            NEW_PASSWORD,
            "Your current password is not right.",
        ),
        (PASSWORD, "too short", "too short", "Use at least 12 characters."),
        (PASSWORD, "password1234", "password1234", "This password is too common"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", "The two new passwords differ."),
    ],
)
def test_a_refused_password_change_says_why_next_to_the_field(
    app, ctx, clock, current, new, confirm, message
):
    user, _ = make_staff(ctx, Role.COMPANY, totp=False)
    client = app.test_client()
    sign_in(client, user, None, clock)
    old_hash = user.password_hash
    response = _post(
        client,
        "/staff/account/password?lang=en",
        {"current": current, "new": new, "confirm": confirm},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'<p class="error" id="[a-z]+-error" role="alert">' + re.escape(message), page)
    assert user.password_hash == old_hash
    assert signed_in(client)


# -- administration --------------------------------------------------------------------------


def admin_client(app, ctx, clock):
    admin, seed = make_staff(ctx, Role.ADMIN)
    client = app.test_client()
    sign_in(client, admin, seed, clock)
    assert signed_in(client)
    return admin, client


def test_an_admin_reset_forces_a_new_password_and_ends_sessions(app, ctx, clock):
    user, seed = make_staff(ctx, Role.SECRETARIAT)
    victim = app.test_client()
    sign_in(victim, user, seed, clock)
    _admin, client = admin_client(app, ctx, clock)
    clock.advance(seconds=30)
    page = client.get("/staff/admin/users?lang=en").get_data(as_text=True)
    assert user.email in page
    response = _post(client, f"/staff/admin/users/{user.id}/reset?lang=en", {}, page=page)
    assert response.status_code == 200
    temporary = re.search(r"<strong>([a-z2-9-]{24})</strong>", response.get_data(as_text=True))
    assert temporary
    assert not signed_in(victim)
    assert user.must_change_password
    assert accounts.has_second_factor(user)  # kept: the temporary password alone is not enough

    clock.advance(seconds=30)
    response = sign_in(victim, user, seed, clock, password=temporary.group(1))
    assert _path(response) == "/staff/account/password"
    assert _path(victim.get("/staff")) == "/staff/account/password"
    assert _path(victim.get("/staff/account")) == "/staff/account/password"
    changed = _post(
        victim,
        "/staff/account/password",
        {"current": temporary.group(1), "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert _path(changed) == "/staff"
    assert signed_in(victim)
    assert not user.must_change_password


def test_a_reset_may_remove_the_second_factor_and_the_user_enrols_again(app, ctx, clock):
    user, _seed = make_staff(ctx, Role.REVIEWER)
    accounts.new_recovery_codes(ctx, user)
    _admin, client = admin_client(app, ctx, clock)
    response = _post(
        client,
        f"/staff/admin/users/{user.id}/reset",
        {"remove_second_factor": "yes"},
        page=client.get("/staff/admin/users").get_data(as_text=True),
    )
    temporary = re.search(r"<strong>([a-z2-9-]{24})</strong>", response.get_data(as_text=True))
    assert temporary
    assert not accounts.has_second_factor(user)
    assert accounts.unused_recovery_codes(ctx, user) == 0
    victim = app.test_client()
    response = password_step(victim, user.email, temporary.group(1))
    assert _path(response) == "/staff/account/password"
    changed = _post(
        victim,
        "/staff/account/password",
        {"current": temporary.group(1), "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert _path(changed) == "/staff/account/second-factor"
    assert _path(victim.get("/staff")) == "/staff/account/second-factor"


def test_a_reset_lifts_the_account_lock(app, ctx, clock):
    user, _seed = make_staff(ctx, Role.REVIEWER)
    for _ in range(accounts.MAX_FAILURES):
        password_step(app.test_client(), user.email, "guess guess guess")
    temporary = accounts.admin_reset_password(ctx, Actor(role=Role.ADMIN, user_id=-1), user)
    assert _path(password_step(app.test_client(), user.email, temporary)) == "/staff/sign-in/code"


def test_a_deactivated_user_is_signed_out_at_the_next_request(app, ctx, clock):
    user, _ = make_staff(ctx, Role.COMPANY, totp=False)
    victim = app.test_client()
    sign_in(victim, user, None, clock)
    _admin, client = admin_client(app, ctx, clock)
    response = _post(
        client,
        f"/staff/admin/users/{user.id}/deactivate",
        {},
        page=client.get("/staff/admin/users").get_data(as_text=True),
    )
    assert _path(response) == "/staff/admin/users"
    assert not user.active
    assert not signed_in(victim)
    assert password_step(victim, user.email, PASSWORD).status_code == 401
    _post(
        client,
        f"/staff/admin/users/{user.id}/reactivate",
        {},
        page=client.get("/staff/admin/users").get_data(as_text=True),
    )
    assert user.active
    assert _path(password_step(victim, user.email, PASSWORD)) == "/staff"


def test_an_admin_cannot_deactivate_or_reset_themselves(app, ctx, clock):
    admin, client = admin_client(app, ctx, clock)
    page = client.get("/staff/admin/users").get_data(as_text=True)
    assert (
        _post(client, f"/staff/admin/users/{admin.id}/deactivate", {}, page=page).status_code == 403
    )
    assert _post(client, f"/staff/admin/users/{admin.id}/reset", {}, page=page).status_code == 403
    assert admin.active
    assert signed_in(client)


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.COMPANY, Role.SECRETARIAT])
def test_only_admins_see_the_staff_accounts(app, ctx, clock, role):
    other, _ = make_staff(ctx, Role.COMPANY, totp=False)
    user, seed = make_staff(ctx, role, totp=role is not Role.COMPANY)
    client = app.test_client()
    sign_in(client, user, seed, clock)
    for path in ("/staff/admin/users", "/staff/admin/users/new"):
        response = client.get(path)
        assert response.status_code == 403
        assert other.email not in response.get_data(as_text=True)
        assert other.display_name not in response.get_data(as_text=True)
    page = client.get("/staff").get_data(as_text=True)
    for path in (
        f"/staff/admin/users/{other.id}/reset",
        f"/staff/admin/users/{other.id}/deactivate",
    ):
        assert client.post(path, data={"csrf_token": _token(page)}).status_code == 403
    assert other.active
    assert not other.must_change_password


def test_an_admin_creates_accounts_scoped_to_a_company_or_mechanisms(app, ctx, clock):
    company = make_company(ctx, name="Rahman Knitwear Ltd")
    tex, nst = make_mechanism(ctx, code="TEX"), make_mechanism(ctx, code="NST")
    _admin, client = admin_client(app, ctx, clock)
    page = client.get("/staff/admin/users/new?lang=en").get_data(as_text=True)
    assert "Rahman Knitwear Ltd" in page

    refused = _post(
        client,
        "/staff/admin/users/new?lang=en",
        {"display_name": "Tania", "email": "tania@example.org", "role": "company"},
        page=page,
    )
    assert refused.status_code == 422
    assert "Choose the company this person works for." in refused.get_data(as_text=True)
    refused = _post(
        client,
        "/staff/admin/users/new?lang=en",
        {"display_name": "Joost", "email": "joost@example.org", "role": "secretariat"},
        page=page,
    )
    assert "Choose at least one mechanism." in refused.get_data(as_text=True)

    created = _post(
        client,
        "/staff/admin/users/new?lang=en",
        {
            "display_name": "Joost",
            "email": "Joost@Example.org",
            "role": "secretariat",
            "mechanisms": [str(tex.id), str(nst.id)],
        },
        page=page,
    )
    assert created.status_code == 200
    temporary = re.search(r"<strong>([a-z2-9-]{24})</strong>", created.get_data(as_text=True))
    assert temporary
    joost = accounts.find_user(ctx, "joost@example.org")
    assert joost is not None
    assert joost.email == "joost@example.org"
    assert {m.code for m in joost.mechanisms} == {"TEX", "NST"}
    assert joost.must_change_password

    _post(
        client,
        "/staff/admin/users/new",
        {
            "display_name": "Tania",
            "email": "tania@example.org",
            "role": "company",
            "company": str(company.id),
        },
        page=page,
    )
    tania = accounts.find_user(ctx, "tania@example.org")
    assert tania is not None
    assert tania.company_id == company.id
    assert tania.role is Role.COMPANY

    taken = _post(
        client,
        "/staff/admin/users/new?lang=en",
        {"display_name": "Again", "email": "TANIA@example.org", "role": "admin"},
        page=page,
    )
    assert "There is an account with this e-mail address." in taken.get_data(as_text=True)

    # the new secretariat user: temporary password, then their own, then the app
    newcomer = app.test_client()
    response = password_step(newcomer, "joost@example.org", temporary.group(1))
    assert _path(response) == "/staff/account/password"


def test_every_account_change_is_audited_by_user_id(app, ctx, clock, caplog):
    caplog.set_level(logging.INFO, logger="grievance.audit")
    user, _ = make_staff(ctx, Role.COMPANY, totp=False)
    admin = make_user(ctx, Role.ADMIN)
    actor = Actor.for_user(admin)
    accounts.admin_reset_password(ctx, actor, user)
    accounts.deactivate(ctx, actor, user)
    accounts.reactivate(ctx, actor, user)
    created = accounts.create_user(
        ctx, actor, email="new.person@example.org", display_name="New", role=Role.ADMIN
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "grievance.audit"]
    assert f"user {admin.id} reset the password of user {user.id} (second factor kept)" in lines
    assert f"user {admin.id} deactivated user {user.id}" in lines
    assert f"user {admin.id} reactivated user {user.id}" in lines
    assert f"user {admin.id} created user {created.user.id} (admin)" in lines
    assert not any("@" in line for line in lines)


# -- the service, directly -------------------------------------------------------------------


def test_only_admins_manage_accounts(ctx):
    user, _ = make_staff(ctx, Role.COMPANY, totp=False)
    secretariat = Actor.for_user(make_user(ctx, Role.SECRETARIAT))
    with pytest.raises(accounts.NotAllowed):
        accounts.admin_reset_password(ctx, secretariat, user)
    with pytest.raises(accounts.NotAllowed):
        accounts.deactivate(ctx, secretariat, user)
    with pytest.raises(accounts.NotAllowed):
        accounts.create_user(
            ctx, secretariat, email="x@example.org", display_name="X", role=Role.ADMIN
        )
    assert user.active


def test_a_hash_with_old_parameters_is_renewed_at_sign_in(ctx):
    user = make_user(ctx, Role.COMPANY, company=make_company(ctx))
    old = KdfParameters(time_cost=2, memory_cost_kib=16, parallelism=1)
    user.password_hash = hash_password(PASSWORD, old)
    assert accounts.authenticate(ctx, user.email, PASSWORD, "untrusted") is user
    assert "m=8,t=1,p=1" in user.password_hash  # TEST_KDF
    assert accounts.authenticate(ctx, user.email, PASSWORD, "untrusted") is user


def test_an_address_is_found_whatever_its_case(ctx):
    user, _ = make_staff(ctx, Role.COMPANY, totp=False)
    assert accounts.authenticate(ctx, "  " + user.email.upper(), PASSWORD, "untrusted") is user


def test_an_overlong_password_never_signs_in(ctx):
    user = make_user(ctx, Role.COMPANY, company=make_company(ctx))
    long_password = "x" * 200
    user.password_hash = hash_password(long_password, ctx.kdf)
    assert accounts.authenticate(ctx, user.email, long_password, "untrusted") is None


def test_a_code_used_concurrently_is_let_in_once(ctx, clock):
    user, seed = make_staff(ctx, Role.REVIEWER)
    code = code_now(seed, clock)
    assert accounts.verify_second_factor(ctx, user, code, "untrusted") is accounts.SecondFactor.TOTP
    assert accounts.verify_second_factor(ctx, user, code, "untrusted") is None


# -- nothing secret in the logs --------------------------------------------------------------


def test_no_address_password_or_code_reaches_the_logs(app, ctx, clock, caplog):
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="grievance")
    user, seed = make_staff(ctx, Role.REVIEWER)
    codes = accounts.new_recovery_codes(ctx, user)
    client = app.test_client()
    secrets_used = [user.email, PASSWORD, "wrong horse battery staple", "ghost@example.org"]
    for _ in range(3):
        password_step(client, user.email, "wrong horse battery staple")
    password_step(client, "ghost@example.org", PASSWORD)
    password_step(client, user.email)
    wrong_code = "123456" if code_now(seed, clock) != "123456" else "654321"
    code_step(client, wrong_code)
    good = code_now(seed, clock)
    code_step(client, good)
    sign_out(client)
    clock.advance(seconds=30)
    password_step(client, user.email)
    code_step(client, codes[0])
    for _ in range(5):
        password_step(app.test_client(), user.email, "wrong horse battery staple")
    secrets_used += [wrong_code, good, codes[0], codes[0].replace("-", "")]
    text = "\n".join(
        f"{record.name} {record.getMessage()} {record.args!r}" for record in caplog.records
    )
    assert "grievance.audit" in text  # the sign-ins were logged ...
    assert "locked" in text
    for secret in secrets_used:
        assert secret not in text  # ... without any of these
    assert user.email.split("@")[0] not in text


# -- commands --------------------------------------------------------------------------------


def _demo_user(ctx, email: str, role: Role) -> User:
    user = make_user(ctx, role, company=make_company(ctx) if role is Role.COMPANY else None)
    user.email = email
    user.password_hash = hash_password(DEMO_PASSWORD, ctx.kdf)
    ctx.session.flush()
    return user


def test_demo_otp_prints_a_code_that_signs_in(app, ctx, clock):
    user = _demo_user(ctx, "anouk.verbeek@example.org", Role.SECRETARIAT)
    assert enrol_demo_accounts(ctx, read_data()) == 1
    assert accounts.has_second_factor(user)
    result = app.test_cli_runner().invoke(args=["grievance", "demo-otp", user.email])
    assert result.exit_code == 0, result.output
    code = result.output.strip()
    assert re.fullmatch(r"[0-9]{6}", code)
    client = app.test_client()
    password_step(client, user.email, DEMO_PASSWORD)
    assert _path(code_step(client, code)) == "/staff"


def test_demo_otp_refuses_other_accounts(app, ctx, clock):
    runner = app.test_cli_runner()
    real, _ = make_staff(ctx, Role.ADMIN)
    result = runner.invoke(args=["grievance", "demo-otp", real.email])
    assert result.exit_code == 2
    assert not re.search(r"\b[0-9]{6}\b", result.output)
    # a demo address whose password is no longer the demo one
    changed = _demo_user(ctx, "sanne.kuipers@example.org", Role.ADMIN)
    enrol_demo_accounts(ctx, read_data())
    changed.password_hash = hash_password(NEW_PASSWORD, ctx.kdf)
    assert runner.invoke(args=["grievance", "demo-otp", changed.email]).exit_code == 2
    assert runner.invoke(args=["grievance", "demo-otp", "nobody@example.org"]).exit_code == 2


def test_demo_otp_refuses_in_production(app, ctx, clock, monkeypatch):
    user = _demo_user(ctx, "joris.vandam@example.org", Role.SECRETARIAT)
    enrol_demo_accounts(ctx, read_data())
    settings = app_services(app).settings
    patch_services(monkeypatch, app, settings=replace(settings, env="production"))
    result = app.test_cli_runner().invoke(args=["grievance", "demo-otp", user.email])
    assert result.exit_code == 2
    assert "production" in result.output


def test_demo_accounts_of_company_staff_get_no_second_factor(ctx):
    user = _demo_user(ctx, "lieke.brouwer@example.org", Role.COMPANY)
    assert enrol_demo_accounts(ctx, read_data()) == 0
    assert not accounts.has_second_factor(user)


def test_create_admin_prints_a_temporary_password_once(app, ctx, clock):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["grievance", "create-admin", "first.admin@example.org"])
    assert result.exit_code == 0, result.output
    temporary = re.search(r"^  ([a-z2-9-]{24})$", result.output, re.MULTILINE)
    assert temporary
    admin = accounts.find_user(ctx, "first.admin@example.org")
    assert admin is not None
    assert admin.role is Role.ADMIN
    assert admin.must_change_password
    assert temporary.group(1) not in admin.password_hash

    client = app.test_client()
    assert _path(password_step(client, admin.email, temporary.group(1))) == (
        "/staff/account/password"
    )
    changed = _post(
        client,
        "/staff/account/password",
        {"current": temporary.group(1), "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert _path(changed) == "/staff/account/second-factor"  # then the authenticator app

    again = runner.invoke(args=["grievance", "create-admin", "First.Admin@example.org"])
    assert again.exit_code == 1
    assert "email_taken" in again.output


def test_a_system_actor_may_create_accounts(ctx):
    created = accounts.create_user(
        ctx, SYSTEM, email="boot@example.org", display_name="Boot", role=Role.ADMIN
    )
    assert created.user.must_change_password
