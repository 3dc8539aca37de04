"""A complaint sent twice files once (issue #15, item 1): a reload of the form's POST, a
double tap, a retry after a lost response; the person still sees their receipt code,
which is never kept in clear."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from grievance.models import Case, FilingSubmission
from grievance.services import submissions
from tests.factories import make_mechanism

STATEMENT = "তিন মাস ধরে ওভারটাইমের টাকা পাইনি।"


@pytest.fixture
def mechanism(ctx):
    return make_mechanism(ctx, code="WEB")


def _cases(ctx) -> int:
    return ctx.session.scalar(select(func.count(Case.id))) or 0


def _form(client, lang: str = "bn") -> dict[str, object]:
    page = client.get(f"/complaint?lang={lang}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    submission = re.search(r'name="submission" value="([^"]+)"', page)
    assert token
    assert submission
    return {
        "csrf_token": token.group(1),
        "submission": submission.group(1),
        "mechanism": "WEB",
        "urgent": "no",
        "kind": "affected",
        "anonymity": "anonymous",
        "contact": "none",
        "statement": STATEMENT,
        "themes": ["living_wage"],
        "country": "BD",
    }


def _code(page: str) -> str:
    shown = re.search(r'class="receipt-code"[^>]*><strong>([0-9 ]+)</strong>', page)
    assert shown, page
    return shown.group(1)


def test_the_same_form_sent_again_files_once_and_shows_the_same_receipt(app, ctx, mechanism):
    client = app.test_client()
    form = _form(client)
    first = client.post("/complaint?lang=bn", data=form)
    assert first.status_code == 303
    assert first.headers["Location"].endswith("/complaint/receipt")
    receipt = client.get("/complaint/receipt").get_data(as_text=True)
    code = _code(receipt)
    # a reload of the POST, a double tap, a retry after a lost response
    again = client.post("/complaint?lang=bn", data=form, follow_redirects=True)
    assert again.status_code == 200
    assert _code(again.get_data(as_text=True)) == code
    assert _cases(ctx) == 1
    # a reload of the receipt page, and another language, show it again and file nothing
    for path in ("/complaint/receipt", "/complaint/receipt?lang=ar", "/complaint/receipt?lang=en"):
        page = client.get(path).get_data(as_text=True)
        assert _code(page) == code
    assert _cases(ctx) == 1
    # the code is nowhere in clear in the database
    digits = code.replace(" ", "").encode()
    for row in ctx.session.scalars(select(FilingSubmission)):
        assert digits not in (row.receipt_enc or b"")
        assert digits not in row.key_hash + row.fingerprint


def test_the_receipt_page_leads_to_the_follow_up_and_isolates_the_case_number(app, mechanism):
    client = app.test_client()
    client.post("/complaint?lang=ar", data=_form(client, "ar"))
    page = client.get("/complaint/receipt?lang=ar").get_data(as_text=True)
    assert 'href="/follow-up"' in page
    assert re.search(r'<bdi dir="ltr" class="ltr">WEB-\d{4}-\d+</bdi>', page)


def test_a_changed_form_sent_again_is_another_complaint(app, ctx, mechanism):
    client = app.test_client()
    form = _form(client)
    client.post("/complaint?lang=bn", data=form)
    client.post("/complaint?lang=bn", data={**form, "statement": STATEMENT + " আরও একটি।"})
    assert _cases(ctx) == 2


def test_after_a_few_minutes_the_code_is_shown_no_more_but_nothing_is_filed_again(
    app, ctx, clock, mechanism
):
    client = app.test_client()
    form = _form(client)
    client.post("/complaint?lang=bn", data=form)
    clock.advance(submissions.RECEIPT_SHOWN + timedelta(seconds=1))
    page = client.post("/complaint?lang=en", data=form, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert 'class="receipt-code"' not in text
    assert "no longer shown" in text
    assert re.search(r"WEB-\d{4}-\d+", text)
    assert _cases(ctx) == 1


def test_a_browser_that_filed_nothing_gets_the_form_at_the_receipt_page(app, mechanism):
    response = app.test_client().get("/complaint/receipt")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/complaint")


# -- the JSON API ------------------------------------------------------------------------


def _api(client, key: str | None, **extra):
    body = {"mechanism": "WEB", "language": "bn", "statement": STATEMENT, **extra}
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/api/v1/complaints", json=body, headers=headers)


def test_an_api_retry_with_the_same_key_gets_the_same_case_and_receipt(app, ctx, mechanism):
    client = app.test_client()
    first = _api(client, "8f14e45f-ceea-467f-a0e6-3e2c1b1f7a10")
    again = _api(client, "8f14e45f-ceea-467f-a0e6-3e2c1b1f7a10")
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _cases(ctx) == 1
    _api(client, "another-key")
    _api(client, None)
    _api(client, None)
    assert _cases(ctx) == 4  # without a key, or with another one, each request files


def test_an_api_key_reused_for_another_complaint_is_refused(app, ctx, mechanism):
    client = app.test_client()
    _api(client, "k-1")
    other = _api(client, "k-1", statement="Something else")
    assert other.status_code == 422
    assert other.get_json()["errors"][0]["path"] == "Idempotency-Key"
    assert _cases(ctx) == 1


def test_an_api_retry_after_the_code_is_shown_no_more_files_nothing(app, ctx, clock, mechanism):
    client = app.test_client()
    reference = _api(client, "k-2").get_json()["reference"]
    clock.advance(submissions.RECEIPT_SHOWN + timedelta(minutes=1))
    late = _api(client, "k-2")
    assert late.status_code == 409
    assert reference in late.get_json()["errors"][0]["message"]
    assert _cases(ctx) == 1


@pytest.mark.parametrize("key", ["", "with space", "é", "x" * 256])
def test_an_api_key_of_another_shape_is_refused(app, ctx, mechanism, key):
    response = _api(app.test_client(), key)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["path"] == "Idempotency-Key"
    assert _cases(ctx) == 0


def test_the_openapi_document_names_the_header(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    parameters = document["paths"]["/api/v1/complaints"]["post"]["parameters"]
    assert parameters[0]["name"] == "Idempotency-Key"


def test_old_rows_are_emptied_then_forgotten(app, ctx, clock, mechanism):
    client = app.test_client()
    _api(client, "k-3")
    clock.advance(submissions.RECEIPT_SHOWN + timedelta(seconds=1))
    _api(client, "k-4")  # each filing purges
    rows = {row.receipt_enc is None for row in ctx.session.scalars(select(FilingSubmission))}
    assert rows == {True, False}
    clock.advance(submissions.KEPT + timedelta(seconds=1))
    _api(client, "k-5")
    assert ctx.session.scalar(select(func.count(FilingSubmission.id))) == 1


def test_another_browser_sees_no_receipt(app, mechanism):
    """The receipt page shows what this browser session filed, to nobody else."""
    client = app.test_client()
    client.post("/complaint?lang=bn", data=_form(client))
    other = app.test_client()
    response = other.get("/complaint/receipt")
    assert response.status_code == 302
    assert 'class="receipt-code"' not in response.get_data(as_text=True)
