"""Key rotation: new key-encryption keys re-wrap the data keys, new sealing keys re-seal
staff TOTP seeds, SMS rows and the outbox, every identity and secret still opens, and
old versions can be retired (DESIGN §5)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select

from grievance.cli import sealed_columns
from grievance.crypto.keyring import SEALING_PURPOSES, Keyring, KeyringError, Purpose
from grievance.crypto.vault import TamperedCiphertext
from grievance.http.context import app_services
from grievance.models import (
    Anonymity,
    Channel,
    ContactChannel,
    DataKey,
    InboundSms,
    MailKind,
    MailMessage,
    OutboundMessage,
    Role,
    SmsConversation,
    User,
)
from grievance.services import contacts, mailbox, outbox
from grievance.services.accounts.second_factor import enrol_totp_secret, totp_secret
from grievance.services.actors import SYSTEM
from grievance.services.attachments import attach, attachments_of, check_file
from grievance.services.context import Context
from grievance.services.filing import ComplainantDetails, find_complainant
from grievance.services.keys import (
    reseal_all,
    retire_old_versions,
    retire_unused_keys,
    rewrap_all,
    rotated_keyring,
    sealed_versions_in_use,
    versions_in_use,
)
from intake.sms import rows
from tests.apps import patch_services
from tests.factories import make_mechanism, make_user, new_case
from tests.media import pdf_document

PHONE = "+8801711000042"


PHOTO = pdf_document("a payslip")


def _file_three(ctx: Context):
    mechanism = make_mechanism(ctx, code="ROT")
    person = ComplainantDetails(
        anonymity=Anonymity.CONFIDENTIAL,
        name="Rahela",
        contact_channel=ContactChannel.SMS,
        contact_address=PHONE,
    )
    filed = [new_case(ctx, mechanism, complainant=person) for _ in range(3)]
    for item in filed:
        attach(ctx, item.case, SYSTEM, [check_file("payslip.pdf", PHOTO)])
    return filed


def _read_all(ctx: Context, filed) -> list[tuple[str, str, str, bytes]]:
    """Open every case's values with a vault that has cached nothing."""
    fresh = replace(ctx)
    values = []
    for item in filed:
        case, person = item.case, item.complainant
        values.append(
            (
                fresh.vault.open(case.id, "statement", case.statement_enc),
                fresh.vault.open(case.id, f"complainant.{person.id}.name", person.name_enc),
                fresh.vault.open(case.id, f"complainant.{person.id}.contact", person.contact_enc),
                *(
                    fresh.vault.open_bytes(case.id, f"attachment.{a.id}.content", a.content_enc)
                    for a in attachments_of(fresh, case)
                ),
            )
        )
    return values


def test_rotating_twice_keeps_every_identity_and_old_versions_retire(ctx, keyring):
    filed = _file_three(ctx)
    before = _read_all(ctx, filed)
    assert before[0][1:] == ("Rahela", PHONE, PHOTO)

    ring = keyring
    for expected_version in (2, 3):
        ring = ring.with_new_version()
        rotated = replace(ctx, keyring=ring)
        assert rewrap_all(rotated, batch_size=2) == 3
        assert ring.current == expected_version
        assert versions_in_use(rotated) == {expected_version: 3}
        assert _read_all(rotated, filed) == before
        assert rewrap_all(rotated) == 0  # nothing left to do

    retired = retire_old_versions(replace(ctx, keyring=ring))
    assert sorted(retired.keks) == [3]
    assert _read_all(replace(ctx, keyring=retired), filed) == before
    # the first key can no longer open anything: the data keys really were re-wrapped
    with pytest.raises(KeyringError):
        _read_all(replace(ctx, keyring=keyring), filed)


def test_a_version_still_in_use_is_not_retired(ctx, keyring):
    _file_three(ctx)
    ring = keyring.with_new_version()
    assert sorted(retire_old_versions(replace(ctx, keyring=ring)).keks) == [1, 2]


def test_a_data_key_wrapped_for_another_case_does_not_open(ctx, keyring):
    first, second, _ = _file_three(ctx)
    rows = {
        row.case_id: row
        for row in ctx.session.scalars(
            select(DataKey).where(DataKey.case_id.in_([first.case.id, second.case.id]))
        )
    }
    rows[first.case.id].wrapped, rows[second.case.id].wrapped = (
        rows[second.case.id].wrapped,
        rows[first.case.id].wrapped,
    )
    ctx.session.flush()
    with pytest.raises(TamperedCiphertext):
        _read_all(ctx, [first])


