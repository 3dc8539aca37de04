"""The case log's canonical form and hash: what makes the chain tamper-evident.

Form 2 (docs/transparency.md describes every byte): each payload field, and the acting
user's id as the field `@actor_id`, is committed on its own by a salted digest,
SHA-256(JCS({"name": name, "salt": salt, "value": value})) with a random 128-bit salt
per field stored with the event (`CaseEvent.salts`); the event's hash is SHA-256 of the
RFC 8785 canonical JSON (JCS) of its body: form, case reference, place in the chain,
kind, visibility, actor role, stages, time, the field digests and the previous event's
hash. A view that reveals a field gives its value and salt; one that withholds it gives
its digest only, and both check against the same hash. `caselog` writes and verifies
with it (and re-exports it); the synthetic-case generator hashes with it too.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import rfc8785

from grievance.models import CaseEvent, Role, Stage, Visibility


def time_text(moment: datetime) -> str:
    """A time as the log writes it: UTC, to the microsecond (2026-06-01T12:00:00.000000Z),
    as `strftime("%Y-%m-%dT%H:%M:%S.%fZ")` writes it."""
    utc = moment.astimezone(UTC)
    if utc.year < 1000:  # strftime leaves such a year unpadded, isoformat pads it
        return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return utc.isoformat(timespec="microseconds")[:-6] + "Z"  # faster; "+00:00" becomes Z


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return time_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Visibility):
        return value.label
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(item) for item in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    if isinstance(value, float) and value != value:  # NaN has no canonical form
        raise ValueError("NaN cannot be logged")
    return value


#: Sorted keys, compact, UTF-8 as written, no NaN: the canonical form of `canonical`.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(
        _jsonable(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def canonical_text(plain: Mapping[str, Any]) -> str:
    """`canonical` of a mapping of plain JSON values (strings, numbers, booleans, None, and
    lists and string-keyed mappings of them), as text, without converting times, dates and
    sets first: fast, for payloads that `events` built. Anything else is refused."""
    return _CANONICAL.encode(plain)


#: The version of the hashed form, written in every event body.
FORM = 2
#: The pseudo-field that commits the acting staff user's id (never shown to the public).
ACTOR_FIELD = "@actor_id"
SALT_BYTES = 16
_SAFE_INTEGER = 2**53 - 1


def new_salt() -> str:
    return secrets.token_hex(SALT_BYTES)


def new_salts(fields: Iterable[str]) -> dict[str, str]:
    """A fresh salt for each field and for `ACTOR_FIELD`."""
    return {name: new_salt() for name in (*fields, ACTOR_FIELD)}


def _simple(value: Any) -> bool:
    """True if `json` writes `value` exactly as RFC 8785 does: no floats, integers within
    +-(2**53 - 1), object keys in ASCII (whose UTF-16 order is their code point order)."""
    if value is None or value is True or value is False or isinstance(value, str):
        return True
    if isinstance(value, int):
        return -_SAFE_INTEGER <= value <= _SAFE_INTEGER
    if isinstance(value, list):
        return all(_simple(item) for item in value)
    if isinstance(value, dict):
        return all(key.isascii() and _simple(item) for key, item in value.items())
    return False


def jcs(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) of a plain JSON value, as UTF-8 bytes."""
    if _simple(value):
        return _CANONICAL.encode(value).encode("utf-8")
    return rfc8785.dumps(value)


def field_digest(name: str, value: Any, salt: str) -> str:
    """The commitment of one field: SHA-256 of JCS({"name", "salt", "value"}), hex."""
    return hashlib.sha256(jcs({"name": name, "salt": salt, "value": value})).hexdigest()


def field_digests(
    payload: Mapping[str, Any], actor_id: int | None, salts: Mapping[str, str]
) -> dict[str, str]:
    """The digest of every payload field and of `ACTOR_FIELD`."""
    digests = {name: field_digest(name, value, salts[name]) for name, value in payload.items()}
    digests[ACTOR_FIELD] = field_digest(ACTOR_FIELD, actor_id, salts[ACTOR_FIELD])
    return digests


def body_digest(
    reference: str,
    seq: int,
    kind: str,
    visibility: str,
    actor_role: str,
    stage_from: str | None,
    stage_to: str | None,
    created_at: str,
    fields: Mapping[str, str],
    prev: str,
) -> str:
    """The hash of an event from what every view shows of it (values as stored: labels
    and times as text) and its field digests."""
    body = {
        "actor_role": actor_role,
        "case": reference,
        "created_at": created_at,
        "fields": dict(fields),
        "form": FORM,
        "kind": kind,
        "prev": prev,
        "seq": seq,
        "stage_from": stage_from,
        "stage_to": stage_to,
        "visibility": visibility,
    }
    return hashlib.sha256(jcs(body)).hexdigest()


def event_digest(
    reference: str,
    seq: int,
    kind: str,
    visibility: Visibility,
    actor_role: Role,
    actor_id: int | None,
    stage_from: Stage | None,
    stage_to: Stage | None,
    payload: Mapping[str, Any],
    salts: Mapping[str, str],
    created_at: datetime,
    prev: str,
) -> str:
    """The hash of an event (its payload as plain JSON, one salt per field and for
    `ACTOR_FIELD`): the one hash function of the log: `compute_hash`, `append`,
    `verify_case` and the synthetic-case generator all come here."""
    return body_digest(
        reference,
        seq,
        kind,
        visibility.label,
        actor_role.value,
        stage_from.value if stage_from else None,
        stage_to.value if stage_to else None,
        time_text(created_at),
        field_digests(payload, actor_id, salts),
        prev,
    )


def compute_hash(event: CaseEvent, reference: str) -> str:
    return event_digest(
        reference,
        event.seq,
        event.kind,
        event.visibility,
        event.actor_role,
        event.actor_id,
        event.stage_from,
        event.stage_to,
        event.payload,
        event.salts,
        event.created_at,
        event.prev_hash,
    )
