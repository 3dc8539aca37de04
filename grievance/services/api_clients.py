"""Partner applications of the JSON intake API (issue #12, item 9): an administrator
creates a client, whose key is returned once and never stored, and revokes it; a
request's bearer key is authenticated in constant time; each use goes to the client's
audit trail (`api_client_use`), never with the client's address.

A key is `gmk_` and 12 hex digits (the key id: public, it names the client and tells keys
apart), `_`, and 43 characters of base64url: 256 random bits. The row keeps the key id and
SHA-256 of the whole key. A keyed or slow hash would add nothing: nobody can guess or
reverse 256 random bits from their hash, and a plain hash needs no key of the key ring
(so no key ring change or rotation ever touches the partners' keys).
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from grievance.models import ApiClient, ApiClientUse, ApiUseOutcome, Case, Role, User
from grievance.models.api_client import MAX_PER_DAY, MAX_PER_HOUR
from grievance.services.actors import Actor
from grievance.services.context import Context, atomic
from grievance.services.errors import Code, InvalidInput, NotAllowed, ServiceError

audit = logging.getLogger("grievance.audit")

KEY_PREFIX = "gmk_"
KEY_ID_HEX = 12
SECRET_BYTES = 32
KEY_PATTERN = re.compile(r"(gmk_[0-9a-f]{12})_[A-Za-z0-9_-]{43}")
#: The longest text taken for a key: anything longer is no key of ours.
KEY_MAX = 100
NAME_MAX = 120
ORGANISATION_MAX = 200
#: What the administrators' form proposes.
DEFAULT_PER_HOUR = 200
DEFAULT_PER_DAY = 2000
#: `last_used_at` is written at most this often per client: a busy partner's requests do
#: not all queue for its row.
LAST_USED_PRECISION = timedelta(minutes=1)
#: What a key that names no client is compared with, so that it costs what a wrong one does.
_NO_CLIENT = hashlib.sha256(b"no client has this key").hexdigest()
_BEARER = re.compile(r"Bearer +(\S+) *", re.IGNORECASE)


class KeyRefusal(enum.StrEnum):
    #: Not a bearer key of ours (another scheme, or not the key's shape).
    MALFORMED = "malformed"
    #: No client has this key id.
    UNKNOWN = "unknown"
    #: A client's key id with another secret.
    WRONG = "wrong"
    #: The right key, revoked.
    REVOKED = "revoked"


class KeyRefused(ServiceError):
    """A request's key opens nothing; `client` is the client its key id names, if any."""

    def __init__(self, refusal: KeyRefusal, client: ApiClient | None = None) -> None:
        self.refusal = refusal
        self.client = client
        super().__init__(f"API key refused: {refusal.value}")


