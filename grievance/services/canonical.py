"""The case log's canonical form and hash: what makes the chain tamper-evident.

An event's hash is SHA-256 over the canonical serialisation (sorted keys, compact, UTF-8
as written, no NaN) of its body: the case's reference, its place in the chain, kind,
visibility, actor, stages, payload, time and the previous event's hash. `caselog` writes
and verifies with it (and re-exports it); the synthetic-case generator hashes with it too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

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


def event_digest(
    reference: str,
    seq: int,
    kind: str,
    visibility: Visibility,
    actor_role: Role,
    actor_id: int | None,
    stage_from: Stage | None,
    stage_to: Stage | None,
    payload_text: str,
    created_at: datetime,
    prev: str,
) -> str:
    """The hash of an event: SHA-256 of `canonical` of its body (the keys below, sorted),
    written out around `payload_text`, the payload's canonical text (`canonical_text`, or
    `canonical` decoded). The one hash function of the log: `compute_hash`, `append`,
    `verify_case` and the synthetic-case generator all come here."""
    body = (
        f'{{"actor_id":{_number(actor_id)},"actor_role":{_ROLES[actor_role]},'
        f'"case":{_string(reference)},"created_at":"{time_text(created_at)}",'
        f'"kind":{_string(kind)},"payload":{payload_text},"prev":{_string(prev)},'
        f'"seq":{_number(seq)},"stage_from":{_STAGES[stage_from]},'
        f'"stage_to":{_STAGES[stage_to]},"visibility":{_VISIBILITIES[visibility]}}}'
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# The canonical text of the body's values, as `_CANONICAL` writes them.
_string = json.encoder.encode_basestring  # a string, UTF-8 as written (ensure_ascii=False)


def _number(value: int | None) -> str:
    return "null" if value is None else int.__repr__(value)


_ROLES = {role: _string(role.value) for role in Role}
_STAGES: dict[Stage | None, str] = {
    None: "null",
    **{stage: _string(stage.value) for stage in Stage},
}
_VISIBILITIES = {visibility: _string(visibility.label) for visibility in Visibility}


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
        canonical(event.payload).decode("utf-8"),
        event.created_at,
        event.prev_hash,
    )
