"""The identity vault on a real case: envelope encryption, erasure, rotation, lookups."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from grievance.crypto.keyring import Keyring, KeyringError
from grievance.crypto.vault import FORMAT, NONCE_BYTES, IdentityErased, TamperedCiphertext, Vault
from grievance.models import Anonymity, Case, Complainant, ContactChannel, DataKey
from grievance.services import caselog
from grievance.services.filing import ComplainantDetails
from tests.factories import new_case

STATEMENT = "আমাদের তিন মাসের ওভারটাইমের টাকা দেওয়া হয়নি।"


def fresh_vault(ctx: Any, keyring: Keyring | None = None) -> Vault:
    """A vault with an empty data-key cache: it unwraps keys from the database."""
    return Vault(ctx.session, keyring or ctx.keyring, ctx.clock.now)


def confidential(**changes: Any) -> ComplainantDetails:
    values: dict[str, Any] = {
        "anonymity": Anonymity.CONFIDENTIAL,
        "name": "Rahima Akter",
        "contact_channel": ContactChannel.SMS,
        "contact_address": "+880 1711-000001",
    }
    values.update(changes)
    return ComplainantDetails(**values)


def data_key(ctx: Any, case: Case) -> DataKey | None:
    return ctx.session.scalar(select(DataKey).where(DataKey.case_id == case.id))


# -- sealing and opening ----------------------------------------------------------------------


def test_filed_words_are_sealed_and_open_again(ctx):
    filed = new_case(ctx, complainant=confidential())
    case, complainant = filed.case, filed.complainant
    ctx.session.expire_all()

    vault = fresh_vault(ctx)
    assert STATEMENT.encode() not in case.statement_enc
    assert vault.open(case.id, "statement", case.statement_enc) == STATEMENT
    prefix = f"complainant.{complainant.id}"
    assert vault.open(case.id, f"{prefix}.name", complainant.name_enc) == "Rahima Akter"
    assert vault.open(case.id, f"{prefix}.contact", complainant.contact_enc) == "+8801711000001"
    assert b"Rahima" not in complainant.name_enc
    assert b"8801711000001" not in complainant.contact_enc


def test_each_seal_uses_a_fresh_nonce(ctx):
    case = new_case(ctx).case
    first = ctx.vault.seal(case.id, "location", "Ashulia")
    second = ctx.vault.seal(case.id, "location", "Ashulia")
    assert first != second
    assert first[:1] == FORMAT
    assert first[1 : 1 + NONCE_BYTES] != second[1 : 1 + NONCE_BYTES]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=st.text(), field=st.text(min_size=1, max_size=20))
def test_any_unicode_round_trips(ctx, value, field):
    case = _shared_case(ctx)
    blob = ctx.vault.seal(case.id, field, value)
    assert fresh_vault(ctx).open(case.id, field, blob) == unicodedata.normalize("NFC", value)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=st.binary())
def test_any_bytes_round_trip(ctx, value):
    case = _shared_case(ctx)
    blob = ctx.vault.seal_bytes(case.id, "attachment.1", value)
    assert fresh_vault(ctx).open_bytes(case.id, "attachment.1", blob) == value


def _shared_case(ctx: Any) -> Case:
    case = ctx.session.info.get("vault_case")
    if case is None:
        case = ctx.session.info["vault_case"] = new_case(ctx).case
    return case


def test_decomposed_text_is_stored_composed(ctx):
    case = new_case(ctx).case
    decomposed = "Tie\u0302\u0301ng Vie\u0323\u0302t"
    blob = ctx.vault.seal(case.id, "location", decomposed)
    assert ctx.vault.open(case.id, "location", blob) == unicodedata.normalize("NFC", decomposed)


# -- tampering ----------------------------------------------------------------------------------


def test_ciphertext_moved_to_another_field_does_not_open(ctx):
    filed = new_case(ctx, complainant=confidential())
    case, complainant = filed.case, filed.complainant
    vault = fresh_vault(ctx)
    with pytest.raises(TamperedCiphertext):
        vault.open(case.id, "location", case.statement_enc)
    with pytest.raises(TamperedCiphertext):
        vault.open(case.id, f"complainant.{complainant.id}.details", complainant.name_enc)


def test_ciphertext_moved_to_another_complainant_does_not_open(ctx):
    filed = new_case(ctx, complainant=confidential())
    blob = filed.complainant.name_enc
    other = filed.complainant.id + 1
    with pytest.raises(TamperedCiphertext):
        fresh_vault(ctx).open(filed.case.id, f"complainant.{other}.name", blob)


def test_ciphertext_moved_to_another_case_does_not_open(ctx, session):
    first = new_case(ctx).case
    second = new_case(ctx, first.mechanism).case
    # Copy the first case's statement into the second case's row, in SQL.
    session.execute(
        text(
            'UPDATE "case" SET statement_enc = (SELECT statement_enc FROM "case" WHERE id = :a)'
            " WHERE id = :b"
        ),
        {"a": first.id, "b": second.id},
    )
    session.expire_all()
    vault = fresh_vault(ctx)
    assert second.statement_enc == first.statement_enc
    with pytest.raises(TamperedCiphertext, match=f"statement of case {second.id} does not open"):
        vault.open(second.id, "statement", second.statement_enc)
    assert vault.open(first.id, "statement", first.statement_enc) == STATEMENT


def test_data_key_moved_to_another_case_does_not_unwrap(ctx, session):
    first = new_case(ctx).case
    second = new_case(ctx, first.mechanism).case
    session.execute(
        text(
            "UPDATE data_key SET wrapped = (SELECT wrapped FROM data_key WHERE case_id = :a)"
            " WHERE case_id = :b"
        ),
        {"a": first.id, "b": second.id},
    )
    session.expire_all()
    with pytest.raises(TamperedCiphertext, match=f"data key of case {second.id} does not unwrap"):
        fresh_vault(ctx).open(second.id, "statement", second.statement_enc)


@pytest.mark.parametrize(
    "position",
    [1, NONCE_BYTES, 1 + NONCE_BYTES, 1 + NONCE_BYTES + 5, -1],
    ids=["nonce-start", "nonce-end", "ciphertext-start", "ciphertext", "tag"],
)
def test_flipped_byte_does_not_open(ctx, position):
    case = new_case(ctx).case
    blob = bytearray(case.statement_enc)
    blob[position] ^= 0x01
    with pytest.raises(TamperedCiphertext):
        fresh_vault(ctx).open(case.id, "statement", bytes(blob))


def test_unknown_format_does_not_open(ctx):
    case = new_case(ctx).case
    with pytest.raises(TamperedCiphertext, match="unknown ciphertext format"):
        ctx.vault.open(case.id, "statement", b"\x02" + case.statement_enc[1:])
    with pytest.raises(TamperedCiphertext):
        ctx.vault.open(case.id, "statement", case.statement_enc[:-1])


def test_another_keyring_cannot_open(ctx):
    case = new_case(ctx).case
    stranger = Keyring.generate()
    with pytest.raises(TamperedCiphertext):
        fresh_vault(ctx, stranger).open(case.id, "statement", case.statement_enc)


# -- erasure --------------------------------------------------------------------------------------


def test_erase_deletes_the_data_key_for_good(ctx, session):
    filed = new_case(ctx, complainant=confidential())
    case, complainant = filed.case, filed.complainant
    events_before = case.event_count
    vault = ctx.vault
    assert vault.open(case.id, "statement", case.statement_enc) == STATEMENT  # key now cached

    assert vault.erase(case.id) is True
    session.flush()
    assert data_key(ctx, case) is None
    for opener in (vault, fresh_vault(ctx)):
        with pytest.raises(IdentityErased):
            opener.open(case.id, "statement", case.statement_enc)
        with pytest.raises(IdentityErased):
            opener.open(case.id, f"complainant.{complainant.id}.name", complainant.name_enc)
    with pytest.raises(IdentityErased):
        vault.seal(case.id, "statement", "new words")
    assert vault.erase(case.id) is False

    # The log survives the erasure.
    assert caselog.verify_case(session, case) is None
    assert case.event_count == events_before


def test_erasing_one_case_leaves_the_others(ctx):
    first = new_case(ctx).case
    second = new_case(ctx, first.mechanism).case
    ctx.vault.erase(first.id)
    assert fresh_vault(ctx).open(second.id, "statement", second.statement_enc) == STATEMENT


# -- rotation -------------------------------------------------------------------------------------


def test_rewrap_after_rotation_keeps_every_value_readable(ctx, session, clock):
    filed = [new_case(ctx, complainant=confidential(name=f"Person {n}")) for n in range(3)]
    original = {
        item.case.id: (item.case.statement_enc, item.complainant.name_enc) for item in filed
    }
    rows = session.scalars(
        select(DataKey).where(DataKey.case_id.in_(list(original))).order_by(DataKey.id)
    ).all()
    assert {row.kek_version for row in rows} == {ctx.keyring.current}
    wrapped_before = {row.case_id: row.wrapped for row in rows}

    rotated = ctx.keyring.with_new_version()
    clock.advance(days=1)
    rotating = fresh_vault(ctx, rotated)
    assert [rotating.rewrap(row) for row in rows] == [True, True, True]
    assert [rotating.rewrap(row) for row in rows] == [False, False, False]
    session.flush()
    session.expire_all()

    rows = session.scalars(
        select(DataKey).where(DataKey.case_id.in_(list(original))).order_by(DataKey.id)
    ).all()
    for row in rows:
        assert row.kek_version == rotated.current != ctx.keyring.current
        assert row.rewrapped_at == clock.now()
        assert row.wrapped != wrapped_before[row.case_id]

    # The data itself was not re-encrypted...
    for item in filed:
        assert item.case.statement_enc == original[item.case.id][0]
    # ...and opens with the new key alone, the old version dropped from the ring.
    only_new = rotated.without_versions_below(rotated.current)
    for number, item in enumerate(filed):
        vault = fresh_vault(ctx, only_new)
        case, complainant = item.case, item.complainant
        assert vault.open(case.id, "statement", case.statement_enc) == STATEMENT
        name = vault.open(case.id, f"complainant.{complainant.id}.name", complainant.name_enc)
        assert name == f"Person {number}"
    # The old ring no longer has the key the data keys are wrapped with.
    with pytest.raises(KeyringError, match=f"no key version {rotated.current}"):
        fresh_vault(ctx).open(filed[0].case.id, "statement", filed[0].case.statement_enc)


def test_new_data_keys_use_the_current_version(ctx):
    rotated = ctx.keyring.with_new_version()
    case = new_case(replace(ctx, keyring=rotated)).case
    row = data_key(ctx, case)
    assert row is not None
    assert row.kek_version == rotated.current
    assert fresh_vault(ctx, rotated).open(case.id, "statement", case.statement_enc) == STATEMENT


# -- keyed lookups --------------------------------------------------------------------------------


def test_lookup_hash_is_deterministic_keyed_and_purpose_bound(ctx):
    vault = ctx.vault
    digest = vault.lookup_hash("phone", "+8801711000001")
    assert len(digest) == 64
    assert "8801711000001" not in digest
    assert vault.lookup_hash("phone", "+8801711000001") == digest
    assert fresh_vault(ctx).lookup_hash("phone", "+8801711000001") == digest
    assert vault.lookup_hash("phone", "+8801711000002") != digest
    assert vault.lookup_hash("email", "+8801711000001") != digest
    # Another key ring gives another hash: the table alone cannot be brute-forced.
    assert fresh_vault(ctx, Keyring.generate()).lookup_hash("phone", "+8801711000001") != digest
    # A rotation of the wrapping keys keeps the lookups.
    rotated = ctx.keyring.with_new_version()
    assert fresh_vault(ctx, rotated).lookup_hash("phone", "+8801711000001") == digest


def test_lookup_hash_normalises_unicode(ctx):
    composed = "Nguy\u1ec5n"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert ctx.vault.lookup_hash("name", composed) == ctx.vault.lookup_hash("name", decomposed)


def test_phone_lookup_finds_the_complainant(ctx, session):
    filed = new_case(ctx, complainant=confidential(contact_address="00880 1711 000009"))
    expected = ctx.vault.lookup_hash("phone", "+8801711000009")
    found = session.scalars(select(Complainant).where(Complainant.phone_lookup == expected)).all()
    assert [complainant.id for complainant in found] == [filed.complainant.id]
