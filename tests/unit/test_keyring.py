"""The versioned key ring: JSON form, validation, rotation, files."""

from __future__ import annotations

import base64
import json
import stat

import pytest
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from grievance.crypto.keyring import (
    KEY_BYTES,
    Keyring,
    KeyringError,
    Purpose,
    load_keyring,
    purpose_of,
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def keys_table(**changes):
    table = {
        purpose.value: {"current": 1, "versions": {"1": b64(purpose.value[0].encode() * KEY_BYTES)}}
        for purpose in Purpose
    }
    table.update(changes)
    return {name: entry for name, entry in table.items() if entry is not None}


def document(**changes):
    values = {
        "format": 2,
        "current": 1,
        "kek": {"1": b64(b"k" * KEY_BYTES)},
        "keys": keys_table(),
    }
    values.update(changes)
    return json.dumps({key: value for key, value in values.items() if value is not None})


def format_1(**changes):
    values = {
        "format": 1,
        "current": 1,
        "kek": {"1": b64(b"k" * KEY_BYTES)},
        "hmac": b64(b"h" * KEY_BYTES),
    }
    values.update(changes)
    return json.dumps({key: value for key, value in values.items() if value is not None})


# -- JSON round trip ----------------------------------------------------------------------


def test_generated_keyring_round_trips_through_json():
    keyring = Keyring.generate()
    assert keyring.current == 1
    assert len(keyring.kek(1)) == KEY_BYTES
    keys = [keyring.kek(1), *(keyring.key(purpose) for purpose in Purpose)]
    assert all(len(key) == KEY_BYTES for key in keys)
    assert len(set(keys)) == len(keys)  # one key per purpose, none shared
    assert Keyring.from_json(keyring.to_json()) == keyring


def test_rotated_keyring_round_trips_through_json():
    keyring = Keyring.generate().with_new_version().with_new_version()
    keyring = keyring.with_new_key(Purpose.SMS).with_new_key(Purpose.RECEIPT)
    again = Keyring.from_json(keyring.to_json())
    assert again == keyring
    assert again.current == 3
    assert sorted(again.keks) == [1, 2, 3]
    assert again.versions(Purpose.SMS) == [1, 2]
    assert again.current_version(Purpose.RECEIPT) == 2
    assert again.current_version(Purpose.LOOKUP) == 1


def test_json_form_is_documented():
    parsed = json.loads(Keyring.from_json(document()).to_json())
    assert parsed == {
        "format": 2,
        "current": 1,
        "kek": {"1": b64(b"k" * KEY_BYTES)},
        "keys": keys_table(),
    }
    assert list(parsed["keys"]) == ["receipt", "lookup", "accounts", "sms", "outbox", "checkpoint"]


def test_a_keyring_without_a_checkpoint_key_derives_one_from_the_lookup_key():
    """Key rings written before checkpoints were signed still load, with a signing key
    derived from the lookup key (HKDF-SHA256), the same on every load."""
    keyring = Keyring.from_json(document(keys=keys_table(checkpoint=None)))
    again = Keyring.from_json(document(keys=keys_table(checkpoint=None)))
    derived = keyring.key(Purpose.CHECKPOINT)
    assert len(derived) == KEY_BYTES
    assert derived == again.key(Purpose.CHECKPOINT)
    assert derived not in {
        keyring.key(purpose) for purpose in Purpose if purpose is not Purpose.CHECKPOINT
    }
    assert json.loads(keyring.to_json())["keys"]["checkpoint"]["current"] == 1


def test_a_format_1_keyring_keeps_its_keys_as_version_1_of_each_purpose():
    """The lookup key is format 1's HMAC key; each other purpose's version 1 is the key
    format 1 derived from it, so what was sealed and hashed before still opens."""
    hmac_key = b"h" * KEY_BYTES
    keyring = Keyring.from_json(format_1())
    assert keyring.key(Purpose.LOOKUP) == hmac_key
    for purpose, info in [
        (Purpose.ACCOUNTS, b"grievance/account-secrets/v1"),
        (Purpose.SMS, b"grievance/sms/v1"),
        (Purpose.OUTBOX, b"grievance/outbox/v1"),
        (Purpose.RECEIPT, b"grievance/receipt-pepper/v1"),
    ]:
        expected = HKDF(algorithm=SHA256(), length=32, salt=None, info=info).derive(hmac_key)
        assert keyring.key(purpose, 1) == expected, purpose
        assert keyring.versions(purpose) == [1]
    written = json.loads(keyring.to_json())
    assert written["format"] == 2
    assert "hmac" not in written
    assert Keyring.from_json(keyring.to_json()) == keyring


def test_two_generated_keyrings_differ():
    first, second = Keyring.generate(), Keyring.generate()
    assert first.kek(1) != second.kek(1)
    for purpose in Purpose:
        assert first.key(purpose) != second.key(purpose)


# -- malformed key rings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2]", 'expected a JSON object with "format": 2'),
        (document(format=3), 'expected a JSON object with "format": 2'),
        (document(format=None), 'expected a JSON object with "format": 2'),
        (document(kek=None), "missing 'kek'"),
        (document(keys=None), "missing 'keys'"),
        (format_1(hmac=None), "missing 'hmac'"),
        (document(current=None), "missing 'current'"),
        (format_1(hmac="not base64!"), "malformed"),
        (document(kek={"1": "@@@@"}), "malformed"),
        (document(kek={"1": 12345}), "malformed"),
        (document(kek=[b64(b"k" * KEY_BYTES)]), "malformed"),
        (document(kek={"one": b64(b"k" * KEY_BYTES)}), "malformed"),
        (document(current="latest"), "malformed"),
        (document(kek={"1": b64(b"k" * 16)}), "key version 1 is not 32 bytes"),
        (format_1(hmac=b64(b"h" * 31)), "the hmac key is not 32 bytes"),
        (document(current=2), "current version 2 has no key"),
        (document(keys=keys_table(sms=None)), "no key for sms"),
        (document(keys=keys_table(spare={"current": 1, "versions": {}})), "unknown purpose"),
        (
            document(keys=keys_table(sms={"current": 1, "versions": {"1": b64(b"s" * 31)}})),
            "the sms key version 1 is not 32 bytes",
        ),
        (
            document(keys=keys_table(sms={"current": 2, "versions": {"1": b64(b"s" * 32)}})),
            "current version 2 of the sms key has no key",
        ),
        (document(keys=keys_table(sms={"versions": {}})), "missing 'current'"),
    ],
    ids=[
        "broken-json",
        "empty",
        "not-an-object",
        "wrong-format",
        "no-format",
        "no-kek",
        "no-keys",
        "no-hmac",
        "no-current",
        "hmac-not-base64",
        "kek-not-base64",
        "kek-not-text",
        "kek-not-a-table",
        "version-not-a-number",
        "current-not-a-number",
        "short-kek",
        "short-hmac",
        "current-without-key",
        "purpose-missing",
        "purpose-unknown",
        "short-purpose-key",
        "purpose-current-without-key",
        "purpose-without-current",
    ],
)
def test_malformed_keyring_is_refused(text, problem):
    with pytest.raises(KeyringError) as raised:
        Keyring.from_json(text, source="GRIEVANCE_KEYRING")
    assert problem in str(raised.value)
    if "bytes" not in problem and "has no key" not in problem and "no key for" not in problem:
        assert str(raised.value).startswith("GRIEVANCE_KEYRING: ")


