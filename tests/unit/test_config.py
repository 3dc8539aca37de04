"""Settings from an explicit environment mapping (never the real one), and start-up checks."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from grievance import create_app
from grievance.app import staff_app_of
from grievance.clock import FixedClock
from grievance.config import (
    DEFAULT_INSTANCE_PATH,
    TWILIO_API_BASE_URL,
    ConfigError,
    KdfParameters,
    Settings,
)
from grievance.crypto.keyring import Keyring, KeyringError
from grievance.http.context import app_services
from tests.conftest import START

#: A key as `secrets.token_urlsafe(32)` makes them (not a real one).
SECRET = "q7Vb2xKf9RmT4wLp0ZsNc8HjYe3UaGd6"


def production(tmp_path: Path, **extra: str) -> dict[str, str]:
    values = {
        "GRIEVANCE_ENV": "production",
        "GRIEVANCE_INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": SECRET,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "GRIEVANCE_KEYRING_FILE": str(tmp_path / "keyring.json"),
        "PUBLIC_BASE_URL": "https://complaints.example.org/",
    }
    values.update(extra)
    return {key: value for key, value in values.items() if value != "-"}


def development(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"GRIEVANCE_ENV": "development", "GRIEVANCE_INSTANCE_PATH": str(tmp_path), **extra}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- production -----------------------------------------------------------------------------


def test_production_is_the_default_and_names_every_missing_setting(tmp_path):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"GRIEVANCE_INSTANCE_PATH": str(tmp_path)})
    message = str(raised.value)
    for name in ("SECRET_KEY", "DATABASE_URL", "GRIEVANCE_KEYRING_FILE", "PUBLIC_BASE_URL"):
        assert name in message
    # No development fallback was written.
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "missing",
    ["SECRET_KEY", "DATABASE_URL", "GRIEVANCE_KEYRING_FILE", "PUBLIC_BASE_URL"],
)
def test_production_names_the_one_missing_setting(tmp_path, missing):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(production(tmp_path, **{missing: "-"}))
    message = str(raised.value)
    assert message.startswith("Missing settings: " + missing)
    others = {"SECRET_KEY", "DATABASE_URL", "GRIEVANCE_KEYRING_FILE", "PUBLIC_BASE_URL"}
    for name in others - {missing}:
        assert name not in message


def test_blank_values_count_as_missing(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env(production(tmp_path, SECRET_KEY="   "))


def test_production_settings_are_read(tmp_path):
    settings = Settings.from_env(
        production(
            tmp_path,
            LOG_LEVEL="warning",
            TWILIO_ACCOUNT_SID="AC123",
            TWILIO_AUTH_TOKEN="token",
            TWILIO_FROM_NUMBER="+3197010000000",
            SMS_MECHANISM="NST",
            SMS_CONVERSATION_EXPIRY_HOURS="48",
            SMS_POLL_SECONDS="5",
        )
    )
    assert settings.env == "production"
    assert not settings.is_development
    assert settings.secret_key == SECRET
    assert settings.public_base_url == "https://complaints.example.org"
    assert settings.keyring_file == tmp_path / "keyring.json"
    assert settings.keyring_json is None
    assert settings.instance_path == tmp_path / "instance"
    assert settings.log_level == "WARNING"
    assert settings.twilio_account_sid == "AC123"
    assert settings.twilio_api_base_url == TWILIO_API_BASE_URL
    assert settings.twilio_auth_token == "token"
    assert settings.sms_mechanism == "NST"
    assert settings.sms_conversation_expiry_hours == 48
    assert settings.sms_poll_seconds == 5
    assert settings.kdf == KdfParameters()


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"TWILIO_ACCOUNT_SID": "AC1"}, ["TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"]),
        ({"TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM_NUMBER": "+31970"}, ["TWILIO_ACCOUNT_SID"]),
        ({"TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t"}, ["TWILIO_FROM_NUMBER"]),
    ],
)
@pytest.mark.parametrize("environment", [production, development])
def test_twilio_is_configured_whole_or_not_at_all(tmp_path, given, named, environment):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(environment(tmp_path, **given))
    for name in named:
        assert name in str(raised.value)


def test_a_messaging_service_is_a_sender_too(tmp_path):
    settings = Settings.from_env(
        production(
            tmp_path,
            TWILIO_ACCOUNT_SID="AC1",
            TWILIO_AUTH_TOKEN="t",
            TWILIO_MESSAGING_SERVICE_SID="MG1",
        )
    )
    assert settings.twilio_messaging_service_sid == "MG1"
    assert settings.twilio_from_number is None


@pytest.mark.parametrize("name", ["SMS_CONVERSATION_EXPIRY_HOURS", "SMS_POLL_SECONDS"])
@pytest.mark.parametrize("value", ["0", "soon"])
def test_bad_sms_intervals_are_refused(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(development(tmp_path, **{name: value}))


def test_keyring_json_is_enough_in_production(tmp_path):
    settings = Settings.from_env(
        production(tmp_path, GRIEVANCE_KEYRING_FILE="-", GRIEVANCE_KEYRING='{"format": 1}')
    )
    assert settings.keyring_file is None
    assert settings.keyring_json == '{"format": 1}'


@pytest.mark.parametrize("env", ["production", "development", "test"])
def test_short_secret_key_is_refused(tmp_path, env):
    values = production(tmp_path, GRIEVANCE_ENV=env, SECRET_KEY="x" * 31)
    with pytest.raises(ConfigError, match="SECRET_KEY must be at least 32 characters"):
        Settings.from_env(values)


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"GRIEVANCE_KDF_TIME_COST": "1"}, "GRIEVANCE_KDF_TIME_COST must be at least 2"),
        ({"GRIEVANCE_KDF_MEMORY_KIB": "8"}, "GRIEVANCE_KDF_MEMORY_KIB must be at least 19456"),
        ({"PUBLIC_BASE_URL": "http://complaints.example.org"}, "PUBLIC_BASE_URL must be an https"),
        (
            {"TWILIO_API_BASE_URL": "https://twilio.attacker.example"},
            "TWILIO_API_BASE_URL must be https://api.twilio.com",
        ),
        ({"TWILIO_API_BASE_URL": "http://api.twilio.com"}, "TWILIO_API_BASE_URL must be"),
        ({"SECRET_KEY": "s" * 32}, "SECRET_KEY is guessable"),
        ({"SECRET_KEY": "ab" * 20}, "SECRET_KEY is guessable"),
    ],
)
def test_production_refuses_weak_settings_naming_each(tmp_path, extra, named):
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(production(tmp_path, **extra))
    assert str(raised.value).startswith("Weak settings for production: ")
    assert named in str(raised.value)


def test_production_names_every_weak_setting_at_once(tmp_path):
    weak = production(
        tmp_path,
        GRIEVANCE_KDF_TIME_COST="1",
        GRIEVANCE_KDF_MEMORY_KIB="8",
        PUBLIC_BASE_URL="http://complaints.example.org",
        SECRET_KEY="s" * 32,
    )
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(weak)
    for name in ("KDF_TIME_COST", "KDF_MEMORY_KIB", "PUBLIC_BASE_URL", "SECRET_KEY"):
        assert name in str(raised.value)


@pytest.mark.parametrize("env", ["development", "test"])
def test_development_and_tests_may_use_cheap_settings(tmp_path, env):
    values = production(
        tmp_path,
        GRIEVANCE_ENV=env,
        GRIEVANCE_KDF_TIME_COST="1",
        GRIEVANCE_KDF_MEMORY_KIB="8",
        PUBLIC_BASE_URL="http://127.0.0.1:5000",
        TWILIO_API_BASE_URL="http://127.0.0.1:8080",
    )
    settings = Settings.from_env(values)
    assert settings.twilio_api_base_url == "http://127.0.0.1:8080"


@pytest.mark.parametrize("env", ["staging", "Production", "dev"])
def test_unknown_environment_is_refused(tmp_path, env):
    with pytest.raises(ConfigError, match=f"GRIEVANCE_ENV must be one of .*{env!r}"):
        Settings.from_env(production(tmp_path, GRIEVANCE_ENV=env))


# -- development ------------------------------------------------------------------------------


def test_development_fills_defaults_under_the_instance_path(tmp_path):
    settings = Settings.from_env(development(tmp_path))
    assert settings.is_development
    assert settings.instance_path == tmp_path
    assert settings.database_url == f"sqlite:///{tmp_path / 'grievance.sqlite3'}"
    assert settings.keyring_file == tmp_path / "keyring.json"
    assert settings.public_base_url == "http://127.0.0.1:5000"
    assert len(settings.secret_key) >= 32


def test_development_uses_port_for_the_base_url(tmp_path):
    assert Settings.from_env(development(tmp_path, PORT="8080")).public_base_url == (
        "http://127.0.0.1:8080"
    )


def test_instance_path_defaults_to_the_checkout(tmp_path):
    settings = Settings.from_env(production(tmp_path, GRIEVANCE_INSTANCE_PATH="-"))
    assert settings.instance_path == DEFAULT_INSTANCE_PATH


def test_development_secret_key_is_written_0600_and_reused(tmp_path):
    first = Settings.from_env(development(tmp_path))
    key_file = tmp_path / "secret_key"
    assert key_file.read_text(encoding="ascii").strip() == first.secret_key
    assert mode(key_file) == 0o600
    second = Settings.from_env(development(tmp_path))
    assert second.secret_key == first.secret_key
    other = Settings.from_env(development(tmp_path / "elsewhere"))
    assert other.secret_key != first.secret_key


def test_development_secret_key_file_is_created_in_a_new_instance_folder(tmp_path):
    instance = tmp_path / "not" / "yet"
    Settings.from_env(development(instance))
    assert (instance / "secret_key").is_file()


def test_given_secret_key_wins_and_writes_nothing(tmp_path):
    settings = Settings.from_env(development(tmp_path, SECRET_KEY=SECRET))
    assert settings.secret_key == SECRET
    assert not (tmp_path / "secret_key").exists()


# -- database URLs and KDF ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/grievance", "postgresql+psycopg://u:p@db:5432/grievance"),
        ("postgresql://u@db/grievance", "postgresql+psycopg://u@db/grievance"),
        ("postgresql+psycopg://u@db/grievance", "postgresql+psycopg://u@db/grievance"),
        ("sqlite:////srv/grievance.sqlite3", "sqlite:////srv/grievance.sqlite3"),
    ],
)
def test_postgres_urls_get_the_psycopg_driver(tmp_path, given, expected):
    assert Settings.from_env(production(tmp_path, DATABASE_URL=given)).database_url == expected


def test_kdf_settings_are_parsed(tmp_path):
    settings = Settings.from_env(
        development(
            tmp_path,
            GRIEVANCE_KDF_TIME_COST="4",
            GRIEVANCE_KDF_MEMORY_KIB=" 131072 ",
            GRIEVANCE_KDF_PARALLELISM="1",
        )
    )
    assert settings.kdf == KdfParameters(time_cost=4, memory_cost_kib=131072, parallelism=1)


def test_kdf_defaults_fill_what_is_not_given(tmp_path):
    settings = Settings.from_env(development(tmp_path, GRIEVANCE_KDF_PARALLELISM="4"))
    assert settings.kdf == KdfParameters(parallelism=4)
    assert settings.kdf.time_cost == KdfParameters().time_cost


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("GRIEVANCE_KDF_TIME_COST", "three", "must be a whole number, not 'three'"),
        ("GRIEVANCE_KDF_MEMORY_KIB", "64.5", "must be a whole number, not '64.5'"),
        ("GRIEVANCE_KDF_PARALLELISM", "0", "must be at least 1"),
        ("GRIEVANCE_KDF_TIME_COST", "-2", "must be at least 1"),
    ],
)
def test_bad_kdf_settings_are_refused(tmp_path, name, value, problem):
    with pytest.raises(ConfigError, match=f"{name} {problem}"):
        Settings.from_env(development(tmp_path, **{name: value}))


# -- the app factory and the key ring ----------------------------------------------------------


def test_production_app_refuses_a_missing_keyring_file(tmp_path):
    settings = Settings.from_env(production(tmp_path))
    missing = tmp_path / "keyring.json"
    with pytest.raises(KeyringError, match=f"key ring file {missing} does not exist"):
        create_app(settings, clock=FixedClock(START))
    assert not missing.exists()  # never generated outside development


def test_test_environment_does_not_generate_a_keyring(tmp_path):
    settings = Settings.from_env(
        {"GRIEVANCE_ENV": "test", "GRIEVANCE_INSTANCE_PATH": str(tmp_path)}
    )
    with pytest.raises(KeyringError, match="does not exist"):
        create_app(settings, clock=FixedClock(START))
    assert not (tmp_path / "keyring.json").exists()


def test_production_app_reads_its_keyring_file(tmp_path):
    keyring = Keyring.generate()
    keyring.write(tmp_path / "keyring.json")
    app = create_app(Settings.from_env(production(tmp_path)), clock=FixedClock(START))
    assert app_services(app).keyring == keyring
    for surface in (app, staff_app_of(app)):
        assert surface.config["SESSION_COOKIE_NAME"] == f"__Host-{surface.name.split('.')[-1]}"
        assert surface.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["TESTING"] is False


def test_development_app_generates_a_keyring_with_a_loud_warning(tmp_path, caplog):
    settings = Settings.from_env(development(tmp_path))
    caplog.set_level(logging.WARNING, logger="grievance.crypto.keyring")
    app = create_app(settings, clock=FixedClock(START))

    keyring_file = tmp_path / "keyring.json"
    assert keyring_file.is_file()
    assert mode(keyring_file) == 0o600
    assert app_services(app).keyring == Keyring.from_file(keyring_file)
    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "generated a DEVELOPMENT key ring" in warnings[0].getMessage()
    assert str(keyring_file) in warnings[0].getMessage()

    caplog.clear()
    again = create_app(settings, clock=FixedClock(START))
    assert app_services(again).keyring == app_services(app).keyring
    assert not [record for record in caplog.records if "DEVELOPMENT" in record.getMessage()]