@dataclass(frozen=True)
class NewClient:
    client: ApiClient
    #: Shown once to the administrator who created the client; never stored.
    key: str


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh key and its key id."""
    key_id = KEY_PREFIX + secrets.token_hex(KEY_ID_HEX // 2)
    return f"{key_id}_{secrets.token_urlsafe(SECRET_BYTES)}", key_id


def _require_admin(ctx: Context, actor: Actor) -> User:
    user = ctx.session.get(User, actor.user_id) if actor.user_id is not None else None
    if (
        actor.role is not Role.ADMIN
        or user is None
        or not user.active
        or user.role is not Role.ADMIN
    ):
        raise NotAllowed(f"{actor.role} may not manage API clients")
    return user


def _validate(name: str, organisation: str, per_hour: int, per_day: int) -> None:
    errors: dict[str, Code] = {}
    limits: dict[str, dict[str, int]] = {}
    for field, text, most in (
        ("name", name, NAME_MAX),
        ("organisation", organisation, ORGANISATION_MAX),
    ):
        if not text:
            errors[field] = Code.REQUIRED
        elif len(text) > most:
            errors[field] = Code.TOO_LONG
            limits[field] = {"max": most}
    if not 1 <= per_hour <= MAX_PER_HOUR:
        errors["complaints_per_hour"] = Code.OUT_OF_RANGE
        limits["complaints_per_hour"] = {"min": 1, "max": MAX_PER_HOUR}
    elif not per_hour <= per_day <= MAX_PER_DAY:
        errors["complaints_per_day"] = Code.OUT_OF_RANGE
        limits["complaints_per_day"] = {"min": per_hour, "max": MAX_PER_DAY}
    if errors:
        raise InvalidInput(errors, limits)


@atomic
def create_client(
    ctx: Context,
    actor: Actor,
    *,
    name: str,
    organisation: str,
    complaints_per_hour: int = DEFAULT_PER_HOUR,
    complaints_per_day: int = DEFAULT_PER_DAY,
) -> NewClient:
    """A new client and its key, returned this once (administrators only)."""
    admin = _require_admin(ctx, actor)
    name, organisation = " ".join(name.split()), " ".join(organisation.split())
    _validate(name, organisation, complaints_per_hour, complaints_per_day)
    key, key_id = new_key()
    client = ApiClient(
        name=name,
        organisation=organisation,
        key_id=key_id,
        key_hash=key_digest(key),
        complaints_per_hour=complaints_per_hour,
        complaints_per_day=complaints_per_day,
        created_at=ctx.now(),
        created_by_id=admin.id,
    )
    ctx.session.add(client)
    ctx.session.flush()
    audit.info(
        "api client %s (%s) created by user %s: %d complaints an hour, %d a day",
        client.id,
        key_id,
        admin.id,
        complaints_per_hour,
        complaints_per_day,
    )
    return NewClient(client=client, key=key)


@atomic
def revoke_client(ctx: Context, actor: Actor, client: ApiClient) -> bool:
    """Revoke the client's key for good (administrators only); False if it already was."""
    admin = _require_admin(ctx, actor)
    locked = ctx.session.scalars(
        select(ApiClient)
        .where(ApiClient.id == client.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if locked.revoked_at is not None:
        return False
    locked.revoked_at = ctx.now()
    locked.revoked_by_id = admin.id
    ctx.session.flush()
    audit.info("api client %s (%s) revoked by user %s", locked.id, locked.key_id, admin.id)
    return True


def bearer_key(authorization: str | None) -> str | None:
    """The key of an `Authorization: Bearer <key>` header (RFC 6750); None without the
    header; `KeyRefused` (malformed) for any other credentials."""
    if authorization is None:
        return None
    match = _BEARER.fullmatch(authorization[: KEY_MAX + 20])
    if match is None:
        raise KeyRefused(KeyRefusal.MALFORMED)
    return match.group(1)


def authenticate(ctx: Context, key: str) -> ApiClient:
    """The active client whose key this is, or `KeyRefused`. The hash is compared in
    constant time (`hmac.compare_digest`), also when no client has the key id."""
    key = key[:KEY_MAX]
    digest = key_digest(key)
    match = KEY_PATTERN.fullmatch(key)
    client = None
    if match is not None:
        client = ctx.session.scalar(select(ApiClient).where(ApiClient.key_id == match.group(1)))
    if client is None:
        hmac.compare_digest(digest, _NO_CLIENT)  # the same work as for a client's key
        refusal = KeyRefusal.UNKNOWN if match else KeyRefusal.MALFORMED
        audit.warning("api key refused (%s)", refusal.value)
        raise KeyRefused(refusal)
    if not hmac.compare_digest(digest, client.key_hash):
        audit.warning("api key refused (wrong): client %s", client.id)
        raise KeyRefused(KeyRefusal.WRONG, client)
    if client.revoked_at is not None:
        audit.warning("api key refused (revoked): client %s", client.id)
        raise KeyRefused(KeyRefusal.REVOKED, client)
    now = ctx.now()
    if client.last_used_at is None or now - client.last_used_at >= LAST_USED_PRECISION:
        client.last_used_at = now
    return client


def outcome_of(status: int, refusal: KeyRefusal | None = None) -> ApiUseOutcome:
    if refusal is KeyRefusal.REVOKED:
        return ApiUseOutcome.REVOKED_KEY
    if refusal is not None:
        return ApiUseOutcome.WRONG_KEY
    if 200 <= status < 300:
        return ApiUseOutcome.ACCEPTED
    if status == 429:
        return ApiUseOutcome.RATE_LIMITED
    if status >= 500:
        return ApiUseOutcome.FAILED
    return ApiUseOutcome.REFUSED


def record_use(
    ctx: Context,
    client_id: int,
    endpoint: str,
    status: int,
    *,
    refusal: KeyRefusal | None = None,
    case: Case | None = None,
) -> ApiClientUse:
    """One line of the client's audit trail: when, which endpoint, what came of it (from
    the status answered and the key's refusal) and the case it filed."""
    use = ApiClientUse(
        client_id=client_id,
        at=ctx.now(),
        endpoint=endpoint[:40],
        outcome=outcome_of(status, refusal),
        status=status,
        case_id=case.id if case is not None else None,
    )
    ctx.session.add(use)
    ctx.session.flush()
    return use


@dataclass(frozen=True)
class Use:
    """A line of the audit trail as the administrators' page shows it."""

    at: datetime
    endpoint: str
    outcome: ApiUseOutcome
    status: int
    reference: str | None


def recent_uses(ctx: Context, actor: Actor, client: ApiClient, limit: int = 100) -> list[Use]:
    """The client's last `limit` uses, newest first (administrators only)."""
    _require_admin(ctx, actor)
    rows = ctx.session.execute(
        select(ApiClientUse, Case.reference)
        .outerjoin(Case, Case.id == ApiClientUse.case_id)
        .where(ApiClientUse.client_id == client.id)
        .order_by(ApiClientUse.at.desc(), ApiClientUse.id.desc())
        .limit(limit)
    )
    return [
        Use(at=use.at, endpoint=use.endpoint, outcome=use.outcome, status=use.status, reference=ref)
        for use, ref in rows
    ]
