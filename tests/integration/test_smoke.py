from grievance.models import Stage
from tests.factories import move_to, staff_case


def test_case_walks_to_closed(ctx):
    filed, lead, second = staff_case(ctx)
    case = move_to(ctx, filed.case, Stage.CLOSED, lead, second)
    assert case.stage is Stage.CLOSED
    assert case.event_count == len(case.events)
