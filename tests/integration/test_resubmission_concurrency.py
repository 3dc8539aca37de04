"""A double tap on PostgreSQL: two sendings of the same filing at the same moment, each in
its own transaction, file one case, and both get its receipt code (issue #15, item 1)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from grievance.models import Case, Mechanism
from grievance.services.actors import SYSTEM
from grievance.services.filing import FiledOnce, file_once
from tests.factories import filing, make_mechanism

pytestmark = pytest.mark.postgres


def test_two_sendings_at_once_file_one_case(app, committing):
    setup = committing()
    make_mechanism(setup, code="DBL")
    setup.session.commit()
    results: list[FiledOnce] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def send() -> None:
        try:
            ctx = committing()
            mechanism = ctx.session.scalars(select(Mechanism).where(Mechanism.code == "DBL")).one()
            start.wait()
            filed = file_once(ctx, filing(mechanism), SYSTEM, scope="web", key="double-tap")
            ctx.session.commit()
            results.append(filed)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    check = committing()
    assert check.session.scalar(select(func.count(Case.id))) == 1
    assert sorted(result.replayed for result in results) == [False, True]
    assert results[0].receipt_code == results[1].receipt_code
    assert results[0].case.id == results[1].case.id
