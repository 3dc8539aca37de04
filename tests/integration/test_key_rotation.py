"""Key rotation: new key-encryption keys re-wrap the data keys, every identity still
opens, and old versions can be retired (DESIGN §5)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from grievance.crypto.keyring import Keyring, KeyringError
from grievance.crypto.vault import TamperedCiphertext
from grievance.http.context import app_services
from grievance.models import Anonymity, ContactChannel, DataKey
from grievance.services.actors import SYSTEM
from grievance.services.attachments import attach, attachments_of, check_file
from grievance.services.context import Context
from grievance.services.filing import ComplainantDetails
from grievance.services.keys import retire_old_versions, rewrap_all, versions_in_use
from tests.apps import patch_services
from tests.factories import make_mechanism, new_case
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

    result = runner.invoke(args=["grievance", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert "Key version 2 is current; 3 data keys re-wrapped." in result.output
    assert sorted(Keyring.from_file(path).keks) == [1, 2]

    result = runner.invoke(args=["grievance", "retire-keys"])
    assert result.exit_code == 0, result.output
    on_disk = Keyring.from_file(path)
    assert sorted(on_disk.keks) == [2]
    assert (path.stat().st_mode & 0o777) == 0o600
    assert _read_all(replace(ctx, keyring=on_disk), filed) == before


def test_rotation_needs_a_key_ring_file(app, ctx):
    result = app.test_cli_runner().invoke(args=["grievance", "rotate-keys"])
    assert result.exit_code == 2
    assert "GRIEVANCE_KEYRING_FILE" in result.output
