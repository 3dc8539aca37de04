"""The case log's canonical serialisation, event hash and visibility allowlist."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from grievance.models import CaseEvent, Role, Stage, Visibility
from grievance.services import canonical as canonical_module
from grievance.services import caselog
from grievance.services.caselog import canonical, compute_hash, visible_payload

# -- canonical ---------------------------------------------------------------------------


def test_key_order_does_not_matter():
    first = canonical({"b": 1, "a": {"y": 2, "x": [3, {"q": 1, "p": 0}]}})
    second = canonical({"a": {"x": [3, {"p": 0, "q": 1}], "y": 2}, "b": 1})
    assert first == second == b'{"a":{"x":[3,{"p":0,"q":1}],"y":2},"b":1}'


def test_list_order_matters_but_set_order_does_not():
    assert canonical({"l": [1, 2]}) != canonical({"l": [2, 1]})
    assert canonical({"s": {"b", "a", "c"}}) == canonical({"s": ["a", "b", "c"]})
    assert canonical({"t": ("x", "y")}) == b'{"t":["x","y"]}'


def test_non_ascii_is_kept_as_utf8():
    text = "আমাদের টাকা — Ödeme yapılmadı 工资 أجر"
    assert canonical({"t": text}) == ('{"t":"' + text + '"}').encode("utf-8")
    assert b"\\u" not in canonical({"t": text})


def test_datetimes_are_utc_with_microseconds():
    amsterdam = timezone(timedelta(hours=1))
    assert canonical({"at": datetime(2026, 3, 2, 10, 0, tzinfo=amsterdam)}) == (
        b'{"at":"2026-03-02T09:00:00.000000Z"}'
    )
    assert canonical({"at": datetime(2026, 3, 2, 9, 0, 0, 5, tzinfo=UTC)}) == (
        b'{"at":"2026-03-02T09:00:00.000005Z"}'
    )
    # The same moment in two zones serialises the same.
    moment = datetime(2026, 3, 2, 23, 30, 0, 123456, tzinfo=UTC)
    dhaka = timezone(timedelta(hours=6))
    assert canonical({"at": moment}) == canonical({"at": moment.astimezone(dhaka)})


def test_dates_and_visibilities_have_one_form():
    assert canonical({"d": date(2026, 3, 2), "v": Visibility.REVIEWERS}) == (
        b'{"d":"2026-03-02","v":"reviewers"}'
    )


@pytest.mark.parametrize(
    "value",
    [math.nan, [1.0, math.nan], {"deep": {"er": math.nan}}, math.inf, -math.inf],
    ids=["nan", "nan-in-list", "nan-nested", "inf", "-inf"],
)
def test_nan_and_infinity_are_refused(value):
    with pytest.raises(ValueError, match=r"NaN|JSON compliant|Out of range"):
        canonical({"value": value})


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=15,
)


@settings(deadline=None)
@given(st.dictionaries(st.text(), _json, max_size=6))
def test_canonical_is_stable_json(document):
    encoded = canonical(document)
    assert json.loads(encoded.decode("utf-8")) == document
    reordered = dict(reversed(list(document.items())))
    assert canonical(reordered) == encoded
    # Reading what was written and writing it again gives the same bytes.
    assert canonical(json.loads(encoded)) == encoded


# -- the event hash --------------------------------------------------------------------------

AT = datetime(2026, 3, 2, 9, 0, 0, 250000, tzinfo=UTC)


SALTS = {"reason": "11" * 16, caselog.ACTOR_FIELD: "22" * 16}


def _event(**changes):
    values = {
        "case_id": 1,
        "seq": 3,
        "kind": "stage_changed",
        "visibility": Visibility.PUBLIC,
        "actor_role": Role.REVIEWER,
        "actor_id": 7,
        "stage_from": Stage.RECEIVED,
        "stage_to": Stage.ACKNOWLEDGED,
        "payload": {"reason": "Received and read."},
        "salts": SALTS,
        "created_at": AT,
        "prev_hash": "a" * 64,
    }
    values.update(changes)
    return CaseEvent(**values)


def test_hash_is_sha256_hex_and_deterministic():
    digest = compute_hash(_event(), "TEX-2026-00001")
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert digest == compute_hash(_event(), "TEX-2026-00001")


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 4},
        {"kind": "decision_proposed"},
        {"visibility": Visibility.INTERNAL},
        {"actor_role": Role.SECRETARIAT},
        {"actor_id": 8},
        {"actor_id": None},
        {"stage_from": Stage.ADMISSIBILITY},
        {"stage_to": None},
        {"payload": {"reason": "Received and read!"}},
        {"payload": {}},
        {"salts": {**SALTS, "reason": "33" * 16}},
        {"salts": {**SALTS, caselog.ACTOR_FIELD: "33" * 16}},
        {"created_at": AT + timedelta(microseconds=1)},
        {"prev_hash": "b" * 64},
    ],
    ids=lambda change: f"{next(iter(change))}-{next(iter(change.values()))!s:.20}",
)
def test_every_field_is_hashed(change):
    assert compute_hash(_event(**change), "TEX-2026-00001") != compute_hash(
        _event(), "TEX-2026-00001"
    )


def test_the_case_reference_is_hashed():
    """An event copied into another case's chain does not verify there."""
    assert compute_hash(_event(), "TEX-2026-00001") != compute_hash(_event(), "TEX-2026-00002")


