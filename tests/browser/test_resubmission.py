"""In a real browser (issue #15, items 1, 2 and 4): the receipt survives a reload, another
language and a resubmission of the form, which files nothing more; in Arabic, case
numbers and phone numbers are isolated left to right and never break over two lines."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from sqlalchemy import func, select

from grievance.extensions import db
from grievance.models import Case
from tests.browser.conftest import REFERENCE, LiveServer, NewContext, file_complaint, submit

pytestmark = pytest.mark.browser


def _cases(server: LiveServer) -> int:
    with server.app.app_context():
        return db.session.scalar(select(func.count(Case.id))) or 0


@pytest.mark.parametrize("javascript", [False, True])
def test_the_receipt_survives_reload_language_and_resubmission(
    new_context: NewContext, live_server: LiveServer, javascript: bool
) -> None:
    page: Page = new_context(java_script_enabled=javascript).new_page()
    before = _cases(live_server)
    filed = file_complaint(page, "ar", "يُغلق باب الطوارئ في المصنع بالقفل كل ليلة.")
    assert _cases(live_server) == before + 1
    assert page.url == f"{live_server.url}/complaint/receipt"

    page.reload()
    assert page.locator(".receipt-code").inner_text().strip() == filed.code
    # the language links keep the receipt
    page.locator('nav.languages a[hreflang="bn"]').click()
    assert page.locator("html").get_attribute("lang") == "bn"
    assert page.locator(".receipt-code").inner_text().strip() == filed.code
    # back to the form, as the browser kept it, and send it again: the same case
    page.go_back()
    page.go_back()
    if page.url.endswith("/complaint?lang=ar") and page.locator("#statement").input_value():
        assert submit(page, "/complaint") == 200
        assert page.locator(".receipt-code").inner_text().strip() == filed.code
    assert _cases(live_server) == before + 1
    # the receipt leads to the follow-up
    page.goto("/complaint/receipt?lang=en")
    page.locator('main a[href="/follow-up"]').click()
    assert page.url == f"{live_server.url}/follow-up"


def test_arabic_isolates_case_numbers_and_phone_numbers(
    new_context: NewContext, live_server: LiveServer
) -> None:
    page: Page = new_context(viewport={"width": 320, "height": 640}).new_page()
    file_complaint(page, "ar", "يُغلق باب الطوارئ في المصنع بالقفل كل ليلة.")
    reference = page.locator("main bdi.ltr").first
    assert REFERENCE.fullmatch(reference.inner_text())
    style = reference.evaluate(
        "e => [getComputedStyle(e).direction, getComputedStyle(e).whiteSpace,"
        " e.getClientRects().length]"
    )
    assert style == ["ltr", "nowrap", 1]  # one box: never broken over two lines

    page.goto("/?lang=ar")
    numbers = page.locator(".other-ways bdi.ltr")
    assert numbers.count() >= 1
    for index in range(numbers.count()):
        number = numbers.nth(index)
        assert number.inner_text().startswith("+")  # "+31...", not "...31+"
        assert number.evaluate("e => getComputedStyle(e).direction") == "ltr"
        assert number.evaluate("e => e.getClientRects().length") == 1
