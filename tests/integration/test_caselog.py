"""The hash-chained case log and `flask grievance verify-log` (DESIGN invariant 3).

Each tampering test builds a case with a real history, changes its rows directly in SQL
(as someone with database access would) and checks that the command fails naming the
case and the first event where the chain breaks.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from grievance.models import Case, CaseEvent, Role, Stage, Visibility
from grievance.services import caselog, logcheck
from grievance.services.actors import SYSTEM, Actor
from tests.factories import staff_case, walk_to

# -- helpers --------------------------------------------------------------------------

_EVENT_TABLE = CaseEvent.__table__


@dataclass
class LoggedCase:
    case: Case
    lead_id: int
    second_id: int
    #: (seq, id, kind) of every event, in order.
    events: list[tuple[int, int, str]]

    @property
    def reference(self) -> str:
        return self.case.reference

    def event_id(self, seq: int) -> int:
        return next(event_id for number, event_id, _ in self.events if number == seq)


def _logged_case(ctx: Any, target: Stage = Stage.INADMISSIBLE) -> LoggedCase:
    """A case with seven events: filed, two reviewers assigned, acknowledged, admissibility,
    a four-eyes decision proposed and confirmed."""
    filed, lead, second = staff_case(ctx)
    case = walk_to(ctx, filed, target, lead, second)
    ctx.session.flush()
    rows = ctx.session.execute(
        select(CaseEvent.seq, CaseEvent.id, CaseEvent.kind)
        .where(CaseEvent.case_id == case.id)
        .order_by(CaseEvent.seq)
    ).all()
    return LoggedCase(case, lead.id, second.id, [tuple(row) for row in rows])


@pytest.fixture
def logged(ctx: Any) -> LoggedCase:
    logged = _logged_case(ctx)
    assert [kind for _, _, kind in logged.events] == [
        "case_filed",
        "reviewer_assigned",
        "reviewer_assigned",
        "stage_changed",
        "stage_changed",
        "decision_proposed",
        "stage_changed",
    ]
    return logged


def verify_log(app: Any, *reference: str) -> Any:
    return app.test_cli_runner().invoke(args=["grievance", "verify-log", *reference])


def _stored(session: Any, event_id: int, column: str) -> Any:
    """A column of an event as stored (typed through the model's column type)."""
    return session.execute(
        select(_EVENT_TABLE.c[column]).where(_EVENT_TABLE.c.id == event_id)
    ).scalar_one()


def _update(session: Any, event_id: int, column: str, value: Any) -> None:
    """UPDATE one column of one event in SQL, bypassing the ORM and the services."""
    statement = text(f"UPDATE case_event SET {column} = :value WHERE id = :id").bindparams(
        sa.bindparam("value", type_=_EVENT_TABLE.c[column].type)
    )
    session.execute(statement, {"value": value, "id": event_id})


def _swap_seq(session: Any, first_id: int, second_id: int, first_seq: int, second_seq: int) -> None:
    """Swap two events' positions (in three steps: (case_id, seq) is unique)."""
    session.execute(text("UPDATE case_event SET seq = -1 WHERE id = :id"), {"id": first_id})
    session.execute(
        text("UPDATE case_event SET seq = :seq WHERE id = :id"), {"seq": first_seq, "id": second_id}
    )
    session.execute(
        text("UPDATE case_event SET seq = :seq WHERE id = :id"), {"seq": second_seq, "id": first_id}
    )


def _forged_event(
    case: Case, seq: int, prev_hash: str, actor_id: int, at: datetime
) -> dict[str, Any]:
    """The columns of an event someone made up, with its hash computed like the real ones."""
    event = CaseEvent(
        case_id=case.id,
        seq=seq,
        kind="decision_proposed",
        visibility=Visibility.REVIEWERS,
        actor_role=Role.REVIEWER,
        actor_id=actor_id,
        stage_from=None,
        stage_to=None,
        payload={"proposal_id": 9999, "to_stage": "closed", "reason": "Forged."},
        salts=caselog.new_salts(["proposal_id", "to_stage", "reason"]),
        created_at=at,
        prev_hash=prev_hash,
    )
    event.hash = caselog.compute_hash(event, case.reference)
    return {
        column.name: getattr(event, column.key) for column in _EVENT_TABLE.c if column.key != "id"
    }


def _insert(session: Any, values: dict[str, Any]) -> int:
    """INSERT an event row in SQL; returns its id."""
    columns = list(values)
    statement = text(
        f"INSERT INTO case_event ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + name for name in columns)}) RETURNING id"
    ).bindparams(*(sa.bindparam(name, type_=_EVENT_TABLE.c[name].type) for name in columns))
    return int(session.execute(statement, values).scalar_one())


def _head(session: Any, case: Case) -> tuple[int, str]:
    row = session.execute(
        text('SELECT event_count, log_head FROM "case" WHERE id = :id'), {"id": case.id}
    ).one()
    return int(row[0]), str(row[1])


def assert_broken_at(result: Any, reference: str, seq: int, event_id: int) -> None:
    assert result.exit_code == 1, result.output
    assert f"BROKEN {reference}: event #{seq} (id {event_id}):" in result.output
    assert "1 broken log(s)" in result.output


# -- an intact log ----------------------------------------------------------------------


def test_intact_log_verifies(app, session, logged):
    result = verify_log(app, logged.reference)
    assert result.exit_code == 0, result.output
    assert f"OK: the log of {logged.reference} is intact." in result.output

    result = verify_log(app)
    assert result.exit_code == 0, result.output
    assert "OK: the log of every case is intact." in result.output
    assert list(caselog.verify_all(session)) == []
    assert caselog.verify_case(session, logged.case) is None


def test_chain_links_each_event_to_the_previous(session, logged):
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == logged.case.id).order_by(CaseEvent.seq)
    ).all()
    assert events[0].prev_hash == caselog.GENESIS
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    for event in events:
        assert event.hash == caselog.compute_hash(event, logged.reference)
    assert _head(session, logged.case) == (len(events), events[-1].hash)


