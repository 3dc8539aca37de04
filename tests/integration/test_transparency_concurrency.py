"""Several workers integrating at once, on PostgreSQL, with committed data: one at a time
holds the log (the others skip), every event gets exactly one leaf, and the checkpoints
are those of one growing tree."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from grievance.models import CaseEvent, Checkpoint, TransparencyLog
from grievance.services import merkle, transparency
from tests.factories import make_mechanism, new_case

pytestmark = pytest.mark.postgres

ORIGIN = "grievance.test/transparency"


def test_workers_at_once_integrate_every_event_once(committing):
    setup = committing()
    mechanism = make_mechanism(setup, code="TCC")
    for _ in range(12):
        new_case(setup, mechanism)
    setup.session.commit()
    results: list[object] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker() -> None:
        ctx = committing()
        try:
            start.wait()
            for _ in range(3):
                results.append(transparency.integrate(ctx, ORIGIN, batch=7))
                ctx.session.commit()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    check = committing()
    while (done := transparency.integrate(check, ORIGIN)) is not None and done.added:
        check.session.commit()
    check.session.commit()
    rows = check.session.execute(
        select(CaseEvent.leaf_index, CaseEvent.hash).order_by(CaseEvent.leaf_index)
    ).all()
    assert [row.leaf_index for row in rows] == list(range(len(rows)))
    assert check.session.get(TransparencyLog, 1).size == len(rows)
    tree = merkle.MemoryTree(bytes.fromhex(row.hash) for row in rows)
    signed = check.session.scalars(select(Checkpoint).order_by(Checkpoint.tree_size)).all()
    assert signed[-1].tree_size == len(rows)
    for checkpoint in signed:  # every checkpoint is a head of the same tree
        assert checkpoint.root_hash == tree.root(checkpoint.tree_size).hex()


def test_a_worker_skips_while_another_holds_the_log(committing):
    first = committing()
    transparency.integrate(first, ORIGIN)  # the log's state row exists, committed
    first.session.commit()
    holder = committing()
    transparency.integrate(holder, ORIGIN)  # holds the row lock until it commits
    other = committing()
    assert transparency.integrate(other, ORIGIN) is None
    holder.session.commit()
    other.session.rollback()
    assert transparency.integrate(other, ORIGIN) is not None
