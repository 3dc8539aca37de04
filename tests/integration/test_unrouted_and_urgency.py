"""Urgency that means something and cases no reviewer can take (#15, item 8).

- The queue marks a case urgent only while it ranks in the first band, and says why;
  an urgent theme assessed as remediable is no longer urgent.
- When every reviewer is full (or in conflict, unavailable, gone), routing records on
  the case since when and why; the secretariat of the mechanism sees it on
  /staff/secretariat/unrouted; once both roles are filled the mark is gone."""

from __future__ import annotations

import html
import secrets

from grievance.models import AssignmentRole, Role
from grievance.services import accounts, cases, reviewers, routing
from grievance.services.actors import Actor
from grievance.services.routing_scores import Exclusion
from grievance.services.unrouted import parse_reason, unrouted_cases
from tests.factories import make_mechanism, make_reviewer, make_staff, new_case, put_reviewers
from tests.integration.test_staff_auth import sign_in


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def test_the_queue_says_why_a_case_is_urgent(app, ctx, clock):
    tex = make_mechanism(ctx, code="URG")
    lead = make_reviewer(ctx)
    seed = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
    accounts.enrol_totp_secret(ctx, lead, seed, last_step=None)
    second = make_reviewer(ctx)
    danger = new_case(ctx, tex, urgent=True)
    remediable = new_case(ctx, tex, themes=["child_labour"])
    for filed in (danger, remediable):
        put_reviewers(ctx, filed.case, lead, second)
    cases.assess_severity(
        ctx,
        remediable.case,
        Actor.for_user(lead),
        scale=2,
        scope=2,
        irremediability=1,
        likelihood=2,
    )
    client = app.test_client()
    sign_in(client, lead, seed, clock)
    page = _page(client, "/staff/reviewer/?lang=en")
    rows = {
        ref: page.split(ref, 2)[2].split("</tr>", 1)[0]
        for ref in (danger.case.reference, remediable.case.reference)
    }
    assert "Urgent" in rows[danger.case.reference]
    assert "someone in danger, the complainant said" in rows[danger.case.reference]
    assert "Urgent" not in rows[remediable.case.reference]
    # the case page's summary says it too, with the themes and country chosen beside
    case_page = _page(client, f"/staff/reviewer/cases/{danger.case.reference}?lang=en")
    summary = case_page.split('class="case-summary"')[1].split("</dl>")[0]
    assert "someone in danger, the complainant said" in summary
    other = _page(client, f"/staff/reviewer/cases/{remediable.case.reference}?lang=en")
    assert "Urgent" not in other.split('class="case-summary"')[1].split("</dl>")[0]
    assert "Themes they chose" in other
    assert "Child labour" in other


def test_a_case_no_reviewer_can_take_is_recorded_and_shown_to_the_secretariat(app, ctx, clock):
    tex, other = make_mechanism(ctx, code="UNR"), make_mechanism(ctx, code="UNO")
    first, second = make_reviewer(ctx, capacity=1), make_reviewer(ctx, capacity=1)
    taken = new_case(ctx, tex).case  # both reviewers are full after this one
    assert taken.unrouted_since is None
    waiting = new_case(ctx, tex).case
    assert waiting.unrouted_since == clock.now()
    assert parse_reason(waiting.unrouted_reason) == {Exclusion.AT_CAPACITY: 2}

    rows = unrouted_cases(ctx, ["UNR"])
    assert [(row.reference, row.empty_roles) for row in rows] == [
        (waiting.reference, [AssignmentRole.LEAD, AssignmentRole.SECOND])
    ]
    assert unrouted_cases(ctx, ["UNO"]) == []

    staff, seed = make_staff(ctx, Role.SECRETARIAT, mechanisms=[tex])
    client = app.test_client()
    sign_in(client, staff, seed, clock)
    page = _page(client, "/staff/secretariat/unrouted?lang=en")
    assert waiting.reference in page
    assert taken.reference not in page
    assert "2 reviewers are at their capacity" in page
    # another mechanism's secretariat sees none of it
    elsewhere, other_seed = make_staff(ctx, Role.SECRETARIAT, mechanisms=[other])
    other_client = app.test_client()
    sign_in(other_client, elsewhere, other_seed, clock)
    assert waiting.reference not in _page(other_client, "/staff/secretariat/unrouted?lang=en")
    assert "Every open case has its two reviewers." in _page(
        other_client, "/staff/secretariat/unrouted?lang=en"
    )

    # room again: routing fills the roles and the mark is gone
    for reviewer in (first, second):
        settings = reviewers.current_settings(ctx, reviewer)
        reviewers.update_profile(
            ctx,
            Actor.for_user(reviewer),
            reviewer,
            reviewers.ProfileSettings(
                languages=settings.languages,
                themes=settings.themes,
                countries=settings.countries,
                capacity=5,
                available=True,
            ),
        )
    assert waiting.unrouted_since is None
    assert waiting.unrouted_reason is None
    assert unrouted_cases(ctx, ["UNR"]) == []


def test_the_secretariat_putting_reviewers_on_clears_the_mark(ctx):
    tex = make_mechanism(ctx, code="UNS")
    make_reviewer(ctx, capacity=1), make_reviewer(ctx, capacity=1)
    new_case(ctx, tex)
    waiting = new_case(ctx, tex).case
    assert waiting.unrouted_since is not None
    staff, _ = make_staff(ctx, Role.SECRETARIAT, mechanisms=[tex])
    extra = [make_reviewer(ctx, capacity=0), make_reviewer(ctx, capacity=0)]
    for reviewer, role in zip(extra, (AssignmentRole.LEAD, AssignmentRole.SECOND), strict=True):
        routing.override_assignment(
            ctx, waiting, Actor.for_user(staff), reviewer, role, "the only Amharic readers"
        )
    assert waiting.unrouted_since is None
    assert unrouted_cases(ctx, ["UNS"]) == []