def test_unknown_reference_exits_2(app, session, logged):
    result = verify_log(app, "NOPE-2026-99999")
    assert result.exit_code == 2
    assert "No case NOPE-2026-99999." in result.output


# -- altered rows -----------------------------------------------------------------------


def test_altered_payload_is_found(app, session, logged):
    event_id = logged.event_id(7)
    payload = dict(_stored(session, event_id, "payload"))
    assert payload["reason"] == "Reasons."
    payload["reason"] = "Reasons, quietly rewritten."
    _update(session, event_id, "payload", payload)

    result = verify_log(app, logged.reference)
    assert_broken_at(result, logged.reference, 7, event_id)
    assert "content does not match its hash" in result.output


def test_altered_created_at_is_found(app, session, logged):
    event_id = logged.event_id(4)
    created_at = _stored(session, event_id, "created_at")
    _update(session, event_id, "created_at", created_at + timedelta(seconds=1))

    assert_broken_at(verify_log(app, logged.reference), logged.reference, 4, event_id)


@pytest.mark.parametrize("column", ["actor_id", "actor_role"])
def test_altered_actor_is_found(app, session, logged, column):
    event_id = logged.event_id(6)  # proposed by the lead
    assert _stored(session, event_id, "actor_id") == logged.lead_id
    value = logged.second_id if column == "actor_id" else Role.SECRETARIAT
    _update(session, event_id, column, value)

    assert_broken_at(verify_log(app, logged.reference), logged.reference, 6, event_id)


@pytest.mark.parametrize(
    ("seq", "visibility"),
    [(4, Visibility.INTERNAL), (6, Visibility.PUBLIC)],
    ids=["hidden", "exposed"],
)
def test_altered_visibility_is_found(app, session, logged, seq, visibility):
    event_id = logged.event_id(seq)
    assert _stored(session, event_id, "visibility") is not visibility
    _update(session, event_id, "visibility", visibility)

    assert_broken_at(verify_log(app, logged.reference), logged.reference, seq, event_id)


@pytest.mark.parametrize(
    ("column", "value"),
    [("kind", "decision_withdrawn"), ("stage_to", Stage.REFERRED), ("stage_from", None)],
)
def test_altered_kind_or_stage_is_found(app, session, logged, column, value):
    event_id = logged.event_id(7)  # admissibility -> inadmissible
    _update(session, event_id, column, value)

    assert_broken_at(verify_log(app, logged.reference), logged.reference, 7, event_id)


