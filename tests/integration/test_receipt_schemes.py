"""Receipt codes under versioned schemes (DESIGN §5): a change of cost or pepper never
orphans an issued code, the database alone confirms no code, and an attempt costs one
Argon2id hash whatever the number of mechanisms."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from argon2 import Type
from argon2.low_level import hash_secret_raw
from sqlalchemy import select

from grievance.config import TEST_KDF, KdfParameters
from grievance.crypto import secrets as receipt_secrets
from grievance.crypto.keyring import Keyring, Purpose
from grievance.crypto.secrets import format_receipt_code
from grievance.models import Complainant, ReceiptScheme
from grievance.services import receipts
from grievance.services.context import Context
from grievance.services.filing import find_by_receipt, find_complainant
from grievance.services.keys import retire_unused_keys
from tests.factories import make_mechanism, new_case

DEARER = KdfParameters(time_cost=2, memory_cost_kib=16, parallelism=1)


def schemes(ctx: Context) -> list[tuple[int, int, int, int, int]]:
    rows = ctx.session.scalars(select(ReceiptScheme).order_by(ReceiptScheme.version))
    return [
        (row.version, row.time_cost, row.memory_cost_kib, row.parallelism, row.pepper_version)
        for row in rows
    ]


@pytest.fixture
def argon2_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every Argon2id computation of a receipt code, counted (the hasher wrapped)."""
    calls: list[int] = []
    original: Callable[..., bytes] = receipt_secrets.hash_secret_raw

    def counting(**kwargs: Any) -> bytes:
        calls.append(1)
        return original(**kwargs)

    monkeypatch.setattr(receipt_secrets, "hash_secret_raw", counting)
    return calls


# -- versions ----------------------------------------------------------------------------


def test_the_first_filing_makes_the_scheme_and_the_next_ones_share_it(ctx):
    mechanism = make_mechanism(ctx, "TEX")
    assert schemes(ctx) == []
    first, second = new_case(ctx, mechanism), new_case(ctx, make_mechanism(ctx, "AGR"))
    assert schemes(ctx) == [(1, 1, 8, 1, 1)]
    assert first.complainant.receipt_scheme_version == 1
    assert second.complainant.receipt_scheme_version == 1
    salt = ctx.session.get(ReceiptScheme, 1).salt
    assert len(salt) == receipts.SALT_BYTES


def test_changing_the_kdf_settings_leaves_every_earlier_code_working(ctx):
    """GRIEVANCE_KDF_* (Settings.kdf) apply to new codes; codes issued before keep the
    scheme they were hashed with, and open under the new settings."""
    mechanism = make_mechanism(ctx, "TEX")
    before = new_case(ctx, mechanism)
    dearer = replace(ctx, kdf=DEARER)
    after = new_case(dearer, mechanism)
    assert schemes(ctx) == [(1, 1, 8, 1, 1), (2, 2, 16, 1, 1)]
    assert (
        before.complainant.receipt_scheme_version,
        after.complainant.receipt_scheme_version,
    ) == (
        1,
        2,
    )
    for settings in (ctx, dearer):
        assert find_complainant(settings, before.receipt_code) == before.complainant
        assert find_complainant(settings, after.receipt_code) == after.complainant
        assert find_by_receipt(settings, mechanism, after.receipt_code) == after.complainant
    # going back to the first settings (a rolling restart) reuses their version
    again = new_case(ctx, mechanism)
    assert again.complainant.receipt_scheme_version == 1
    assert len(schemes(ctx)) == 2
    assert find_complainant(dearer, again.receipt_code) == again.complainant


def test_a_new_pepper_applies_to_new_codes_and_old_codes_keep_theirs(ctx, keyring, caplog):
    mechanism = make_mechanism(ctx, "TEX")
    before = new_case(ctx, mechanism)
    rotated = replace(ctx, keyring=keyring.with_new_key(Purpose.RECEIPT))
    after = new_case(rotated, mechanism)
    assert schemes(ctx) == [(1, 1, 8, 1, 1), (2, 1, 8, 1, 2)]
    assert find_complainant(rotated, before.receipt_code) == before.complainant
    assert find_complainant(rotated, after.receipt_code) == after.complainant
    # the old pepper is still needed: retiring keeps it
    assert rotated.keyring.versions(Purpose.RECEIPT) == [1, 2]
    assert retire_unused_keys(rotated).versions(Purpose.RECEIPT) == [1, 2]
    # a key ring that lost it opens only the new codes, and says why
    caplog.set_level(logging.ERROR)
    lost = replace(ctx, keyring=rotated.keyring.keeping(Purpose.RECEIPT, []))
    assert find_complainant(lost, before.receipt_code) is None
    assert find_complainant(lost, after.receipt_code) == after.complainant
    assert "no pepper version 1" in caplog.text


def test_an_unused_pepper_version_is_retired(ctx, keyring):
    rotated = replace(ctx, keyring=keyring.with_new_key(Purpose.RECEIPT))
    new_case(rotated, make_mechanism(ctx, "TEX"))  # every code has the new pepper
    assert retire_unused_keys(rotated).versions(Purpose.RECEIPT) == [2]


# -- the pepper ----------------------------------------------------------------------------


