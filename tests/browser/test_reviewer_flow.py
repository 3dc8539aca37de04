"""A reviewer signs in with a password and an authenticator code, works a case from its
acknowledgement to a decision that needs four eyes, and the second reviewer confirms it:
the real pages, in Debian's Chromium (the first reviewer with JavaScript off), and
axe-core on the queue and the case page."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page

from grievance.extensions import db
from grievance.http.context import service_context
from grievance.models import Case, Mechanism, Stage
from grievance.services import accounts
from tests.browser.conftest import (
    LiveServer,
    NewContext,
    axe_violations,
    describe_violations,
    submit,
)
from tests.factories import PASSWORD, staff_case

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Reviewer:
    email: str
    secret: bytes


@dataclass(frozen=True)
class WorkedCase:
    reference: str
    lead: Reviewer
    second: Reviewer


@pytest.fixture(scope="module")
def worked_case(live_server: LiveServer) -> WorkedCase:
    """A new TEX case and its two reviewers, each with an authenticator seed."""
    with live_server.app.app_context():
        ctx = service_context()
        tex = ctx.session.query(Mechanism).filter_by(code="TEX").one()
        filed, lead, second = staff_case(ctx, mechanism=tex, language="en")
        people = []
        for user in (lead, second):
            secret = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
            accounts.enrol_totp_secret(ctx, user, secret, last_step=None)
            people.append(Reviewer(user.email, secret))
        db.session.commit()
        reference = filed.case.reference
        db.session.remove()
    return WorkedCase(reference, people[0], people[1])


def _code(reviewer: Reviewer) -> str:
    """The authenticator's code now (the live server runs on the real clock)."""
    return accounts.totp_code(reviewer.secret, accounts.totp_step(datetime.now(UTC)))


def sign_in(page: Page, live_server: LiveServer, reviewer: Reviewer) -> None:
    page.goto(f"{live_server.url}/staff/sign-in?lang=en")
    page.fill("input[type=email]", reviewer.email)
    page.fill("input[type=password]", PASSWORD)
    assert submit(page, "/staff/sign-in") == 200
    page.fill("input[name=code]", _code(reviewer))
    assert submit(page, "/staff/sign-in/code") == 200
    assert "/staff/sign-in" not in page.url, page.locator("main").inner_text()


def open_case(page: Page, live_server: LiveServer, reference: str) -> None:
    page.goto(f"{live_server.url}/staff/reviewer/?lang=en")
    page.get_by_role("link", name=reference).click()
    page.wait_for_load_state()
    assert reference in page.locator("h1").inner_text()


def stage_of(live_server: LiveServer, reference: str) -> Stage:
    with live_server.app.app_context():
        stage = db.session.query(Case).filter_by(reference=reference).one().stage
        db.session.remove()
        return stage


def test_a_reviewer_works_a_case_to_a_decision_the_second_confirms(
    new_context: NewContext, live_server: LiveServer, worked_case: WorkedCase
) -> None:
    reference = worked_case.reference
    lead_page = new_context(java_script_enabled=False).new_page()
    sign_in(lead_page, live_server, worked_case.lead)
    open_case(lead_page, live_server, reference)

    # acknowledge receipt
    lead_page.locator("#form-acknowledge button[type=submit]").click()
    lead_page.wait_for_load_state()
    assert stage_of(live_server, reference) is Stage.ACKNOWLEDGED

    # on to the admissibility check
    lead_page.locator("#form-move input[value=admissibility]").check()
    lead_page.locator("#form-move button[type=submit]").click()
    lead_page.wait_for_load_state()
    assert stage_of(live_server, reference) is Stage.ADMISSIBILITY

    # a decision that ends the case: proposed, not yet taken
    lead_page.locator("#form-move input[value=inadmissible]").check()
    lead_page.locator("#form-move textarea").fill(
        "The factory is not in the supply chain of any company of this covenant."
    )
    lead_page.locator("#form-move button[type=submit]").click()
    lead_page.wait_for_load_state()
    assert stage_of(live_server, reference) is Stage.ADMISSIBILITY
    assert lead_page.locator("#form-confirm").count() == 0  # not the proposer's to confirm
    assert "Decision waiting for a second reviewer" in lead_page.locator("main").inner_text()

    # the second reviewer, in another browser (this one runs scripts: axe-core needs
    # them; the pages have none), confirms it
    second_page = new_context().new_page()
    sign_in(second_page, live_server, worked_case.second)
    second_page.goto(f"{live_server.url}/staff/reviewer/?lang=en")
    violations = axe_violations(second_page)
    assert violations == [], describe_violations(violations)
    open_case(second_page, live_server, reference)
    violations = axe_violations(second_page)
    assert violations == [], describe_violations(violations)
    second_page.locator("#form-confirm button[type=submit]").click()
    second_page.wait_for_load_state()
    assert stage_of(live_server, reference) is Stage.INADMISSIBLE
    log = second_page.locator("main").inner_text()
    assert "not in the supply chain" in log
    violations = axe_violations(second_page)
    assert violations == [], describe_violations(violations)