def test_altered_and_rehashed_event_breaks_the_next_link(app, session, logged):
    """Recomputing the altered event's own hash is not enough: the next event points to
    the old one."""
    event_id = logged.event_id(5)
    event = session.get(CaseEvent, event_id)
    _update(session, event_id, "payload", {"reason": "Never said."})
    session.refresh(event)
    _update(session, event_id, "hash", caselog.compute_hash(event, logged.reference))

    result = verify_log(app, logged.reference)
    assert_broken_at(result, logged.reference, 6, logged.event_id(6))
    assert "does not point to the previous event's hash" in result.output


# -- deleted, reordered and inserted rows -----------------------------------------------


def test_deleted_middle_event_is_found(app, session, logged):
    session.execute(text("DELETE FROM case_event WHERE id = :id"), {"id": logged.event_id(3)})

    result = verify_log(app, logged.reference)
    assert_broken_at(result, logged.reference, 4, logged.event_id(4))
    assert "sequence number 4 where 3 was expected" in result.output


def test_deleted_middle_event_with_renumbering_is_found(app, session, logged):
    """Closing the gap in the numbering still leaves the next event pointing to the
    deleted one."""
    session.execute(text("DELETE FROM case_event WHERE id = :id"), {"id": logged.event_id(3)})
    for seq in range(4, 8):
        session.execute(
            text("UPDATE case_event SET seq = :new WHERE id = :id"),
            {"new": seq - 1, "id": logged.event_id(seq)},
        )

    result = verify_log(app, logged.reference)
    assert_broken_at(result, logged.reference, 3, logged.event_id(4))
    assert "does not point to the previous event's hash" in result.output


def test_deleted_last_event_is_found_through_the_log_head(app, session, logged):
    session.execute(text("DELETE FROM case_event WHERE id = :id"), {"id": logged.event_id(7)})
    assert _head(session, logged.case)[0] == 7

    result = verify_log(app, logged.reference)
    assert result.exit_code == 1
    assert f"BROKEN {logged.reference}: log head:" in result.output
    assert "records 7 events" in result.output
    assert "the log holds 6" in result.output


def test_every_event_deleted_is_found(app, session, logged):
    session.execute(text("DELETE FROM case_event WHERE case_id = :id"), {"id": logged.case.id})

    result = verify_log(app, logged.reference)
    assert result.exit_code == 1
    assert f"BROKEN {logged.reference}: log head:" in result.output
    assert "the log holds 0" in result.output


def test_swapped_events_are_found(app, session, logged):
    fifth, sixth = logged.event_id(5), logged.event_id(6)
    _swap_seq(session, fifth, sixth, 5, 6)

    result = verify_log(app, logged.reference)
    # Event 5 is now the one that was 6th: it points to the old 5th, not to the 4th.
    assert_broken_at(result, logged.reference, 5, sixth)
    assert "does not point to the previous event's hash" in result.output


def test_forged_event_with_a_made_up_hash_is_found(app, session, logged, clock):
    _count, head = _head(session, logged.case)
    values = _forged_event(logged.case, 8, head, logged.lead_id, clock.now())
    values["hash"] = "f" * 64
    forged = _insert(session, values)

    result = verify_log(app, logged.reference)
    assert_broken_at(result, logged.reference, 8, forged)
    assert "content does not match its hash" in result.output


def test_forged_event_appended_with_a_valid_hash_is_found_through_the_log_head(
    app, session, logged, clock
):
    """A forger who chains the new event correctly is caught by the case's count and head."""
    _count, head = _head(session, logged.case)
    _insert(session, _forged_event(logged.case, 8, head, logged.lead_id, clock.now()))

    result = verify_log(app, logged.reference)
    assert result.exit_code == 1
    assert f"BROKEN {logged.reference}: log head:" in result.output
    assert "records 7 events" in result.output
    assert "the log holds 8" in result.output


def test_forged_event_inserted_in_the_middle_is_found(app, session, logged, clock):
    """Correctly chained to its predecessor, but the next event points past it."""
    for seq in range(7, 4, -1):  # make room at 5 (one by one: (case_id, seq) is unique)
        session.execute(
            text("UPDATE case_event SET seq = :new WHERE id = :id"),
            {"new": seq + 1, "id": logged.event_id(seq)},
        )
    prev_hash = _stored(session, logged.event_id(4), "hash")
    forged = _insert(session, _forged_event(logged.case, 5, prev_hash, logged.lead_id, clock.now()))
    session.execute(
        text('UPDATE "case" SET event_count = 8 WHERE id = :id'), {"id": logged.case.id}
    )

    result = verify_log(app, logged.reference)
    assert_broken_at(result, logged.reference, 6, logged.event_id(5))
    assert forged != logged.event_id(5)


