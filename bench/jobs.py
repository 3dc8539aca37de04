"""The worker's side of `make bench` (run by bench/run.py with the production settings):
the deadline sweep, the outbox drain (the mail job), the transparency log and
`verify-log` over every case, each timed; prints one JSON line."""

from __future__ import annotations

import json
import resource
import sys
import time

from sqlalchemy import func, select

from grievance import create_app
from grievance.extensions import db
from grievance.models import CaseEvent
from grievance.scheduler import JOBS, run_job
from grievance.services.logcheck import verify


def main() -> None:
    """One JSON line after each measurement, so that run.py keeps what was done if the
    rest runs out of time."""
    app = create_app()
    if sys.argv[1:] == ["transparency"]:
        started = time.perf_counter()
        run_job(app, next(job for job in JOBS if job.name == "transparency log"))
        print(json.dumps({"transparency log": time.perf_counter() - started}), flush=True)
        return
    with app.app_context():
        events = db.session.scalar(select(func.count()).select_from(CaseEvent)) or 0
        started = time.perf_counter()
        broken = sum(1 for _ in verify(db.session(), None))
        took = time.perf_counter() - started
        db.session.remove()
    print(json.dumps({"verify-log": took, "events": events, "broken": broken}), flush=True)
    for name in ("deadline sweep", "mail"):
        job = next(job for job in JOBS if job.name == name)
        started = time.perf_counter()
        run_job(app, job)
        print(json.dumps({name: time.perf_counter() - started}), flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_kib": peak}), flush=True)


if __name__ == "__main__":
    main()
