"""Values sealed with the key ring's per-purpose keys (`grievance.crypto.derived`)."""

from __future__ import annotations

import pytest

from grievance.crypto import derived
from grievance.crypto.keyring import Keyring, Purpose
from grievance.crypto.vault import TamperedCiphertext

SMS = b"grievance/sms/v1"
OUTBOX = b"grievance/outbox/v1"
WHERE = "grievance/v1|sms_conversation=abc|field=state"


def test_a_sealed_value_names_its_key_version_and_opens_under_it_only():
    keyring = Keyring.generate()
    sealed = derived.seal(keyring, SMS, WHERE, b"hello")
    assert sealed[:3] == b"\x02\x00\x01"
    assert derived.sealed_version(sealed) == 1
    assert derived.open_sealed(keyring, SMS, WHERE, sealed) == b"hello"
    with pytest.raises(TamperedCiphertext):
        derived.open_sealed(keyring, OUTBOX, WHERE, sealed)  # another purpose's key
    with pytest.raises(TamperedCiphertext):
        derived.open_sealed(keyring, SMS, WHERE + "x", sealed)  # another row or field
    with pytest.raises(TamperedCiphertext):
        derived.open_sealed(keyring, SMS, WHERE, sealed[:1] + b"\x00\x02" + sealed[3:])


def test_new_values_use_the_current_version_and_old_ones_reseal():
    keyring = Keyring.generate()
    old = derived.seal(keyring, SMS, WHERE, b"hello")
    rotated = keyring.with_new_key(Purpose.SMS)
    assert derived.sealed_version(derived.seal(rotated, SMS, WHERE, b"x")) == 2
    assert derived.open_sealed(rotated, SMS, WHERE, old) == b"hello"
    again = derived.reseal(rotated, SMS, WHERE, old)
    assert again is not None
    assert derived.sealed_version(again) == 2
    assert derived.reseal(rotated, SMS, WHERE, again) is None  # already current
    assert derived.reseal(rotated, SMS, WHERE, b"") is None  # an emptied row
    retired = rotated.keeping(Purpose.SMS, [])
    assert derived.open_sealed(retired, SMS, WHERE, again) == b"hello"
    with pytest.raises(TamperedCiphertext, match="no key version 1"):
        derived.open_sealed(retired, SMS, WHERE, old)
