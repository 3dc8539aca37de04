"""Benchmark of the reviewer's queue among many generated cases: the first page and a deep
page, through the service and through the page, signed in as the reviewer with the most
open cases.

    make bench                                        # SQLite, 100,000 cases
    DATABASE_URL=postgresql+psycopg://…/…bench… BENCH_CASES=1000000 .venv/bin/python bench/reviewer_queue.py

The cases come from `grievance generate` (`grievance/demo/generate/`), spread over
BENCH_REVIEWERS reviewers (one per 7,000 cases) with capacity ignored, so each reviewer
is on some 11,500 open cases at either size: far more than routing would give anyone,
which is the point. The deep page is
page BENCH_DEEP_PAGE (200), reached by following each page's `after` key (or the last
page, if the reviewer has fewer). Each figure is BENCH_REQUESTS (50) runs: the median and
the 95th percentile of the time in the server (the service call; the whole request
through the Flask test client, rendering included). On PostgreSQL the plans of the queue
query are printed with EXPLAIN (ANALYZE, BUFFERS); on SQLite, EXPLAIN QUERY PLAN.
BENCH_REUSE=1 (PostgreSQL) measures the cases of the last run again, without generating.
"""

from __future__ import annotations

import os
import re
import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from common import bench_app
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from grievance.clock import FixedClock
from grievance.config import TEST_KDF
from grievance.demo.generate import REVIEWER_PASSWORD, Spec, generate, settle
from grievance.extensions import db
from grievance.http.context import app_services
from grievance.models import Assignment, Case, User
from grievance.models.case import ENDED_STAGES
from grievance.services import accounts
from grievance.services.context import Context
from grievance.services.workspace import QueueKey, reviewer_queue

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
CASES = int(os.environ.get("BENCH_CASES", "100000"))
#: One reviewer in 7,000 cases: some 11,500 open cases each, whatever the total.
REVIEWERS = int(os.environ.get("BENCH_REVIEWERS", str(max(2, CASES // 7000))))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "50"))
DEEP_PAGE = int(os.environ.get("BENCH_DEEP_PAGE", "200"))


def _percentiles(run: Callable[[], object], times: int) -> str:
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        spent.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(spent, n=20, method="inclusive")
    return f"p50 {statistics.median(spent):7.1f} ms, p95 {cuts[18]:7.1f} ms"


@contextmanager
def _captured() -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements run meanwhile, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _explain(ctx: Context, reviewer_id: int, after: QueueKey | None, title: str) -> None:
    with _captured() as seen:
        reviewer_queue(ctx, reviewer_id, None, after)
    statement, parameters = next(item for item in seen if "FROM assignment" in item[0])
    postgresql = db.engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgresql else "EXPLAIN QUERY PLAN "
    rows = ctx.session.connection().exec_driver_sql(prefix + statement, parameters).all()
    print(f"\n{title}:")
    for row in rows:
        print("    " + (row[0] if postgresql else str(row[-1])))
    ctx.session.rollback()


class _FreshGClient(FlaskClient):
    """Requests made inside the benchmark's app context share its `g`: forget what a
    request left there (the CSRF token of the session before signing in), as a real
    request would."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():
            for name in list(g):
                g.pop(name)
        return super().open(*args, **kwargs)


def _sign_in(client: FlaskClient, user: User, seed: bytes, clock: FixedClock) -> None:
    def token(path: str) -> str:
        page = client.get(path).get_data(as_text=True)
        found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    response = client.post(
        "/staff/sign-in",
        data={
            "csrf_token": token("/staff/sign-in"),
            "email": user.email,
            "password": REVIEWER_PASSWORD,
        },
    )
    assert response.status_code == 302, response.status_code
    code = accounts.totp_code(seed, accounts.totp_step(clock.now()))
    response = client.post(
        "/staff/sign-in/code",
        data={"csrf_token": token("/staff/sign-in/code"), "code": code},
    )
    assert response.status_code == 302, response.status_code


def _generated(ctx: Context) -> tuple[int, int]:
    """Fill the database; the reviewer with the most open cases, and how many."""
    report = generate(
        ctx, Spec(cases=CASES, reviewers=REVIEWERS), after_batch=lambda _done: db.session.commit()
    )
    db.session.commit()
    print(
        f"{db.engine.dialect.name}: generated {report.cases:,} cases in {report.seconds:.1f} s "
        f"({report.cases / report.seconds:,.0f} cases/s): "
        + ", ".join(f"{count:,} {name}" for name, count in sorted(report.rows.items()))
    )
    if db.engine.dialect.name == "postgresql":
        took = settle(db.engine)
        print(
            f"VACUUM (ANALYZE), as autovacuum would on a database that grew slowly: {took and round(took, 1)} s"
        )
    return report.loads.most_common(1)[0]


def _busiest(ctx: Context) -> tuple[int, int]:
    """The reviewer with the most open cases in the database as it is."""
    row = ctx.session.execute(
        select(Assignment.reviewer_id, func.count())
        .join(Case, Case.id == Assignment.case_id)
        .where(Assignment.ended_at.is_(None), Case.stage.not_in(sorted(ENDED_STAGES)))
        .group_by(Assignment.reviewer_id)
        .order_by(func.count().desc(), Assignment.reviewer_id)
        .limit(1)
    ).one()
    ctx.session.rollback()
    return row[0], row[1]


def main() -> None:
    clock = FixedClock(NOW)
    reuse = os.environ.get("BENCH_REUSE") == "1" and bool(os.environ.get("DATABASE_URL"))
    app = bench_app(clock, fresh=not reuse)
    with app.app_context():
        ctx = Context(
            session=db.session(),
            clock=clock,
            keyring=app_services(app).keyring,
            kdf=TEST_KDF,
        )
        if reuse:
            cases = ctx.session.scalar(select(func.count()).select_from(Case))
            print(f"{db.engine.dialect.name}: the {cases:,} cases of the last run")
        reviewer_id, load = _busiest(ctx) if reuse else _generated(ctx)
        print(f"the reviewer {reviewer_id} is on {load:,} open cases")

        # The deep page: follow the keys.
        started = time.perf_counter()
        after: QueueKey | None = None
        page_number = 1
        while page_number < DEEP_PAGE:
            page = reviewer_queue(ctx, reviewer_id, None, after)
            if page.next_key is None:
                break
            after, page_number = page.next_key, page_number + 1
        walked = time.perf_counter() - started
        deep = after
        print(
            f"walked to page {page_number} (50 rows a page) in {walked:.1f} s "
            f"({walked / max(page_number - 1, 1) * 1000:.1f} ms a page)"
        )
        ctx.session.rollback()

        first_rows = len(reviewer_queue(ctx, reviewer_id).rows)
        assert first_rows == 50, first_rows
        print(
            f"service, first page:     {_percentiles(lambda: reviewer_queue(ctx, reviewer_id), REQUESTS)}"
        )
        print(
            f"service, page {page_number:<4}:      "
            f"{_percentiles(lambda: reviewer_queue(ctx, reviewer_id, None, deep), REQUESTS)}"
        )
        ctx.session.rollback()

        # The page, signed in as that reviewer.
        user = db.session.get(User, reviewer_id)
        assert user is not None
        seed = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
        accounts.enrol_totp_secret(ctx, user, seed, last_step=None)
        db.session.commit()
        app.test_client_class = _FreshGClient
        client = app.test_client()
        _sign_in(client, user, seed, clock)
        deep_url = (
            f"/staff/reviewer/?after={deep.token()}" if deep is not None else "/staff/reviewer/"
        )
        for url, key in (("/staff/reviewer/", None), (deep_url, deep)):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            shown = response.get_data(as_text=True)
            rows = reviewer_queue(ctx, reviewer_id, None, key).rows
            assert all(row.reference in shown for row in rows), url  # the same page
        ctx.session.rollback()

        def get(url: str) -> None:
            response = client.get(url)
            assert response.status_code == 200

        print(
            f"page GET /staff/reviewer/:     {_percentiles(lambda: get('/staff/reviewer/'), REQUESTS)}"
        )
        print(
            f"page GET ?after= (p{page_number}):  {_percentiles(lambda: get(deep_url), REQUESTS)}"
        )

        _explain(ctx, reviewer_id, None, "The queue query, first page")
        _explain(ctx, reviewer_id, deep, f"The queue query, page {page_number}")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
