"""Every setting, read from the environment in one place.

`Settings.from_env()` is called once by the app factory (or by a test with its own
mapping). Outside development and tests there is no default for any secret: a missing
setting stops the start-up with an error that names it.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_PATH = PROJECT_ROOT / "instance"
TEMPLATES = PROJECT_ROOT / "templates"
LOCALES = PROJECT_ROOT / "locales"
MIGRATIONS = PROJECT_ROOT / "migrations"
TWILIO_API_BASE_URL = "https://api.twilio.com"

Environment = Literal["production", "development", "test"]
ENVIRONMENTS: tuple[Environment, ...] = ("production", "development", "test")

log = logging.getLogger(__name__)


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message names it."""


@dataclass(frozen=True)
class KdfParameters:
    """Argon2id cost, for receipt codes and (later) reviewers' private keys."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 2


#: Cheap parameters for the test suite; one slow test runs the real ones.
TEST_KDF = KdfParameters(time_cost=1, memory_cost_kib=8, parallelism=1)


@dataclass(frozen=True)
class Settings:
    env: Environment
    secret_key: str
    database_url: str
    public_base_url: str
    instance_path: Path
    keyring_file: Path | None = None
    keyring_json: str | None = None
    kdf: KdfParameters = field(default_factory=KdfParameters)
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str = TWILIO_API_BASE_URL
    #: The mechanism that SMS and WhatsApp complaints are filed with (its code); the
    #: first mechanism when unset.
    sms_mechanism: str | None = None
    #: Silence after which an unfinished SMS conversation is closed politely.
    sms_conversation_expiry_hours: int = 24
    #: How often the worker reads inbound SMS and drains the outbox.
    sms_poll_seconds: int = 3
    log_level: str = "INFO"
    #: "text" (lines for a terminal) or "json" (JSON lines for a log collector).
    log_format: str = "text"
    ratelimit_storage_uri: str = "memory://"
    #: Reverse proxies in front of the app that add X-Forwarded-For/-Proto (0: none;
    #: the client's address is the connection's and any X-Forwarded-For is ignored).
    trusted_proxy_hops: int = 0

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env_map = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env_map.get(name, "").strip()
            return value or None

        env = get("GRIEVANCE_ENV") or "production"
        if env not in ENVIRONMENTS:
            raise ConfigError(
                f"GRIEVANCE_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}."
            )
        instance = Path(get("GRIEVANCE_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH)
        lenient = env != "production"

        missing: list[str] = []
        secret_key = get("SECRET_KEY")
        if secret_key is None:
            if lenient:
                secret_key = _development_secret_key(instance)
            else:
                missing.append("SECRET_KEY (a random string of at least 32 characters)")
        elif len(secret_key) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters long.")

        database_url = get("DATABASE_URL")
        if database_url is None:
            if lenient:
                database_url = f"sqlite:///{instance / 'grievance.sqlite3'}"
            else:
                missing.append("DATABASE_URL (e.g. postgresql+psycopg://user@host/grievance)")
        elif database_url.startswith(("postgres://", "postgresql://")):
            # Make the driver explicit: only psycopg 3 is installed.
            database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]

        keyring_file_value = get("GRIEVANCE_KEYRING_FILE")
        keyring_json = get("GRIEVANCE_KEYRING")
        keyring_file = Path(keyring_file_value) if keyring_file_value else None
        if keyring_file is None and keyring_json is None:
            if lenient:
                keyring_file = instance / "keyring.json"
            else:
                missing.append("GRIEVANCE_KEYRING_FILE or GRIEVANCE_KEYRING (the key ring)")

        public_base_url = get("PUBLIC_BASE_URL")
        if public_base_url is None:
            if lenient:
                public_base_url = f"http://127.0.0.1:{get('PORT') or '5000'}"
            else:
                missing.append("PUBLIC_BASE_URL (e.g. https://complaints.example.org)")

        missing.extend(_twilio_missing(get))
        if missing:
            raise ConfigError("Missing settings: " + "; ".join(missing) + ".")
        assert secret_key is not None
        assert database_url is not None
        assert public_base_url is not None

        settings = cls(
            env=env,
            secret_key=secret_key,
            database_url=database_url,
            public_base_url=public_base_url.rstrip("/"),
            instance_path=instance,
            keyring_file=keyring_file,
            keyring_json=keyring_json,
            kdf=_kdf_from_env(get),
            twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
            twilio_from_number=get("TWILIO_FROM_NUMBER"),
            twilio_messaging_service_sid=get("TWILIO_MESSAGING_SERVICE_SID"),
            twilio_api_base_url=(get("TWILIO_API_BASE_URL") or TWILIO_API_BASE_URL).rstrip("/"),
            sms_mechanism=get("SMS_MECHANISM"),
            sms_conversation_expiry_hours=_positive_int(get, "SMS_CONVERSATION_EXPIRY_HOURS", 24),
            sms_poll_seconds=_positive_int(get, "SMS_POLL_SECONDS", 3),
            log_level=(get("LOG_LEVEL") or "INFO").upper(),
            log_format=_choice(get, "LOG_FORMAT", ("text", "json")),
            ratelimit_storage_uri=get("RATELIMIT_STORAGE_URI") or "memory://",
            trusted_proxy_hops=_count(get, "TRUSTED_PROXY_HOPS", 0),
        )
        if not lenient:
            weak = weak_production_settings(settings)
            if weak:
                raise ConfigError("Weak settings for production: " + "; ".join(weak) + ".")
        return settings


#: The least Argon2id cost production accepts (OWASP's minimum: 19 MiB, 2 passes).
MIN_KDF = KdfParameters(time_cost=2, memory_cost_kib=19456, parallelism=1)
#: The least estimated strength of SECRET_KEY, in bits.
MIN_SECRET_BITS = 128


def weak_production_settings(settings: Settings) -> list[str]:
    """What production must not run with, each named with what to do instead."""
    weak: list[str] = []
    kdf = settings.kdf
    if kdf.time_cost < MIN_KDF.time_cost:
        weak.append(f"GRIEVANCE_KDF_TIME_COST must be at least {MIN_KDF.time_cost}")
    if kdf.memory_cost_kib < MIN_KDF.memory_cost_kib:
        weak.append(f"GRIEVANCE_KDF_MEMORY_KIB must be at least {MIN_KDF.memory_cost_kib}")
    if not settings.public_base_url.startswith("https://"):
        weak.append("PUBLIC_BASE_URL must be an https:// address")
    if settings.twilio_api_base_url != TWILIO_API_BASE_URL:
        weak.append(
            f"TWILIO_API_BASE_URL must be {TWILIO_API_BASE_URL} (it receives the auth token)"
        )
    if secret_strength(settings.secret_key) < MIN_SECRET_BITS:
        weak.append(
            "SECRET_KEY is guessable: make one with "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    return weak


def check_server(settings: Settings, workers: int) -> None:
    """What a server of `workers` processes needs (gunicorn.conf.py asks at start-up):
    with several processes, rate limits must count in one store every process sees, or
    each process would give every client a budget of its own."""
    if workers > 1 and settings.ratelimit_storage_uri.startswith("memory://"):
        if settings.env == "production":
            raise ConfigError(
                f"RATELIMIT_STORAGE_URI is memory:// with {workers} workers: each would count "
                "apart. Use Redis (redis://host:6379) or run one worker."
            )
        log.warning("rate limits count per process (memory://) with %d workers", workers)


def secret_strength(secret: str) -> float:
    """A rough estimate of a secret's strength in bits: its length times the Shannon
    entropy of its characters. `secrets.token_urlsafe(48)` gives about 350; 32 times
    the same letter gives 0; an English sentence of 32 characters about 130."""
    counts = Counter(secret)
    per_character = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return per_character * len(secret)


def _twilio_missing(get: Callable[[str], str | None]) -> list[str]:
    """Twilio is configured whole or not at all: half of it would refuse every webhook or
    send nothing, silently."""
    given = [
        name
        for name in (
            "TWILIO_ACCOUNT_SID",
            "TWILIO_AUTH_TOKEN",
            "TWILIO_FROM_NUMBER",
            "TWILIO_MESSAGING_SERVICE_SID",
        )
        if get(name)
    ]
    if not given:
        return []
    missing = [
        f"{name} (Twilio is partly configured: {', '.join(given)})"
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
        if not get(name)
    ]
    if not (get("TWILIO_FROM_NUMBER") or get("TWILIO_MESSAGING_SERVICE_SID")):
        missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID (the sender)")
    return missing


def _positive_int(get: Callable[[str], str | None], name: str, default: int) -> int:
    raw = get(name)
    if raw is None:
        return default
    try:
        number = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
    if number < 1:
        raise ConfigError(f"{name} must be at least 1.")
    return number


def _choice(get: Callable[[str], str | None], name: str, allowed: tuple[str, ...]) -> str:
    raw = (get(name) or allowed[0]).lower()
    if raw not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, not {raw!r}.")
    return raw


def _count(get: Callable[[str], str | None], name: str, default: int) -> int:
    raw = get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > 10:
        raise ConfigError(f"{name} must be a whole number from 0 to 10, not {raw!r}.")
    return int(raw)


def _kdf_from_env(get: Callable[[str], str | None]) -> KdfParameters:
    defaults = KdfParameters()
    return KdfParameters(
        time_cost=_positive_int(get, "GRIEVANCE_KDF_TIME_COST", defaults.time_cost),
        memory_cost_kib=_positive_int(get, "GRIEVANCE_KDF_MEMORY_KIB", defaults.memory_cost_kib),
        parallelism=_positive_int(get, "GRIEVANCE_KDF_PARALLELISM", defaults.parallelism),
    )


def _development_secret_key(instance: Path) -> str:
    """A per-checkout secret key for development, kept under instance/."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "x", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.chmod(path, 0o600)
        except FileExistsError:
            pass  # another process wrote it first
    return path.read_text(encoding="ascii").strip()