def test_same_moment_in_another_zone_hashes_the_same():
    dhaka = AT.astimezone(timezone(timedelta(hours=6)))
    assert compute_hash(_event(created_at=dhaka), "R") == compute_hash(_event(), "R")


def test_known_hashes_stay_the_same():
    """Form 2, byte for byte as docs/transparency.md tells it (its worked example): every
    log already written must still verify."""
    assert canonical_module.field_digest("reason", "Received and read.", "11" * 16) == (
        hashlib.sha256(
            b'{"name":"reason","salt":"11111111111111111111111111111111",'
            b'"value":"Received and read."}'
        ).hexdigest()
    )
    body = (
        '{"actor_role":"reviewer","case":"TEX-2026-00001",'
        '"created_at":"2026-03-02T09:00:00.250000Z","fields":{"@actor_id":"'
        + canonical_module.field_digest("@actor_id", 7, "22" * 16)
        + '","reason":"'
        + canonical_module.field_digest("reason", "Received and read.", "11" * 16)
        + '"},"form":2,"kind":"stage_changed","prev":"'
        + "a" * 64
        + '","seq":3,"stage_from":"received","stage_to":"acknowledged","visibility":"public"}'
    )
    assert compute_hash(_event(), "TEX-2026-00001") == hashlib.sha256(body.encode()).hexdigest()
    assert compute_hash(_event(), "TEX-2026-00001") == KNOWN


#: JSON values RFC 8785 can write: integers within the safe range of a double.
_safe_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=15,
)

KNOWN = "29dac07d5751f3b9af4c749a62ac998e54c19025d21b086498894524f1238596"


@settings(deadline=None)
@given(value=_safe_json)
def test_jcs_is_rfc_8785(value):
    """The fast path (json, for plain values) writes what the `rfc8785` library writes."""
    assert canonical_module.jcs(value) == rfc8785.dumps(value)


@settings(deadline=None)
@given(
    payload=st.dictionaries(st.text(min_size=1), _safe_json, max_size=5),
    reference=st.text(min_size=1, max_size=20),
    seq=st.integers(min_value=1, max_value=10**9),
    kind=st.sampled_from(sorted(caselog.EVENT_KINDS)),
    visibility=st.sampled_from(Visibility),
    role=st.sampled_from(Role),
    actor_id=st.none() | st.integers(min_value=1, max_value=10**12),
    stages=st.tuples(st.none() | st.sampled_from(Stage), st.none() | st.sampled_from(Stage)),
    at=st.datetimes(
        min_value=datetime(1000, 1, 1),  # noqa: DTZ001 - bounds of a zoned strategy
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=6)), timezone(-timedelta(hours=5))]
        ),
    ),
    prev=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
)
def test_the_digest_is_sha256_of_the_rfc_8785_body(
    payload, reference, seq, kind, visibility, role, actor_id, stages, at, prev
):
    """An event's hash is SHA-256 of RFC 8785 of its body, whose `fields` are the salted
    digests of each payload field and of the actor's id."""
    stage_from, stage_to = stages
    salts = caselog.new_salts(payload)
    fields = {
        name: hashlib.sha256(
            rfc8785.dumps({"name": name, "salt": salts[name], "value": value})
        ).hexdigest()
        for name, value in {**payload, caselog.ACTOR_FIELD: actor_id}.items()
    }
    body = {
        "form": 2,
        "case": reference,
        "seq": seq,
        "kind": kind,
        "visibility": visibility.label,
        "actor_role": role.value,
        "stage_from": stage_from.value if stage_from else None,
        "stage_to": stage_to.value if stage_to else None,
        "fields": fields,
        "created_at": caselog.time_text(at),
        "prev": prev,
    }
    expected = hashlib.sha256(rfc8785.dumps(body)).hexdigest()
    arguments = (reference, seq, kind, visibility, role, actor_id, stage_from, stage_to)
    assert caselog.event_digest(*arguments, payload, salts, at, prev) == expected


