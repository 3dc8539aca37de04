"""Security notices to staff (ASVS 2.2.3): a changed or reset password, a second factor
added or removed, a recovery code used or renewed, a sign-in from a new browser; each a
notification in the inbox and an e-mail at once, whatever the user chose."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from grievance.models import EmailMode, MailMessage, Role, StaffNotification
from grievance.services import accounts, notifications
from grievance.services.actors import Actor
from tests.factories import PASSWORD, make_mechanism, make_staff
from tests.integration.test_mail import send
from tests.integration.test_staff_auth import sign_in
from tests.smtp_server import MailSink, RunningServer, serve


@pytest.fixture
def smtp() -> Iterator[RunningServer]:
    yield from serve(MailSink())


def _notices(ctx, user) -> list[str]:
    return list(
        ctx.session.scalars(
            select(StaffNotification.kind)
            .where(StaffNotification.user_id == user.id)
            .order_by(StaffNotification.id)
        )
    )


def _mailed_at_once(ctx, user) -> list[str]:
    return list(
        ctx.session.scalars(
            select(MailMessage.topic).where(MailMessage.user_id == user.id).order_by(MailMessage.id)
        )
    )


def test_a_password_change_is_told_at_once_even_in_digest_mode(ctx):
    user, _ = make_staff(ctx, Role.ADMIN)
    user.email_mode = EmailMode.DIGEST
    accounts.change_password(ctx, user, PASSWORD, "another long passphrase")
    assert _notices(ctx, user) == [notifications.PASSWORD_CHANGED]
    assert _mailed_at_once(ctx, user) == [notifications.PASSWORD_CHANGED]
    (row,) = ctx.session.scalars(select(StaffNotification)).all()
    assert row.urgent  # at once,
    assert row.digest_pending  # and in the day's digest too


def test_an_administrators_reset_tells_the_user(ctx):
    admin, _ = make_staff(ctx, Role.ADMIN)
    user, _ = make_staff(ctx, Role.REVIEWER)
    accounts.admin_reset_password(ctx, Actor.for_user(admin), user)
    assert _notices(ctx, user) == [notifications.PASSWORD_RESET]
    accounts.admin_reset_password(ctx, Actor.for_user(admin), user, remove_second_factor=True)
    assert _notices(ctx, user) == [
        notifications.PASSWORD_RESET,
        notifications.PASSWORD_RESET,
        notifications.SECOND_FACTOR_REMOVED,
    ]
    assert _notices(ctx, admin) == []


def test_second_factor_and_recovery_codes_are_told(ctx):
    user, _ = make_staff(ctx, Role.SECRETARIAT, totp=False)
    enrolment = accounts.begin_totp_enrolment(ctx, user)
    padded = enrolment.secret_base32 + "=" * (-len(enrolment.secret_base32) % 8)
    seed = base64.b32decode(padded)
    step = accounts.totp_step(ctx.now())
    codes = accounts.confirm_totp_enrolment(
        ctx, user, enrolment.sealed, accounts.totp_code(seed, step)
    )
    assert codes is not None
    assert _notices(ctx, user) == [notifications.SECOND_FACTOR_ADDED]  # the first codes: no more
    accounts.new_recovery_codes(ctx, user)
    assert _notices(ctx, user)[-1] == notifications.RECOVERY_CODES_RENEWED
    fresh = accounts.new_recovery_codes(ctx, user)
    found = accounts.verify_second_factor(ctx, user, fresh[0], accounts.UNTRUSTED_CLIENTS)
    assert found is accounts.SecondFactor.RECOVERY_CODE
    assert _notices(ctx, user)[-1] == notifications.RECOVERY_CODE_USED


def test_a_sign_in_from_a_new_browser_is_told_and_a_known_one_is_not(app, ctx, clock):
    user, seed = make_staff(ctx, Role.REVIEWER)
    first = app.test_client()
    sign_in(first, user, seed, clock)
    assert _notices(ctx, user) == []  # the account's first sign-in
    clock.advance(minutes=1)
    # the same browser again (a new session, with the device cookie it was given)
    again = app.test_client()
    device = first.get_cookie("staff_device", path="/staff/sign-in")
    assert device is not None
    again.set_cookie("staff_device", device.value, path="/staff/sign-in")
    sign_in(again, user, seed, clock)
    assert _notices(ctx, user) == []
    clock.advance(minutes=1)
    stranger = app.test_client()
    response = sign_in(stranger, user, seed, clock)
    assert response.status_code == 302
    assert _notices(ctx, user) == [notifications.NEW_DEVICE]
    assert _mailed_at_once(ctx, user) == [notifications.NEW_DEVICE]


def test_the_mail_of_a_security_notice_is_in_the_users_language(app, ctx, smtp):
    user, _ = make_staff(ctx, Role.SECRETARIAT, mechanisms=[make_mechanism(ctx, code="SEC")])
    user.email_mode = EmailMode.URGENT_ONLY
    user.language = "nl"
    accounts.change_password(ctx, user, PASSWORD, "a new long passphrase here")
    send(app, ctx, smtp)
    (mail,) = smtp.sink.to(user.email)
    assert mail.message["Subject"] == "Beveiligingsmelding: Uw wachtwoord is gewijzigd."
    text = mail.part("plain")
    assert "http://localhost/staff/account" in text
    assert "Was u dit niet? Laat het uw beheerder meteen weten." in text
