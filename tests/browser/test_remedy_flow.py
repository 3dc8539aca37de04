"""The remedy loop in the real pages (issue #13, item 5), in Debian's Chromium: a
reviewer drafts the plan and asks the complainant; the complainant agrees on the
follow-up page; two reviewers approve; the supplier's user reports the item done with an
evidence photo; the second reviewer verifies it; the complainant confirms it in Bengali,
and the follow-up page shows every item and its status in Bengali. axe-core finds
nothing on the remedy pages at 320 px and 1280 px."""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from PIL import Image
from playwright.sync_api import Page

from grievance.extensions import db
from grievance.http.context import service_context
from grievance.models import Case, Mechanism, RemedyAction, Role, Stage
from grievance.services import accounts, involvement
from grievance.services.actors import Actor
from tests.browser.conftest import (
    LiveServer,
    NewContext,
    axe_violations,
    describe_violations,
)
from tests.browser.conftest import sign_in as followup_sign_in
from tests.factories import PASSWORD, make_company, make_user, staff_case, walk_to

pytestmark = pytest.mark.browser

DESCRIPTION = "Back pay of the unpaid overtime for the sewing lines."
WIDTHS = (320, 1280)


@dataclass(frozen=True)
class Person:
    email: str
    secret: bytes


@dataclass(frozen=True)
class World:
    reference: str
    code: str
    lead: Person
    second: Person
    supplier: Person


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> World:
    with live_server.app.app_context():
        ctx = service_context()
        tex = ctx.session.query(Mechanism).filter_by(code="TEX").one()
        filed, lead, second = staff_case(ctx, mechanism=tex, language="bn")
        walk_to(ctx, filed, Stage.REMEDY_PLAN, lead, second)
        company = make_company(ctx, tex, name="Remedy Flow Knitting Ltd")
        involvement.add_company(ctx, filed.case, company, Actor.for_user(lead))
        supplier = make_user(ctx, Role.COMPANY, company=company)
        people = []
        for user in (lead, second, supplier):
            secret = secrets.token_bytes(accounts.TOTP_SECRET_BYTES)
            accounts.enrol_totp_secret(ctx, user, secret, last_step=None)
            people.append(Person(user.email, secret))
        db.session.commit()
        found = World(filed.case.reference, filed.receipt_code, *people)
        db.session.remove()
    return found


def staff_sign_in(page: Page, person: Person) -> None:
    page.goto("/staff/sign-in?lang=en")
    page.fill("input[type=email]", person.email)
    page.fill("input[type=password]", PASSWORD)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()
    code = accounts.totp_code(person.secret, accounts.totp_step(datetime.now(UTC)))
    page.fill("input[name=code]", code)
    page.locator("form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert "/staff/sign-in" not in page.url, page.locator("main").inner_text()


def accessible(page: Page) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        violations = axe_violations(page)
        assert violations == [], f"{width} px:\n{describe_violations(violations)}"


def press(page: Page, form: str) -> None:
    page.locator(f"{form} button[type=submit]").click()
    page.wait_for_load_state()


def the_case(live_server: LiveServer, reference: str) -> tuple[Stage, RemedyAction | None]:
    with live_server.app.app_context():
        case = db.session.query(Case).filter_by(reference=reference).one()
        item = db.session.query(RemedyAction).filter_by(case_id=case.id).first()
        found = (case.stage, item)
        db.session.remove()
    return found


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(out, "JPEG")
    return out.getvalue()


def test_the_remedy_loop_from_the_plan_to_the_complainants_confirmation(
    new_context: NewContext, live_server: LiveServer, world: World
) -> None:
    remedy = f"/staff/reviewer/cases/{world.reference}/remedy?lang=en"
    lead = new_context().new_page()
    staff_sign_in(lead, world.lead)
    lead.goto(f"/staff/reviewer/cases/{world.reference}?lang=en")
    lead.get_by_role("link", name="The remedy plan").click()
    lead.wait_for_load_state()
    accessible(lead)

    # the plan: one item of the supplier, then put to the complainant
    lead.select_option("#draft-remedy_type", "compensation_financial")
    lead.fill("#draft-description", DESCRIPTION)
    lead.select_option("#draft-company", label="Remedy Flow Knitting Ltd")
    lead.fill("#draft-beneficiary_count", "212")
    lead.fill("#draft-beneficiaries", "Sewing operators")
    press(lead, "#form-draft")
    assert DESCRIPTION in lead.locator("main").inner_text()
    press(lead, "#form-put")
    accessible(lead)

    # the complainant agrees on the follow-up page, in Bengali
    complainant = new_context().new_page()
    assert followup_sign_in(complainant, world.code, "bn") == 200
    complainant.goto("/follow-up/case?lang=bn")
    assert DESCRIPTION in complainant.locator("main").inner_text()
    accessible(complainant)
    complainant.locator(".remedy-question input[value=agree]").check()
    press(complainant, ".remedy-question")

    # four eyes: the lead proposes, the second confirms
    lead.goto(remedy)
    lead.fill("#propose_approval-reason", "The complainant agreed to the plan.")
    press(lead, "#form-propose_approval")
    second = new_context().new_page()
    staff_sign_in(second, world.second)
    second.goto(remedy)
    press(second, "#form-confirm_approval")
    assert the_case(live_server, world.reference)[0] is Stage.REMEDY_IMPLEMENTATION

    # the supplier reports the item done, with a photo as evidence
    supplier = new_context().new_page()
    staff_sign_in(supplier, world.supplier)
    supplier.goto(f"/staff/company/cases/{world.reference}/remedy?lang=en")
    accessible(supplier)
    item = the_case(live_server, world.reference)[1]
    assert item is not None
    supplier.fill(f"#report-{item.id}-note", "Paid into every worker's account.")
    supplier.check(f"#report-{item.id}-completed")
    supplier.set_input_files(
        f"#report-{item.id}-files",
        files=[{"name": "bank-slips.jpg", "mimeType": "image/jpeg", "buffer": _photo()}],
    )
    press(supplier, f"form:has(#report-{item.id}-note)")
    assert "Reported done" in supplier.locator("main").inner_text()

    # the second reviewer sees the evidence and verifies
    second.goto(remedy)
    assert second.get_by_role("link", name="File 1").count() == 1
    press(second, "form:has(textarea[name=verify-note])")
    accessible(second)

    # the complainant confirms it in Bengali; the page shows the item and its status
    complainant.goto("/follow-up/case?lang=bn")
    complainant.locator(f"#item-{item.id}-confirmed").check()
    press(complainant, f"form:has(#item-{item.id}-confirmed)")
    complainant.goto("/follow-up/case?lang=bn")
    text = complainant.locator("#remedy-plan ~ article").first.inner_text()
    assert DESCRIPTION in text
    assert "সম্পন্ন বলে জানানো হয়েছে" in text  # reported done
    assert "পর্যালোচকেরা যাচাই করেছেন" in text  # verified by the reviewers
    assert "হ্যাঁ, এটি হয়েছে" in text  # yes, this happened
    accessible(complainant)
    with live_server.app.app_context():
        found = db.session.get(RemedyAction, item.id)
        assert found is not None
        assert found.complainant_response is not None
        assert found.verified_at is not None
        db.session.remove()
