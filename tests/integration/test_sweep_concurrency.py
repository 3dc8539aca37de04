"""Several workers at once, on PostgreSQL, with committed data: each reminder and
escalation exactly once; a worker back after an outage catches up.

These need row locks with SKIP LOCKED, so they run on PostgreSQL only (`.ci/run` runs
the suite there); on SQLite they are skipped, saying why.
"""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from grievance.models import (
    CaseEvent,
    DeadlineNotice,
    NoticeKind,
    ReviewerProfile,
    Role,
    StaffNotification,
)
from grievance.scheduler import run_once
from grievance.services import caselog
from grievance.services.context import Context
from grievance.services.sweep import SweepResult, sweep_deadlines
from tests.factories import make_mechanism, make_reviewer, make_user, new_case

pytestmark = pytest.mark.postgres

CASES = 30


def _world(ctx: Context) -> None:
    mechanism = make_mechanism(ctx, code="CON")
    make_user(ctx, Role.SECRETARIAT, mechanisms=[mechanism])
    reviewers = [make_reviewer(ctx, capacity=CASES) for _ in range(2)]
    profiles = [ctx.session.get_one(ReviewerProfile, user.id) for user in reviewers]
    for number in range(CASES):
        # routing puts both on most cases; some have no reviewers yet (nobody is
        # available): their reminders go to the secretariat
        for profile in profiles:
            profile.available = bool(number % 3)
        new_case(ctx, mechanism)
        ctx.clock.advance(minutes=7)  # type: ignore[attr-defined]
    ctx.session.commit()


def _notices(ctx: Context) -> Counter[tuple[int, NoticeKind]]:
    rows = ctx.session.execute(select(DeadlineNotice.deadline_id, DeadlineNotice.kind)).all()
    return Counter((deadline_id, kind) for deadline_id, kind in rows)


def test_two_workers_sweeping_at_once_send_each_notice_exactly_once(committing, clock):
    setup = committing()
    _world(setup)
    clock.advance(days=8)  # every acknowledgement is breached: a reminder and an escalation each

    results: list[SweepResult] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker() -> None:
        try:
            ctx = committing()
            start.wait()
            results.append(sweep_deadlines(ctx, batch_size=4))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == 2

    check = committing()
    notices = _notices(check)
    assert all(count == 1 for count in notices.values()), notices
    reminders = [key for key in notices if key[1] is NoticeKind.REMINDER]
    escalations = [key for key in notices if key[1] is NoticeKind.ESCALATION]
    assert len(reminders) == len(escalations) == CASES  # the 'acknowledge' of every case
    assert sum(r.reminders for r in results) == CASES
    assert sum(r.escalations for r in results) == CASES
    # one notification per recipient and notice, no more
    per_recipient = check.session.execute(
        select(
            StaffNotification.user_id, StaffNotification.deadline_id, StaffNotification.kind
        ).where(StaffNotification.deadline_id.is_not(None))
    ).all()
    assert len(per_recipient) == len(set(per_recipient))
    events = check.session.scalar(
        select(func.count()).where(CaseEvent.kind.in_(["deadline_reminder", "deadline_escalated"]))
    )
    assert events == 2 * CASES
    assert list(caselog.verify_all(check.session)) == []

    # and nothing more to do for anyone
    assert sweep_deadlines(committing()) == SweepResult()


def test_a_worker_back_after_three_days_processes_everything_missed(app, committing, clock):
    setup = committing()
    _world(setup)
    run_once(app)  # the worker runs at filing time: nothing due yet
    first = committing()
    assert sum(_notices(first).values()) == 0

    clock.advance(days=3)  # the worker is down for three days ...
    clock.advance(days=5)  # ... and comes back eight days after filing
    run_once(app)

    check = committing()
    notices = check.session.execute(
        select(DeadlineNotice.kind, DeadlineNotice.deadline_id).order_by(DeadlineNotice.id)
    ).all()
    kinds = [kind for kind, _ in notices]
    assert kinds.count(NoticeKind.REMINDER) == CASES
    assert kinds.count(NoticeKind.ESCALATION) == CASES
    # in order: every reminder before any escalation, each kind oldest first
    assert kinds == [NoticeKind.REMINDER] * CASES + [NoticeKind.ESCALATION] * CASES
    reminded = [deadline_id for kind, deadline_id in notices if kind is NoticeKind.REMINDER]
    assert reminded == sorted(reminded)
    assert list(caselog.verify_all(check.session)) == []
    clock.advance(hours=1)
    run_once(app)
    assert sum(_notices(committing()).values()) == 2 * CASES
