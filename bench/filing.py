"""Benchmark of filing among many generated cases: the time of `filing.file_case` (server
time, the production Argon2id cost) and how long each filing holds its mechanism's
reference counter (from `next_reference` to the commit), one at a time and from
BENCH_THREADS (4) at once in one mechanism.

    make bench                                        # SQLite, BENCH_CASES (10,000) cases
    DATABASE_URL=postgresql+psycopg://…/…bench… BENCH_CASES=100000 .venv/bin/python bench/filing.py

The cases come from `grievance generate`. BENCH_REUSE=1 (PostgreSQL) files among the cases
of the last run, without generating. Issue 17's targets: a filing ≤ 300 ms, and at least
10 filings a second in one mechanism; the floor is one Argon2id hash (about 130 ms on an
idle core), which now runs before the counter is taken.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from datetime import UTC, datetime
from typing import Any

from common import bench_app
from sqlalchemy import func, select

from grievance.clock import FixedClock
from grievance.config import KdfParameters
from grievance.demo.generate import Spec, generate, settle
from grievance.extensions import db, sqlite_writer
from grievance.http.context import app_services
from grievance.models import Anonymity, Case, Channel, Mechanism
from grievance.services import filing
from grievance.services.actors import SYSTEM
from grievance.services.context import Context
from grievance.services.filing import ComplainantDetails, Filing, file_case

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
CASES = int(os.environ.get("BENCH_CASES", "10000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "20"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))

_taken = threading.local()
_real_next_reference = filing.next_reference


def _spy(*args: Any, **kwargs: Any) -> str:
    _taken.at = time.perf_counter()
    return _real_next_reference(*args, **kwargs)


def _file_one(app: Any, clock: FixedClock) -> tuple[float, float]:
    """One filing in the first mechanism: its time and the counter's hold, in ms."""
    with app.app_context(), sqlite_writer():  # as a POST request does
        ctx = Context(
            session=db.session(),
            clock=clock,
            keyring=app_services(app).keyring,
            kdf=KdfParameters(),
        )
        mechanism = ctx.session.scalars(select(Mechanism).order_by(Mechanism.id)).first()
        assert mechanism is not None
        started = time.perf_counter()
        file_case(
            ctx,
            Filing(
                mechanism=mechanism,
                channel=Channel.WEB,
                language="en",
                statement="Wages unpaid for three months on sewing line 4.",
                themes=["living_wage"],
                complainant=ComplainantDetails(anonymity=Anonymity.ANONYMOUS),
            ),
            SYSTEM,
        )
        db.session.commit()
        ended = time.perf_counter()
        db.session.remove()
    return (ended - started) * 1000, (ended - _taken.at) * 1000


def _line(label: str, runs: list[tuple[float, float]], wall: float | None = None) -> str:
    spent = [run[0] for run in runs]
    held = [run[1] for run in runs]
    cuts = statistics.quantiles(spent, n=20, method="inclusive")
    rate = f", {len(runs) / wall:.1f} filings/s" if wall else ""
    return (
        f"{label}: p50 {statistics.median(spent):6.0f} ms, p95 {cuts[18]:6.0f} ms{rate};"
        f" counter held p50 {statistics.median(held):5.0f} ms, max {max(held):5.0f} ms"
    )


def main() -> None:
    clock = FixedClock(NOW)
    reuse = os.environ.get("BENCH_REUSE") == "1" and bool(os.environ.get("DATABASE_URL"))
    app = bench_app(clock, fresh=not reuse)
    with app.app_context():
        ctx = Context(session=db.session(), clock=clock, keyring=app_services(app).keyring)
        if not reuse:
            generate(ctx, Spec(cases=CASES), after_batch=lambda _done: db.session.commit())
            db.session.commit()
            settle(db.engine)
        cases = ctx.session.scalar(select(func.count()).select_from(Case))
        print(f"{db.engine.dialect.name}: filing among {cases:,} cases")
        db.session.remove()
    filing.next_reference = _spy  # type: ignore[assignment]
    _file_one(app, clock)  # warm up: the receipt scheme, the caches
    print(_line("one at a time ", [_file_one(app, clock) for _ in range(REQUESTS)]))
    runs: list[tuple[float, float]] = []

    def worker() -> None:
        for _ in range(max(1, REQUESTS // THREADS)):
            runs.append(_file_one(app, clock))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(_line(f"{THREADS} at once    ", runs, time.perf_counter() - started))


if __name__ == "__main__":
    main()