def test_forged_event_with_recomputed_hash_but_wrong_prev_hash_is_found(
    app, session, logged, clock
):
    """A replacement whose own hash is right but which does not point to its predecessor."""
    session.execute(text("DELETE FROM case_event WHERE id = :id"), {"id": logged.event_id(5)})
    wrong_prev = _stored(session, logged.event_id(3), "hash")  # skips event 4
    forged = _insert(
        session, _forged_event(logged.case, 5, wrong_prev, logged.lead_id, clock.now())
    )

    result = verify_log(app, logged.reference)
    assert_broken_at(result, logged.reference, 5, forged)
    assert "does not point to the previous event's hash" in result.output


# -- several cases ------------------------------------------------------------------------


def test_reference_checks_only_that_case(app, session, ctx):
    intact = _logged_case(ctx, Stage.ADMISSIBILITY)
    broken = _logged_case(ctx, Stage.ADMISSIBILITY)
    _update(session, broken.event_id(2), "actor_role", Role.SECRETARIAT)

    result = verify_log(app, intact.reference)
    assert result.exit_code == 0, result.output
    assert broken.reference not in result.output

    result = verify_log(app, broken.reference)
    assert_broken_at(result, broken.reference, 2, broken.event_id(2))

    result = verify_log(app)
    assert_broken_at(result, broken.reference, 2, broken.event_id(2))
    assert f"BROKEN {intact.reference}" not in result.output


def test_verify_all_reports_every_broken_case(app, session, ctx):
    first = _logged_case(ctx, Stage.ADMISSIBILITY)
    intact = _logged_case(ctx, Stage.ADMISSIBILITY)
    second = _logged_case(ctx, Stage.ADMISSIBILITY)
    third = _logged_case(ctx, Stage.ADMISSIBILITY)
    _update(session, first.event_id(1), "visibility", Visibility.INTERNAL)
    session.execute(text("DELETE FROM case_event WHERE id = :id"), {"id": second.event_id(2)})
    session.execute(text("DELETE FROM case_event WHERE id = :id"), {"id": third.event_id(5)})

    found = {item.reference: item for item in caselog.verify_all(session)}
    assert set(found) == {first.reference, second.reference, third.reference}
    assert (found[first.reference].seq, found[first.reference].event_id) == (
        1,
        first.event_id(1),
    )
    assert (found[second.reference].seq, found[second.reference].event_id) == (
        3,
        second.event_id(3),
    )
    assert found[third.reference].seq is None  # the log head
    assert caselog.verify_case(session, intact.case) is None
    assert list(caselog.verify_all(session, intact.reference)) == []
    assert [item.reference for item in caselog.verify_all(session, first.reference)] == [
        first.reference
    ]

    result = verify_log(app)
    assert result.exit_code == 1
    assert "3 broken log(s) found checking every case." in result.output
    for broken in (first, second, third):
        assert f"BROKEN {broken.reference}:" in result.output
    assert f"BROKEN {intact.reference}" not in result.output


@pytest.mark.parametrize("chunk", [1, 2, 3, 1000])
def test_the_streaming_verifier_finds_what_verify_all_finds_in_chunks(session, ctx, chunk):
    """`logcheck.verify` (the command's) reads the cases `chunk` at a time, plain rows, and
    finds the same breaks as `caselog.verify_all`, an event of a case that does not exist
    included, at every chunk boundary."""
    made = [_logged_case(ctx, Stage.ADMISSIBILITY) for _ in range(5)]
    first, intact, second, third, emptied = made
    _update(session, first.event_id(1), "visibility", Visibility.INTERNAL)
    session.execute(text("DELETE FROM case_event WHERE id = :id"), {"id": second.event_id(2)})
    session.execute(text("DELETE FROM case_event WHERE id = :id"), {"id": third.event_id(5)})
    session.execute(text("DELETE FROM case_event WHERE case_id = :id"), {"id": emptied.case.id})
    if _sqlite(session):  # an event moved to a case that does not exist (checked at commit)
        session.execute(text("PRAGMA defer_foreign_keys = ON"))
        session.execute(
            text("UPDATE case_event SET case_id = 999999 WHERE id = :id"),
            {"id": intact.event_id(2)},
        )

    expected = sorted(map(str, caselog.verify_all(session)))
    assert sorted(map(str, logcheck.verify(session, chunk=chunk))) == expected
    assert len(expected) == (6 if _sqlite(session) else 4)
    assert [str(item) for item in logcheck.verify(session, first.reference, chunk)] == [
        str(item) for item in caselog.verify_all(session, first.reference)
    ]


