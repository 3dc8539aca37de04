"""The company portal in Debian's Chromium (#13): a company user signs in, finds the case
their company is party to, reports on an obligation and contests the classification;
at 320 px and 1280 px, in English and Arabic (right to left), nothing scrolls sideways
and axe-core (WCAG A and AA) finds nothing on the list and the case page."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import Page

from grievance.extensions import db
from grievance.http.context import service_context
from grievance.models import InvolvementKind, Leverage, Mechanism, Role
from grievance.services import accounts, involvement
from tests.browser.conftest import (
    LiveServer,
    NewContext,
    axe_violations,
    describe_violations,
)
from tests.browser.test_layout import WIDTHS
from tests.browser.test_reviewer_flow import Reviewer, sign_in
from tests.factories import classify, make_company, make_user, staff_case

pytestmark = pytest.mark.browser

VIEWPORTS = {"320px": {"width": 320, "height": 568}, "1280px": {"width": 1280, "height": 800}}


@pytest.fixture(scope="module")
def company_case(live_server: LiveServer) -> tuple[Reviewer, str]:
    """A case with a supplier that causes and a brand directly linked; a user of the
    supplier, enrolled."""
    with live_server.app.app_context():
        ctx = service_context()
        tex = ctx.session.query(Mechanism).filter_by(code="TEX").one()
        filed, lead, second = staff_case(ctx, mechanism=tex, language="en")
        supplier = make_company(ctx, tex, name=f"Portal Supplier {filed.case.id}")
        brand = make_company(ctx, tex, name=f"Portal Brand {filed.case.id}")
        for company in (supplier, brand):
            involvement.add_company(ctx, filed.case, company, accounts_actor(lead))
        classify(ctx, filed.case, supplier, InvolvementKind.CAUSE, lead, second, "Own payroll.")
        classify(
            ctx, filed.case, brand, InvolvementKind.LINKED, lead, second, "Buys from it.",
            leverage=Leverage.HELD,
        )  # fmt: skip
        user = make_user(ctx, Role.COMPANY, company=supplier)
        secret = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
        accounts.enrol_totp_secret(ctx, user, secret, last_step=None)
        db.session.commit()
        result = Reviewer(user.email, secret), filed.case.reference
        db.session.remove()
    return result


def another_user(live_server: LiveServer, email: str) -> Reviewer:
    """Another enrolled user of the same company: each sign-in its own one-time code."""
    from grievance.models import User

    with live_server.app.app_context():
        ctx = service_context()
        first = ctx.session.query(User).filter_by(email=email).one()
        user = make_user(ctx, Role.COMPANY, company=first.company)
        secret = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
        accounts.enrol_totp_secret(ctx, user, secret, last_step=None)
        db.session.commit()
        result = Reviewer(user.email, secret)
        db.session.remove()
    return result


def accounts_actor(user):  # type: ignore[no-untyped-def]
    from grievance.services.actors import Actor

    return Actor.for_user(user)


def _check(page: Page, width: int) -> None:
    measured = page.evaluate(WIDTHS)
    assert measured["scroll"] <= measured["client"], f"scrolls sideways at {width}: {measured}"
    violations = axe_violations(page)
    assert violations == [], describe_violations(violations)


def test_a_company_user_reports_and_contests(
    new_context: NewContext, live_server: LiveServer, company_case: tuple[Reviewer, str]
) -> None:
    user, reference = company_case
    page = new_context().new_page()
    sign_in(page, live_server, user)
    page.get_by_role("link", name="Your company's cases").click()
    page.wait_for_load_state()
    page.get_by_role("link", name=reference).click()
    page.wait_for_load_state()
    assert reference in page.locator("h1").inner_text()
    assert "Causes the harm" in page.inner_text("main")
    assert "Buys from it." not in page.inner_text("main")  # another company's rationale

    form = page.locator("#obligations form").first
    form.get_by_label("Fulfilled", exact=True).check()
    form.get_by_label("What was done, and why").fill("Night shifts ended on lines 4 to 9.")
    form.get_by_role("button", name="Send the report").click()
    page.wait_for_load_state()
    assert "Your report was sent to the reviewers for verification." in page.inner_text("main")

    page.get_by_label("We contest it").check()
    page.get_by_role("button", name="Send your answer to the reviewers").click()
    page.wait_for_load_state()
    assert "Give your reasons." in page.inner_text("main")  # and the choice kept
    assert page.get_by_label("We contest it").is_checked()
    page.get_by_label("Your reasons (needed to contest)").fill("Our payroll was audited.")
    page.get_by_role("button", name="Send your answer to the reviewers").click()
    page.wait_for_load_state()
    assert "Your answer was sent to the reviewers." in page.inner_text("main")


@pytest.mark.parametrize("lang", ["en", "ar"])
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_portal_reflows_and_passes_axe(
    new_context: NewContext,
    live_server: LiveServer,
    company_case: tuple[Reviewer, str],
    viewport: str,
    lang: str,
) -> None:
    first, reference = company_case
    page = new_context(viewport=VIEWPORTS[viewport]).new_page()
    sign_in(page, live_server, another_user(live_server, first.email))
    for path in ("/staff/company/", f"/staff/company/cases/{reference}"):
        page.goto(f"{live_server.url}{path}?lang={lang}")
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
        _check(page, VIEWPORTS[viewport]["width"])
