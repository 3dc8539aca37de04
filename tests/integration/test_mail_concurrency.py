"""Two workers at once, on PostgreSQL, with committed data: each e-mail reaches the SMTP
server exactly once, and each user gets one digest a day.

These need row locks with SKIP LOCKED, so they run on PostgreSQL only (`.ci/run` runs
the suite there); on SQLite they are skipped, saying why.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select

from grievance.http.mail import MailRenderer
from grievance.models import EmailMode, MailKind, MailMessage, OutboxStatus, StaffNotification
from grievance.services import digests, mailbox
from grievance.services.context import Context
from grievance.services.mail_transport import SmtpTransport
from tests.factories import make_mechanism, make_reviewer, new_case
from tests.smtp_server import MailSink, RunningServer, serve

pytestmark = pytest.mark.postgres

CASES = 20
REVIEWERS = 4


@pytest.fixture
def smtp() -> Iterator[RunningServer]:
    yield from serve(MailSink())


def _world(ctx: Context, mode: EmailMode = EmailMode.IMMEDIATE) -> None:
    mechanism = make_mechanism(ctx, code="MCC")
    for _ in range(REVIEWERS):
        make_reviewer(ctx, languages=["bn"], capacity=CASES).email_mode = mode
    for _ in range(CASES):
        new_case(ctx, mechanism)
        ctx.clock.advance(minutes=5)  # type: ignore[attr-defined]
    ctx.session.commit()


def _at_once(workers: int, run: Callable[[], object]) -> list[object]:
    results: list[object] = []
    errors: list[BaseException] = []
    start = threading.Barrier(workers)

    def worker() -> None:
        try:
            start.wait()
            results.append(run())
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == workers
    return results


def test_two_workers_at_once_send_each_mail_exactly_once(app, committing, smtp):
    setup = committing()
    _world(setup)
    rows = setup.session.scalar(select(func.count()).select_from(MailMessage))
    assert rows == 2 * CASES  # a lead and a second reviewer told of each case
    setup.session.commit()
    renderer = MailRenderer(app)
    transport = SmtpTransport(smtp.address())

    def drain() -> mailbox.MailReport:
        return mailbox.drain(
            committing(), transport, renderer, sender="noreply@example.org", limit=7
        )

    reports: list[mailbox.MailReport] = []
    while len(smtp.sink.received) < rows:  # several rounds, each with two workers at once
        reports += _at_once(2, drain)  # type: ignore[arg-type]
        assert len(reports) < 40, "the workers make no progress"
    assert sum(report.sent for report in reports) == rows
    assert all(report.failed == 0 for report in reports)
    ids = Counter(mail.message["Message-ID"] for mail in smtp.sink.received)
    assert len(ids) == rows
    assert all(count == 1 for count in ids.values())
    check = committing()
    statuses = check.session.scalars(select(MailMessage.status)).all()
    assert statuses == [OutboxStatus.SENT] * rows
    per_user = Counter(mail.recipients[0] for mail in smtp.sink.received)
    told = Counter(
        check.session.scalars(
            select(StaffNotification.user_id).where(StaffNotification.mail_id.is_not(None))
        )
    )
    assert sorted(per_user.values()) == sorted(told.values())
    assert mailbox.drain(committing(), transport, renderer, sender="x@example.org") == (
        mailbox.MailReport()
    )


def test_two_workers_at_once_make_one_digest_a_day(app, committing, clock, smtp):
    setup = committing()
    _world(setup, EmailMode.DIGEST)
    clock.advance(days=1)
    made = _at_once(2, lambda: digests.queue_digests(committing()))
    check = committing()
    rows = check.session.scalars(
        select(MailMessage).where(MailMessage.kind == MailKind.DIGEST)
    ).all()
    users = {row.user_id for row in rows}
    assert sum(made) == len(rows) == len(users)  # type: ignore[arg-type]
    assert len(users) >= 2  # the reviewers routing chose
    waiting = check.session.scalar(
        select(func.count()).where(StaffNotification.digest_pending.is_(True))
    )
    assert waiting == 0
    listed = check.session.scalar(
        select(func.count()).where(StaffNotification.digest_mail_id.is_not(None))
    )
    assert listed == 2 * CASES
