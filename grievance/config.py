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
from email.utils import parseaddr
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

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

#: `SMTP_URL` schemes: STARTTLS when the server offers it, STARTTLS required, TLS at once.
SMTP_SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
#: Who mails come from when `MAIL_FROM` is not set (development and tests only).
DEVELOPMENT_MAIL_FROM = "Grievance mechanism <grievance@localhost>"


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes (`SMTP_URL`): `smtp://` takes STARTTLS when the server offers it
    (opportunistic: the certificate is not checked), `smtp+starttls://` requires it and
    `smtps://` speaks TLS from the start (both check the certificate). The password is
    kept out of `repr`."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def requires_tls(self) -> bool:
        return self.scheme != "smtp"

    @property
    def is_loopback(self) -> bool:
        return self.host in ("localhost", "127.0.0.1", "::1")


def parse_smtp_url(value: str) -> SmtpServer:
    """`smtp://[user:password@]host[:port]` (or `smtp+starttls://`, `smtps://`); user and
    password percent-encoded. Raises `ConfigError` naming what is wrong (never the
    password)."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ConfigError("SMTP_URL is not a URL (smtp://host:port).") from None
    scheme = parts.scheme.lower()
    if scheme not in SMTP_SCHEMES:
        raise ConfigError(
            "SMTP_URL must start with smtp://, smtp+starttls:// or smtps://, "
            f"not {scheme or 'nothing'}://."
        )
    if not parts.hostname:
        raise ConfigError("SMTP_URL names no host (smtp://host:port).")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError("SMTP_URL takes a host and a port only, no path or query.")
    if (parts.username is None) != (parts.password is None):
        raise ConfigError("SMTP_URL gives a user without a password, or one without a user.")
    return SmtpServer(
        scheme=scheme,
        host=parts.hostname,
        port=port or SMTP_SCHEMES[scheme],
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def check_mail_from(value: str) -> str:
    """One address, optionally with a name (`Name <address@host>`), on one line."""
    _name, address = parseaddr(value)
    local, _, domain = address.rpartition("@")
    if "\n" in value or "\r" in value or not local or "." not in domain or not address:
        raise ConfigError(
            f"MAIL_FROM must be an e-mail address (Name <address@host>), not {value!r}."
        )
    return value.strip()


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
    #: Where mail goes; None: into `instance/mail/` outside production, nowhere in
    #: production (mails wait in the outbox).
    smtp: SmtpServer | None = None
    mail_from: str = DEVELOPMENT_MAIL_FROM
    #: The staff surface's address, when it has a host of its own (links in staff mails).
    staff_base_url: str | None = None

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @property
    def staff_url(self) -> str:
        """Where staff reach their pages (`STAFF_BASE_URL`, else `PUBLIC_BASE_URL`)."""
        return self.staff_base_url or self.public_base_url

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
        smtp_url = get("SMTP_URL")
        mail_from = get("MAIL_FROM")
        if smtp_url and mail_from is None and not lenient:
            missing.append("MAIL_FROM (who mails come from, e.g. Complaints <noreply@example.org>)")
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
            smtp=parse_smtp_url(smtp_url) if smtp_url else None,
            mail_from=check_mail_from(mail_from) if mail_from else DEVELOPMENT_MAIL_FROM,
            staff_base_url=_base_url(get, "STAFF_BASE_URL"),
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
    if settings.staff_base_url and not settings.staff_base_url.startswith("https://"):
        weak.append("STAFF_BASE_URL must be an https:// address")
    smtp = settings.smtp
    if smtp and smtp.password is not None and not smtp.requires_tls and not smtp.is_loopback:
        weak.append(
            "SMTP_URL sends a password: use smtp+starttls:// or smtps://, so it never "
            "travels in clear"
        )
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


def _base_url(get: Callable[[str], str | None], name: str) -> str | None:
    raw = get(name)
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http:// or https:// address, not {raw!r}.")
    return raw.rstrip("/")


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
