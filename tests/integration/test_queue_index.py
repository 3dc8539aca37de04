"""The reviewer's queue is read in its order from `ix_assignment_queue` (issue 17: at a
reviewer with 32,800 open cases each page sorted every one of them): the assignments
carry copies of their case's queue keys, kept at every flush that changes them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from grievance.models import Assignment, Case, Stage
from grievance.services.workspace import QueueFilters, reviewer_queue
from tests.factories import make_mechanism, make_reviewer, new_case, walk_to


def _copies_match(ctx) -> None:
    ctx.session.flush()
    rows = ctx.session.execute(
        select(Assignment.queue_rank, Assignment.next_due_at, Case.queue_rank, Case.next_due_at)
        .join(Case, Case.id == Assignment.case_id)
        .where(Assignment.ended_at.is_(None))
        .execution_options(populate_existing=True)
    ).all()
    assert rows
    for rank, due, case_rank, case_due in rows:
        assert (rank, due) == (case_rank, case_due)


def test_the_assignments_carry_their_case_queue_keys_through_its_life(ctx, clock):
    tex = make_mechanism(ctx, "TEX")
    lead, second = make_reviewer(ctx, languages=["bn"]), make_reviewer(ctx, languages=["bn"])
    filed = [new_case(ctx, tex) for _ in range(3)]
    _copies_match(ctx)
    walk_to(ctx, filed[0], Stage.INVESTIGATION, lead, second)  # deadlines met and opened
    walk_to(ctx, filed[1], Stage.CLOSED, lead, second)
    _copies_match(ctx)
    case = filed[2].case
    case.queue_rank = 7  # however a key changes, the next flush copies it
    case.next_due_at = clock.now() + timedelta(days=3)
    _copies_match(ctx)
    page = reviewer_queue(ctx, lead.id)
    assert [row.case_id for row in page.rows] == [case.id, filed[0].case.id]
    ended = reviewer_queue(ctx, lead.id, QueueFilters(include_ended=True))
    assert filed[1].case.id in [row.case_id for row in ended.rows]


def test_postgresql_reads_a_queue_page_in_order_from_the_index(ctx):
    """No sort node at any page: the index gives the order (sorting is discouraged, so a
    plan that needs one would still show it). bench/reviewer_queue.py times it."""
    if ctx.session.get_bind().dialect.name != "postgresql":
        pytest.skip("the plan is PostgreSQL's (SQLite keeps NULLs first in an index)")
    tex = make_mechanism(ctx, "TEX")
    lead = make_reviewer(ctx, languages=["bn"])
    make_reviewer(ctx, languages=["bn"])
    for _ in range(3):
        new_case(ctx, tex)
    seen: list[tuple[str, object]] = []
    engine = ctx.session.get_bind()

    def record(conn, cursor, statement, parameters, *args):
        if "ORDER BY assignment.queue_rank" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        first = reviewer_queue(ctx, lead.id, limit=1)
        assert first.next_key is not None
        reviewer_queue(ctx, lead.id, after=first.next_key, limit=1)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    connection = ctx.session.connection()
    connection.exec_driver_sql("SET LOCAL enable_sort = off")
    connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
    assert len(seen) == 2
    for statement, parameters in seen:
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters)
        )
        assert "ix_assignment_queue" in plan
        assert "Sort" not in plan