def test_salts_are_random_per_field():
    salts = caselog.new_salts({"a": 1, "b": 2})
    assert set(salts) == {"a", "b", caselog.ACTOR_FIELD}
    assert len(set(salts.values())) == 3
    assert all(len(salt) == 32 and int(salt, 16) >= 0 for salt in salts.values())
    assert caselog.new_salts({"a": 1})["a"] != salts["a"]


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),  # noqa: DTZ001 - bounds of a zoned strategy
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=6)), timezone(-timedelta(hours=5))]
        ),
    )
)
def test_times_are_written_as_strftime_writes_them(moment):
    assert caselog.time_text(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_canonical_text_refuses_what_is_not_plain_json():
    with pytest.raises(TypeError):
        caselog.canonical_text({"at": AT})
    with pytest.raises(ValueError, match="JSON compliant"):
        caselog.canonical_text({"value": math.nan})


# -- visibility allowlist --------------------------------------------------------------------


def test_field_shows_only_at_or_above_its_visibility():
    event = _event(
        kind="reviewer_assigned",
        visibility=Visibility.REVIEWERS,
        payload={"reviewer_id": 4, "role": "lead", "score": 0.8, "reasons": ["speaks bn"]},
    )
    assert visible_payload(event, Visibility.PUBLIC) is None
    assert visible_payload(event, Visibility.PARTIES) is None
    assert visible_payload(event, Visibility.REVIEWERS) == {"reviewer_id": 4, "role": "lead"}
    assert visible_payload(event, Visibility.INTERNAL) == {
        "reviewer_id": 4,
        "role": "lead",
        "score": 0.8,
        "reasons": ["speaks bn"],
    }


def test_public_event_shows_only_public_fields_to_the_public():
    event = _event(
        kind="case_filed",
        visibility=Visibility.PUBLIC,
        payload={
            "reference": "TEX-2026-00001",
            "themes": ["living_wage"],
            "channel": "sms",
            "anonymity": "confidential",
        },
    )
    assert visible_payload(event, Visibility.PUBLIC) == {
        "reference": "TEX-2026-00001",
        "themes": ["living_wage"],
    }
    assert visible_payload(event, Visibility.PARTIES) == {
        "reference": "TEX-2026-00001",
        "themes": ["living_wage"],
    }
    assert visible_payload(event, Visibility.REVIEWERS) == event.payload


def test_event_stored_above_its_kinds_default_is_hidden():
    event = _event(visibility=Visibility.INTERNAL)  # a stage change kept internal
    for audience in (Visibility.PUBLIC, Visibility.PARTIES, Visibility.REVIEWERS):
        assert visible_payload(event, audience) is None
    assert visible_payload(event, Visibility.INTERNAL) == {"reason": "Received and read."}


def test_undeclared_field_and_unknown_kind_never_show():
    smuggled = _event(payload={"reason": "ok", "phone": "+8801711000001"})
    for audience in Visibility:
        shown = visible_payload(smuggled, audience)
        assert shown is None or "phone" not in shown
    assert visible_payload(smuggled, Visibility.INTERNAL) == {"reason": "ok"}
    assert visible_payload(_event(kind="no_such_kind"), Visibility.INTERNAL) is None


def test_identity_reveals_are_internal_only():
    """Who looked at an identity, and why, is for the audit only (DESIGN §5)."""
    identity = caselog.EVENT_KINDS["identity_revealed"]
    assert identity.visibility is Visibility.INTERNAL
    assert set(identity.fields.values()) == {Visibility.INTERNAL}