def test_payloads_are_stored_canonically_so_the_verifier_need_not_parse_them(session, ctx):
    logged = _logged_case(ctx, Stage.ADMISSIBILITY)
    stored = session.execute(
        text("SELECT CAST(payload AS TEXT) FROM case_event WHERE case_id = :id"),
        {"id": logged.case.id},
    ).scalars()
    for raw in stored:
        assert raw == caselog.canonical_text(json.loads(raw))


def _sqlite(session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


# -- writing ------------------------------------------------------------------------------


def test_append_refuses_unknown_kind_and_undeclared_fields(session, ctx, logged, clock):
    case = logged.case
    before = _head(session, case)
    with pytest.raises(caselog.UnknownEventField, match="unknown event kind 'case_reopened'"):
        caselog.append(session, case, "case_reopened", SYSTEM, clock.now(), {})
    with pytest.raises(caselog.UnknownEventField, match="undeclared payload fields name, phone"):
        caselog.append(
            session,
            case,
            "stage_changed",
            SYSTEM,
            clock.now(),
            {"reason": "fine", "phone": "+8801711000001", "name": "A. Person"},
        )
    session.flush()
    assert _head(session, case) == before
    assert case.event_count == 7
    assert (
        session.scalar(select(sa.func.count(CaseEvent.id)).where(CaseEvent.case_id == case.id)) == 7
    )


def test_append_extends_the_chain(session, logged, clock):
    case = logged.case
    _count, head = _head(session, case)
    event = caselog.append(
        session,
        case,
        "reprisal_risk_assessed",
        Actor(role=Role.REVIEWER, user_id=logged.lead_id),
        clock.now(),
        {"level": "high"},
    )
    session.flush()
    assert (event.seq, event.prev_hash) == (8, head)
    assert event.visibility is Visibility.REVIEWERS
    assert _head(session, case) == (8, event.hash)
    assert caselog.verify_case(session, case) is None


# -- what is hashed is what is stored --------------------------------------------------------

_json_scalars = (
    st.none()
    | st.booleans()
    # RFC 8785 writes numbers as doubles: integers beyond 2**53 - 1 are refused (below)
    | st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    _json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    values=st.fixed_dictionaries(
        {},
        optional={
            "scale": json_values,
            "scope": json_values,
            "irremediability": json_values,
            "likelihood": json_values,
        },
    ),
    at=st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - bounds of a UTC strategy
        max_value=datetime(2099, 12, 31),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
)
def test_hash_survives_the_database_round_trip(session, ctx, values, at):
    case = _case_for_round_trip(ctx)
    event = caselog.append(session, case, "severity_assessed", SYSTEM, at, values)
    hashed = event.hash
    session.flush()
    session.expire(event)  # read every column back from the database

    assert event.payload == values
    assert event.created_at == at
    assert event.hash == hashed
    assert caselog.compute_hash(event, case.reference) == hashed
    assert caselog.verify_case(session, case) is None


def test_an_integer_beyond_what_a_double_holds_is_refused(session, ctx):
    """RFC 8785 has no canonical form for it (as for NaN): refused before anything is
    written."""
    case = _case_for_round_trip(ctx)
    count = case.event_count
    with pytest.raises(ValueError, match="safe integer"):
        caselog.append(session, case, "severity_assessed", SYSTEM, ctx.now(), {"scale": 2**53})
    assert case.event_count == count


def _case_for_round_trip(ctx: Any) -> Case:
    cached = ctx.session.info.get("round_trip_case")
    if cached is None:
        filed, _lead, _second = staff_case(ctx)
        cached = ctx.session.info["round_trip_case"] = filed.case
    return cached
