"""The sweep pages through due deadlines in batches: rows with the same due time across
a batch boundary are neither lost nor sent twice."""

from datetime import timedelta

from sqlalchemy import func, select

from grievance.models import DeadlineNotice, NoticeKind
from grievance.services.sweep import sweep_deadlines
from tests.factories import make_mechanism, new_case


def test_equal_due_times_across_batches_are_all_swept_once(ctx, clock):
    mechanism = make_mechanism(ctx, code="BAT")
    for _ in range(7):
        new_case(ctx, mechanism)  # all filed at the same instant: equal remind_at and due_at
    clock.advance(days=8)
    result = sweep_deadlines(ctx, batch_size=2)
    assert (result.reminders, result.escalations) == (7, 7)
    counts = dict(
        ctx.session.execute(
            select(DeadlineNotice.kind, func.count()).group_by(DeadlineNotice.kind)
        ).all()
    )
    assert counts == {NoticeKind.REMINDER: 7, NoticeKind.ESCALATION: 7}
    clock.advance(timedelta(hours=1))
    assert sweep_deadlines(ctx, batch_size=2).reminders == 0