def test_constructor_checks_key_lengths():
    with pytest.raises(KeyringError, match="key version 2 is not 32 bytes"):
        Keyring(current=1, keks={1: b"a" * 32, 2: b"b" * 33})


def test_unknown_version_is_refused():
    keyring = Keyring.generate()
    with pytest.raises(KeyringError, match="no key version 7"):
        keyring.kek(7)
    with pytest.raises(KeyringError, match="no sms key version 7"):
        keyring.key(Purpose.SMS, 7)


def test_a_sealing_purpose_is_named_by_its_info():
    assert purpose_of(b"grievance/sms/v1") is Purpose.SMS
    with pytest.raises(KeyringError, match="no purpose"):
        purpose_of(b"grievance/unknown/v1")


# -- rotation ---------------------------------------------------------------------------------


def test_with_new_version_adds_a_current_key_and_keeps_the_rest():
    keyring = Keyring.generate()
    rotated = keyring.with_new_version()
    assert rotated.current == 2
    assert rotated.kek(1) == keyring.kek(1)
    assert rotated.kek(2) != keyring.kek(1)
    assert len(rotated.kek(2)) == KEY_BYTES
    # The purposes' keys stay: phone numbers are found again after a rotation.
    assert rotated.purposes == keyring.purposes
    # The original is unchanged.
    assert keyring.current == 1
    assert list(keyring.keks) == [1]