def test_the_commands_rotate_the_key_file_and_retire(app, ctx, keyring, tmp_path, monkeypatch):
    filed = _file_three(ctx)
    before = _read_all(ctx, filed)
    path = tmp_path / "keyring.json"
    keyring.write(path)
    settings = app_services(app).settings
    patch_services(monkeypatch, app, settings=replace(settings, keyring_file=path), keyring=keyring)
    runner = app.test_cli_runner()

    sealed = _seal_one_of_each(ctx)
    result = runner.invoke(args=["grievance", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "Key version 2 is current; 3 data keys re-wrapped." in result.output
    assert "accounts key version 2 is current; 1 values re-sealed." in result.output
    assert "sms key version 2 is current; 4 values re-sealed." in result.output
    assert "outbox key version 2 is current; 3 values re-sealed." in result.output  # and the mail
    assert "receipt key" not in result.output
    rotated = Keyring.from_file(path)
    assert sorted(rotated.keks) == [1, 2]
    assert rotated.versions(Purpose.RECEIPT) == [1]
    assert rotated.versions(Purpose.LOOKUP) == [1]

    result = runner.invoke(args=["grievance", "retire-keys"])
    assert result.exit_code == 0, result.output
    assert "sms key versions kept: 2." in result.output
    assert "receipt key versions kept: 1." in result.output
    on_disk = Keyring.from_file(path)
    assert sorted(on_disk.keks) == [2]
    for purpose in SEALING_PURPOSES:
        assert on_disk.versions(purpose) == [2]
    assert (path.stat().st_mode & 0o777) == 0o600
    assert _read_all(replace(ctx, keyring=on_disk), filed) == before
    assert _open_each(replace(ctx, keyring=on_disk), sealed) == OPENED

    result = runner.invoke(args=["grievance", "rotate-keys", "--receipt-pepper"])
    assert result.exit_code == 0, result.output
    assert "receipt key version 2 is current: new receipt codes use it" in result.output
    code = filed[0].receipt_code
    assert find_complainant(replace(ctx, keyring=Keyring.from_file(path)), code) is not None


def test_rotation_needs_a_key_ring_file(app, ctx):
    result = app.test_cli_runner().invoke(args=["grievance", "rotate-keys"])
    assert result.exit_code == 2
    assert "GRIEVANCE_KEYRING_FILE" in result.output


# -- sealing keys: TOTP seeds, SMS rows, the outboxes -----------------------------------------

SEED = b"12345678901234567890"
OPENED = (
    SEED,
    PHONE,
    "STATUS",
    PHONE,
    "start",
    PHONE,
    "Your complaint was received.",
    "rotated@example.org",
)


@dataclass
class Sealed:
    user: User
    inbound: InboundSms
    conversation: SmsConversation
    outbound: OutboundMessage
    mail: MailMessage


def _seal_one_of_each(ctx: Context) -> Sealed:
    """A TOTP seed, an inbound SMS, a conversation, an outbox row (address and text) and
    a mail outbox row (its address)."""
    user = make_user(ctx, Role.REVIEWER)
    enrol_totp_secret(ctx, user, SEED, last_step=None)
    mechanism = make_mechanism(ctx, code="SMS")
    assert rows.record_inbound(ctx, provider_sid="SM1", sender=PHONE, to="+3197010", body="STATUS")
    inbound = ctx.session.scalars(select(InboundSms)).one()
    handle = contacts.phone_handle(ctx, PHONE)
    conversation = rows.lock_conversation(ctx, handle, Channel.SMS, PHONE, mechanism.id)
    assert conversation is not None
    (outbound,) = outbox.queue(
        ctx, channel=Channel.SMS, address=PHONE, handle=handle, body="Your complaint was received."
    )
    mail = mailbox.new_row(
        ctx, MailKind.NOTIFICATION, "case_assigned", "en", "rotated@example.org", user_id=user.id
    )
    ctx.session.flush()
    return Sealed(user, inbound, conversation, outbound, mail)


def _open_each(ctx: Context, sealed: Sealed) -> tuple[object, ...]:
    fresh = ctx.session.get_one
    user = fresh(User, sealed.user.id, populate_existing=True)
    inbound = fresh(InboundSms, sealed.inbound.id, populate_existing=True)
    conversation = fresh(SmsConversation, sealed.conversation.id, populate_existing=True)
    outbound = fresh(OutboundMessage, sealed.outbound.id, populate_existing=True)
    mail = fresh(MailMessage, sealed.mail.id, populate_existing=True)
    return (
        totp_secret(ctx, user),
        rows.inbound_number(ctx, inbound),
        rows.inbound_body(ctx, inbound),
        rows.number(ctx, conversation),
        rows.load_state(ctx, conversation).stage.value,
        outbox._open_address(ctx, outbound),
        outbox.open_body(ctx, outbound),
        mailbox.open_address(ctx, mail),
    )


def test_rotation_reseals_every_sealed_value_and_retires_the_old_versions(ctx, keyring):
    sealed = _seal_one_of_each(ctx)
    assert _open_each(ctx, sealed) == OPENED
    columns = sealed_columns()
    assert sealed_versions_in_use(ctx, columns) == {purpose: {1} for purpose in SEALING_PURPOSES}

    ring = rotated_keyring(keyring)
    rotated = replace(ctx, keyring=ring)
    assert reseal_all(rotated, columns, batch_size=1) == {
        Purpose.ACCOUNTS: 1,
        Purpose.SMS: 4,  # the inbound number and text, the conversation's number and state
        Purpose.OUTBOX: 3,  # the text's address and body, the e-mail's address
    }
    assert reseal_all(rotated, columns) == dict.fromkeys(SEALING_PURPOSES, 0)
    assert sealed_versions_in_use(rotated, columns) == {
        purpose: {2} for purpose in SEALING_PURPOSES
    }
    assert _open_each(rotated, sealed) == OPENED

    retired = retire_unused_keys(rotated, columns)
    for purpose in SEALING_PURPOSES:
        assert retired.versions(purpose) == [2]
    assert retired.versions(Purpose.LOOKUP) == [1]  # never rotated
    assert _open_each(replace(ctx, keyring=retired), sealed) == OPENED
    # the first keys open nothing any more: the values really were sealed again
    with pytest.raises(TamperedCiphertext):
        _open_each(ctx, sealed)


def test_a_sealing_version_still_in_use_is_not_retired(ctx, keyring):
    sealed = _seal_one_of_each(ctx)
    rotated = replace(ctx, keyring=rotated_keyring(keyring))  # not re-sealed yet
    kept = retire_unused_keys(rotated, sealed_columns())
    for purpose in SEALING_PURPOSES:
        assert kept.versions(purpose) == [1, 2]
    assert _open_each(replace(ctx, keyring=kept), sealed) == OPENED


def test_emptied_rows_are_left_alone(ctx, keyring):
    sealed = _seal_one_of_each(ctx)
    rows.mark_read(ctx, sealed.inbound)
    ctx.session.flush()
    rotated = replace(ctx, keyring=rotated_keyring(keyring))
    assert reseal_all(rotated, sealed_columns())[Purpose.SMS] == 2  # the conversation only
    assert ctx.session.get_one(InboundSms, sealed.inbound.id).body_enc == b""


def test_values_sealed_before_per_purpose_keys_open_and_are_resealed(ctx):
    """A deployment with a format-1 key ring: its values (format 0x01, under the key
    derived from the HMAC key) open with the ring read as format 2 and are re-sealed."""
    old = Keyring.from_json(
        json.dumps(
            {
                "format": 1,
                "current": 1,
                "kek": {"1": base64.b64encode(b"k" * 32).decode()},
                "hmac": base64.b64encode(b"h" * 32).decode(),
            }
        )
    )
    context = replace(ctx, keyring=old)
    user = make_user(ctx, Role.REVIEWER)
    key = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"grievance/account-secrets/v1")
    nonce = b"n" * 12
    associated = f"grievance/v1|user={user.id}|field=totp_secret".encode()
    user.totp_secret_enc = (
        b"\x01" + nonce + AESGCM(key.derive(b"h" * 32)).encrypt(nonce, SEED, associated)
    )
    ctx.session.flush()
    assert totp_secret(context, user) == SEED
    rotated = replace(ctx, keyring=rotated_keyring(old))
    assert reseal_all(rotated)[Purpose.ACCOUNTS] == 1
    assert user.totp_secret_enc[:3] == b"\x02\x00\x02"
    assert totp_secret(rotated, user) == SEED
