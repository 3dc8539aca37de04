"""Benchmark of the deadline sweep: one million open deadlines, ten thousand due.

    make bench                                        # SQLite in a temporary directory
    DATABASE_URL=postgresql+psycopg://…/…bench… .venv/bin/python bench/sweep.py

The sweep reads candidates from partial indexes over what is due, so its cost should
follow the due rows, not the total: the same ten thousand due rows are swept among
100,000 and among 1,000,000 open deadlines, and both figures are printed.
Override with BENCH_TOTALS=100000,1000000 and BENCH_DUE=10000.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

from common import bench_app
from sqlalchemy import text

from grievance.clock import FixedClock
from grievance.config import TEST_KDF
from grievance.extensions import db
from grievance.http.context import app_services
from grievance.services.context import Context
from grievance.services.sweep import sweep_deadlines

PER_CASE = 10
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _fill(total: int, due: int) -> None:
    """`total` open deadlines on total/10 cases; `due` of them past their reminder time."""
    cases = total // PER_CASE
    sqlite = db.engine.dialect.name == "sqlite"
    past: object = NOW - timedelta(days=1)
    future: object = NOW + timedelta(days=30)
    if sqlite:  # the text form SQLAlchemy stores on SQLite, so that comparisons hold
        past = f"{NOW - timedelta(days=1):%Y-%m-%d %H:%M:%S.%f}"
        future = f"{NOW + timedelta(days=30):%Y-%m-%d %H:%M:%S.%f}"
    series = (
        "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :count) "
        if sqlite
        else ""
    )
    source = "s" if sqlite else "generate_series(1, :count) AS s(n)"
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO mechanism (id, code, name, sector, publishes_cases, created_at) "
                "VALUES (1, 'BEN', 'Bench', 'textile', true, :now)"
            ),
            {"now": past},
        )
        connection.execute(
            text(
                series
                + 'INSERT INTO "case" (id, reference, mechanism_id, policy_version, channel, '
                "language, urgent, stage, stage_entered_at, received_at, statement_enc, published, "
                "legal_hold, event_count, log_head, created_at, updated_at) "
                "SELECT n, 'BEN-2026-' || n, 1, 0, 'web', 'en', false, 'acknowledged', :now, :now, "
                f":blob, false, false, 0, :genesis, :now, :now FROM {source}"
            ),
            {"count": cases, "now": past, "blob": b"x", "genesis": "0" * 64},
        )
        connection.execute(
            text(
                series
                + "INSERT INTO deadline (case_id, code, opened_at, due_at, remind_at, state, "
                "extended_days, note) "
                "SELECT 1 + (n - 1) / :per_case, 'limit_' || ((n - 1) % :per_case), :past, :future, "
                f"CASE WHEN n <= :due THEN :past ELSE :future END, 'open', 0, '' FROM {source}"
            ),
            {"count": total, "per_case": PER_CASE, "past": past, "future": future, "due": due},
        )
        if not sqlite:
            connection.execute(text("ANALYZE"))


def run(total: int, due: int) -> None:
    clock = FixedClock(NOW)
    app = bench_app(clock)
    with app.app_context():
        started = time.perf_counter()
        _fill(total, due)
        filled = time.perf_counter() - started
        ctx = Context(
            session=db.session(),
            clock=clock,
            keyring=app_services(app).keyring,
            kdf=TEST_KDF,
        )
        started = time.perf_counter()
        result = sweep_deadlines(ctx)
        swept = time.perf_counter() - started
        started = time.perf_counter()
        again = sweep_deadlines(ctx)
        idle = time.perf_counter() - started
        print(
            f"{db.engine.dialect.name}: {total:>9,} open deadlines, {due:,} due "
            f"(filled in {filled:.1f} s): sweep {swept:.1f} s "
            f"({result.reminders / swept:,.0f} reminders/s, {result.reminders:,} sent); "
            f"a sweep with nothing due: {idle * 1000:.1f} ms"
        )
        assert result.reminders == due, result
        assert again.reminders == 0, again
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    totals = [int(x) for x in os.environ.get("BENCH_TOTALS", "100000,1000000").split(",")]
    due = int(os.environ.get("BENCH_DUE", "10000"))
    for total in totals:
        run(total, due)


if __name__ == "__main__":
    main()