def test_a_database_without_the_key_ring_confirms_no_code(ctx):
    """The rows (lookup, salt, cost) with any other key ring find nothing, and the stored
    hash is not the Argon2id of the code with the stored salt and cost."""
    filed = new_case(ctx, make_mechanism(ctx, "TEX"))
    code, complainant = filed.receipt_code, filed.complainant
    other = replace(ctx, keyring=Keyring.generate())
    assert find_complainant(other, code) is None
    assert find_complainant(ctx, code) == complainant

    scheme = ctx.session.get(ReceiptScheme, complainant.receipt_scheme_version)
    plain = hash_secret_raw(
        secret=code.encode(),
        salt=scheme.salt,
        time_cost=scheme.time_cost,
        memory_cost=scheme.memory_cost_kib,
        parallelism=scheme.parallelism,
        hash_len=32,
        type=Type.ID,
    )
    assert complainant.receipt_lookup != plain.hex()
    # what an attacker with the database alone would compute matches no row at all
    taken = select(Complainant.id).where(Complainant.receipt_lookup == plain.hex())
    assert ctx.session.scalars(taken).all() == []


def test_codes_issued_before_schemes_open_nothing(ctx, argon2_calls):
    """A row without a scheme (revision 0010 leaves the older codes so, and synthetic
    cases have none) costs no hash and opens nothing, whatever its lookup holds."""
    filed = new_case(ctx, make_mechanism(ctx, "TEX"))
    filed.complainant.receipt_scheme_version = None
    ctx.session.flush()
    argon2_calls.clear()
    assert find_complainant(ctx, filed.receipt_code) is None
    assert argon2_calls == []  # no scheme holds codes: nothing to hash


# -- one hash per attempt ------------------------------------------------------------------


def _five_mechanisms(ctx: Context) -> list[str]:
    """A case in each of five mechanisms; their codes, the fifth's last."""
    return [new_case(ctx, make_mechanism(ctx, f"M{n}")).receipt_code for n in range(1, 6)]


def test_an_attempt_costs_one_argon2id_hash_whatever_the_number_of_mechanisms(ctx, argon2_calls):
    codes = _five_mechanisms(ctx)
    for code in (codes[0], codes[-1], "9" * 16):
        argon2_calls.clear()
        find_complainant(ctx, format_receipt_code(code))
        assert len(argon2_calls) == 1, code
    argon2_calls.clear()
    assert find_complainant(ctx, codes[-1]) is not None
    assert find_complainant(ctx, "not a code") is None  # refused before any hash
    assert len(argon2_calls) == 1


def test_an_attempt_costs_one_hash_per_scheme_version_holding_codes(ctx, argon2_calls):
    """After a change of cost, two versions hold codes: two hashes, still not one per
    mechanism; a version that holds no code costs nothing."""
    _five_mechanisms(ctx)
    dearer = replace(ctx, kdf=DEARER)
    newer = new_case(dearer, make_mechanism(ctx, "M6"))
    unused = replace(ctx, kdf=KdfParameters(time_cost=3, memory_cost_kib=8, parallelism=1))
    receipts.scheme_for_new_codes(unused)  # a version, holding no code yet
    assert len(schemes(ctx)) == 3
    argon2_calls.clear()
    assert find_complainant(ctx, "9" * 16) is None
    assert len(argon2_calls) == 2
    argon2_calls.clear()
    assert find_complainant(ctx, newer.receipt_code) == newer.complainant
    assert len(argon2_calls) == 2


def test_the_api_followup_hashes_once_for_the_fifth_mechanisms_case(app, ctx, argon2_calls):
    """POST /api/v1/followup, the scale issue's measure: the fifth mechanism's case and a
    wrong code each cost one hash."""
    codes = _five_mechanisms(ctx)
    client = app.test_client()
    for code, status in ((codes[-1], 200), ("1" * 16, 404)):
        argon2_calls.clear()
        response = client.post("/api/v1/followup", json={"receipt_code": code})
        assert response.status_code == status
        assert len(argon2_calls) == 1


def test_filing_draws_a_code_that_opens_nothing_under_any_version(ctx, argon2_calls):
    mechanism = make_mechanism(ctx, "TEX")
    new_case(ctx, mechanism)
    dearer = replace(ctx, kdf=DEARER)
    argon2_calls.clear()
    filed = new_case(dearer, mechanism)
    # the new version's hash, and the check that the code opens nothing under version 1
    assert len(argon2_calls) == 2
    assert find_complainant(ctx, filed.receipt_code) == filed.complainant


def test_two_first_filings_at_once_make_one_scheme(committing):
    """Two processes needing a new version at once (PostgreSQL): one makes it, the other
    finds it."""
    versions: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def process() -> None:
        try:
            ctx = committing()
            start.wait()
            versions.append(receipts.scheme_for_new_codes(ctx).version)
            ctx.session.commit()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert versions == [1, 1]
    assert schemes(committing()) == [(1, 1, 8, 1, 1)]


@pytest.mark.slow
def test_receipt_codes_with_the_production_kdf_parameters(ctx, argon2_calls):
    real = replace(ctx, kdf=KdfParameters())
    assert real.kdf != TEST_KDF
    filed = new_case(real, make_mechanism(ctx, "TEX"))
    scheme = ctx.session.get(ReceiptScheme, filed.complainant.receipt_scheme_version)
    assert (scheme.time_cost, scheme.memory_cost_kib, scheme.parallelism) == (3, 65536, 2)
    argon2_calls.clear()
    assert find_complainant(real, filed.receipt_code) == filed.complainant
    assert find_complainant(real, "9" * 16) is None
    assert len(argon2_calls) == 2
