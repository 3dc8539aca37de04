"""The complaint form and the follow-up pages work with JavaScript switched off: a person
files, gets a receipt code, opens their case with it and writes to the reviewers; a
form with a mistake comes back with the mistake marked and every other answer kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page

from tests.browser.conftest import (
    RECEIPT_CODE,
    REVIEWER_MESSAGE,
    STATEMENT,
    LiveServer,
    NewContext,
    file_complaint,
    fill_complaint,
    sign_in,
    submit,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def no_script_page(new_context: NewContext) -> Page:
    page = new_context(java_script_enabled=False).new_page()
    return page


def test_file_then_follow_up_and_write_without_javascript(
    no_script_page: Page, live_server: LiveServer
) -> None:
    page = no_script_page
    filed = file_complaint(page, "en", STATEMENT)

    assert page.locator("h1").inner_text() == "We received your complaint"
    assert RECEIPT_CODE.match(filed.code), filed.code  # 16 digits, in groups of four
    assert f"Case number: {filed.reference}" in page.locator("main").inner_text()
    assert page.url == f"{live_server.url}/complaint/receipt"  # the code is never in a URL

    assert sign_in(page, filed.code) == 200
    assert page.url == f"{live_server.url}/follow-up/case"
    assert filed.reference in page.locator("h1").inner_text()
    assert page.locator(".message").count() == 0

    message = "ধন্যবাদ। আমার কাছে বেতনের স্লিপের ছবি আছে।"
    page.fill("#body", message)
    assert submit(page, "/follow-up/case") == 200
    assert page.url == f"{live_server.url}/follow-up/case#messages"
    mine = page.locator(".message.mine .body")
    assert mine.count() == 1
    assert mine.inner_text() == message
    assert page.locator(".message.mine .meta").inner_text().startswith("You,")


FLOWS = {
    # the person's language: their statement, then a message to the reviewers
    "bn": ("কারখানায় আগুনের দরজা তালা দেওয়া থাকে। লাইন ৪।", "আরও একটি ছবি পাঠালাম।"),
    "ar": ("يُغلق باب الطوارئ في المصنع بالقفل كل ليلة.", "أرسلتُ صورة أخرى للباب."),
}


@pytest.mark.parametrize("lang", sorted(FLOWS))
def test_a_complaint_in_the_persons_language_from_start_to_finish(
    no_script_page: Page, live_server: LiveServer, lang: str, tmp_path: Path
) -> None:
    """Filed in Bengali or Arabic with a photo, opened again with the receipt code, and a
    message with another photo sent to the reviewers: every character kept."""
    page = no_script_page
    statement, message = FLOWS[lang]
    photo = tmp_path / "door.jpg"
    Image.new("RGB", (64, 48), "grey").save(photo, "JPEG")

    page.goto(f"/complaint?lang={lang}")
    assert page.locator("html").get_attribute("lang") == lang
    fill_complaint(page, statement)
    page.set_input_files("#files", str(photo))
    assert submit(page, "/complaint") == 200
    code = page.locator(".receipt-code").inner_text().strip()
    assert RECEIPT_CODE.match(code), code

    assert sign_in(page, code, lang) == 200
    assert page.url == f"{live_server.url}/follow-up/case"
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    assert page.locator(".files li").count() == 1
    page.fill("#body", message)
    page.set_input_files("#files", str(photo))
    assert submit(page, "/follow-up/case") == 200
    assert page.locator(".message.mine .body").inner_text() == message
    assert page.locator(".files li").count() == 2
    with page.expect_download() as download:
        page.locator(".files li a").first.click()
    assert download.value.suggested_filename == "door.jpg"


def test_the_conversation_shows_the_reviewers_messages(
    no_script_page: Page, live_server: LiveServer
) -> None:
    sign_in(no_script_page, live_server.code)
    assert no_script_page.locator(".message.theirs .body").inner_text() == REVIEWER_MESSAGE
    assert no_script_page.locator(".message.theirs .meta").inner_text().startswith("The reviewers")


def test_the_code_as_written_on_the_receipt_and_without_spaces_both_open_the_case(
    no_script_page: Page, live_server: LiveServer
) -> None:
    spaced = " ".join(live_server.code[i : i + 4] for i in range(0, 16, 4))
    for code in (spaced, live_server.code):
        sign_in(no_script_page, code)
        assert no_script_page.url == f"{live_server.url}/follow-up/case"
        no_script_page.context.clear_cookies()


def test_a_wrong_code_is_refused_next_to_the_field(no_script_page: Page) -> None:
    assert sign_in(no_script_page, "1234 5678 9012 3456") == 401
    code = no_script_page.locator("#code")
    assert code.get_attribute("aria-invalid") == "true"
    assert "code-error" in (code.get_attribute("aria-describedby") or "").split()
    error = no_script_page.locator(".field.has-error #code-error")
    assert error.get_attribute("role") == "alert"
    assert "We do not know this code" in error.inner_text()


def test_a_missing_statement_comes_back_marked_with_every_other_answer_kept(
    no_script_page: Page,
) -> None:
    page = no_script_page
    page.goto("/complaint?lang=en")
    page.check('input[name="mechanism"][value="TEX"]')
    page.select_option("#country", "BD")
    page.fill("#location", "Gazipur, sewing line 9")
    page.fill("#occurred", "Since January")
    page.fill("#companies", "Duinroos Fashion B.V.")
    page.check('input[name="themes"][value="living_wage"]')
    page.check('input[name="urgent"][value="yes"]')
    page.check('input[name="kind"][value="union"]')
    page.fill("#represents", "The 40 workers of sewing line 9")
    page.check('input[name="anonymity"][value="confidential"]')
    page.fill("#name", "Shapla Begum")
    page.check('input[name="contact"][value="email"]')
    page.fill("#email", "shapla@example.org")
    page.check("#publish_summary")

    assert submit(page, "/complaint") == 422

    # the error, next to its field and tied to it
    statement = page.locator("#statement")
    assert statement.get_attribute("aria-invalid") == "true"
    assert "statement-error" in (statement.get_attribute("aria-describedby") or "").split()
    field = page.locator(".field.has-error", has=statement)
    assert field.locator("#statement-error").inner_text() == "Tell us what happened."
    assert page.locator(".has-error").count() == 1
    # the summary names the field and links to it
    summary = page.locator(".error-summary")
    assert summary.get_attribute("role") == "alert"
    links = summary.locator("a")
    assert links.count() == 1
    assert links.get_attribute("href") == "#statement"
    assert links.inner_text() == "What happened?"
    # every other answer is kept
    assert page.is_checked('input[name="mechanism"][value="TEX"]')
    assert page.input_value("#country") == "BD"
    assert page.input_value("#location") == "Gazipur, sewing line 9"
    assert page.input_value("#occurred") == "Since January"
    assert page.input_value("#companies") == "Duinroos Fashion B.V."
    assert page.is_checked('input[name="themes"][value="living_wage"]')
    assert page.is_checked('input[name="urgent"][value="yes"]')
    assert page.is_checked('input[name="kind"][value="union"]')
    assert page.input_value("#represents") == "The 40 workers of sewing line 9"
    assert page.is_checked('input[name="anonymity"][value="confidential"]')
    assert page.input_value("#name") == "Shapla Begum"
    assert page.is_checked('input[name="contact"][value="email"]')
    assert page.input_value("#email") == "shapla@example.org"
    assert page.is_checked("#publish_summary")
    assert not page.is_checked("#share_identity")

    # and once the statement is there, the same answers file the complaint
    page.fill("#statement", STATEMENT)
    assert submit(page, "/complaint") == 200
    assert RECEIPT_CODE.match(page.locator(".receipt-code").inner_text().strip())


def test_an_empty_message_is_refused_in_place(
    no_script_page: Page, live_server: LiveServer
) -> None:
    sign_in(no_script_page, live_server.code)
    no_script_page.fill("#body", "   ")
    assert submit(no_script_page, "/follow-up/case") == 422
    body = no_script_page.locator("#body")
    assert body.get_attribute("aria-invalid") == "true"
    error = no_script_page.locator(".field.has-error #body-error")
    assert error.get_attribute("role") == "alert"
    assert error.inner_text().startswith("Write a message")