def test_with_new_key_rotates_one_purpose_only():
    keyring = Keyring.generate()
    rotated = keyring.with_new_key(Purpose.ACCOUNTS)
    assert rotated.current_version(Purpose.ACCOUNTS) == 2
    assert rotated.key(Purpose.ACCOUNTS, 1) == keyring.key(Purpose.ACCOUNTS)
    assert rotated.key(Purpose.ACCOUNTS) != keyring.key(Purpose.ACCOUNTS)
    assert rotated.keks == keyring.keks
    for purpose in set(Purpose) - {Purpose.ACCOUNTS}:
        assert rotated.purposes[purpose] == keyring.purposes[purpose]
    assert keyring.current_version(Purpose.ACCOUNTS) == 1


def test_keeping_drops_unlisted_versions_but_never_the_current_one():
    keyring = Keyring.generate().with_new_key(Purpose.SMS).with_new_key(Purpose.SMS)
    assert keyring.keeping(Purpose.SMS, [2]).versions(Purpose.SMS) == [2, 3]
    assert keyring.keeping(Purpose.SMS, []).versions(Purpose.SMS) == [3]
    assert keyring.keeping(Purpose.SMS, [1]).versions(Purpose.OUTBOX) == [1]


def test_with_new_version_follows_the_highest_version():
    keyring = Keyring(current=1, keks={1: b"a" * 32, 5: b"b" * 32})
    assert keyring.with_new_version().current == 6


def test_without_versions_below_drops_old_keys():
    keyring = Keyring.generate().with_new_version().with_new_version()
    trimmed = keyring.without_versions_below(3)
    assert list(trimmed.keks) == [3]
    assert trimmed.current == 3
    # The current key cannot be dropped.
    with pytest.raises(KeyringError, match="current version 3 has no key"):
        keyring.without_versions_below(4)


# -- files ------------------------------------------------------------------------------------


def test_written_file_is_private_and_reads_back(tmp_path):
    keyring = Keyring.generate().with_new_version()
    path = tmp_path / "keys" / "keyring.json"
    keyring.write(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Keyring.from_file(path) == keyring
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind

    replacement = Keyring.generate()
    replacement.write(path)
    assert Keyring.from_file(path) == replacement
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_stale_loose_temporary_file_does_not_make_the_key_ring_readable(tmp_path):
    """A temporary file left 0644 by an interrupted write (or put there by another user)
    gave its permissions to the next key ring written over it."""
    path = tmp_path / "keyring.json"
    for stale in (path.with_suffix(".tmp"), tmp_path / ".keyring.json.stale"):
        stale.write_text("{}")
        stale.chmod(0o644)
    Keyring.generate().write(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_production_refuses_a_key_ring_others_may_read(tmp_path, mode):
    path = tmp_path / "keyring.json"
    keyring = Keyring.generate()
    keyring.write(path)
    path.chmod(mode)
    with pytest.raises(KeyringError, match="chmod 600"):
        load_keyring(file=path, json_text=None, generate_if_missing=False, private=True)
    # development and tests are not refused; a private file is read in production
    assert load_keyring(file=path, json_text=None, generate_if_missing=False) == keyring
    path.chmod(0o600)
    assert (
        load_keyring(file=path, json_text=None, generate_if_missing=False, private=True) == keyring
    )


def test_exclusive_write_never_overwrites(tmp_path):
    path = tmp_path / "keyring.json"
    first = Keyring.generate()
    first.write(path, exclusive=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        Keyring.generate().write(path, exclusive=True)
    assert Keyring.from_file(path) == first


def test_file_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.json"
    with pytest.raises(KeyringError, match=f"key ring file {missing} does not exist"):
        Keyring.from_file(missing)
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(KeyringError, match=f"key ring file {broken}: not valid JSON"):
        Keyring.from_file(broken)


def test_load_keyring_prefers_the_json_setting(tmp_path):
    from_setting = Keyring.generate()
    in_file = Keyring.generate()
    path = tmp_path / "keyring.json"
    in_file.write(path)
    assert load_keyring(file=path, json_text=from_setting.to_json(), generate_if_missing=False) == (
        from_setting
    )
    assert load_keyring(file=path, json_text=None, generate_if_missing=False) == in_file


def test_load_keyring_generates_only_when_allowed(tmp_path):
    path = tmp_path / "keyring.json"
    with pytest.raises(KeyringError, match="does not exist"):
        load_keyring(file=path, json_text=None, generate_if_missing=False)
    assert not path.exists()
    generated = load_keyring(file=path, json_text=None, generate_if_missing=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # A second start reuses it.
    assert load_keyring(file=path, json_text=None, generate_if_missing=True) == generated
    with pytest.raises(KeyringError, match="no key ring configured"):
        load_keyring(file=None, json_text=None, generate_if_missing=True)
