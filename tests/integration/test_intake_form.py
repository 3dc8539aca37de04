"""The web complaint form: filing without JavaScript, a receipt code shown once, errors
next to their fields with nothing lost, and no identifying value stored in clear."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from grievance.crypto.secrets import normalise_receipt_code
from grievance.extensions import db, limiter
from grievance.models import Anonymity, Case, Complainant, Stage
from grievance.services.filing import find_by_receipt
from tests.factories import make_mechanism

NAME = "Rahela Khatun Demo"
PHONE = "+8801711987654"
STATEMENT = "আমাদের তিন মাসের ওভারটাইমের টাকা দেওয়া হয়নি। লাইন ৭।"


@pytest.fixture
def mechanism(ctx):
    return make_mechanism(ctx, code="WEB")


def _token(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "no CSRF token on the form"
    return match.group(1)


def _post(client, data: dict[str, object], lang: str = "en"):
    page = client.get(f"/complaint?lang={lang}").get_data(as_text=True)
    form = {
        "csrf_token": _token(page),
        "mechanism": "WEB",
        "urgent": "no",
        "kind": "affected",
        "anonymity": "anonymous",
        "contact": "none",
    }
    form.update(data)
    return client.post(f"/complaint?lang={lang}", data=form)


def test_the_form_works_without_javascript_in_the_readers_language(app, mechanism):
    client = app.test_client()
    response = client.get("/complaint?lang=bn")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="bn" dir="ltr">' in page
    assert "<script" not in page
    assert len(response.data) < 60_000
    assert 'name="statement"' in page
    assert 'name="anonymity"' in page
    assert '="None"' not in page  # an attribute without a value is left out
    assert 'aria-labelledby="files-legend"' in page  # the file picker is named
    assert response.headers["Cache-Control"] == "no-store"
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("intake=") for c in cookies)
    assert not any(c.startswith("staff=") for c in cookies)


def test_arabic_is_laid_out_right_to_left(app, mechanism):
    page = app.test_client().get("/complaint?lang=ar").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in page


def test_filing_shows_the_receipt_code_once_and_files_the_case(app, ctx, mechanism):
    client = app.test_client()
    response = _post(
        client,
        {"statement": STATEMENT, "themes": ["living_wage", "working_hours"], "country": "BD"},
        lang="bn",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert response.headers["Cache-Control"] == "no-store"
    shown = re.search(r'class="receipt-code"[^>]*><strong>([0-9 ]+)</strong>', page)
    assert shown, page
    code = normalise_receipt_code(shown.group(1))
    assert code is not None
    complainant = find_by_receipt(ctx, mechanism, code)
    assert complainant is not None
    case = ctx.session.get(Case, complainant.case_id)
    assert case.stage is Stage.RECEIVED
    assert case.language == "bn"
    assert case.theme_codes == ["living_wage", "working_hours"]
    assert ctx.vault.open(case.id, "statement", case.statement_enc) == STATEMENT
    assert case.reference in page
    # the code is in no column and no header
    for table in db.metadata.sorted_tables:
        for row in ctx.session.execute(select(table)):
            assert code not in repr(tuple(row))
    assert code not in str(response.headers)


def test_identifying_values_are_stored_only_encrypted(app, ctx, mechanism):
    response = _post(
        app.test_client(),
        {
            "statement": STATEMENT,
            "anonymity": "confidential",
            "name": NAME,
            "contact": "sms",
            "phone": PHONE,
        },
    )
    assert response.status_code == 200
    person = ctx.session.scalars(select(Complainant)).one()
    assert person.anonymity is Anonymity.CONFIDENTIAL
    for table in db.metadata.sorted_tables:
        for row in ctx.session.execute(select(table)):
            raw = repr(tuple(row)).encode() + b"".join(v for v in row if isinstance(v, bytes))
            for secret in (NAME, PHONE, STATEMENT):
                assert secret.encode() not in raw, (table.name, secret)
                assert secret not in repr(tuple(row))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"statement": ""}, "statement", "Tell us what happened."),
        ({"kind": "union", "represents": ""}, "represents", "Say whom you represent."),
        ({"anonymity": "anonymous", "name": NAME}, "name", "leave your name out"),
        ({"contact": "sms", "phone": "01711"}, "phone", "country code"),
        ({"contact": "email", "email": "nobody"}, "email", "e-mail address"),
        (
            {"share_identity": "y", "anonymity": "confidential"},
            "share_identity",
            "Only an open complaint",
        ),
    ],
)
def test_bad_answers_are_shown_next_to_their_field_and_nothing_is_lost(
    app, ctx, mechanism, data, field, message
):
    typed = {"statement": STATEMENT, "location": "Ashulia, লাইন ৭", "occurred": "গত মাসে", **data}
    response = _post(app.test_client(), typed)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(rf'<p class="error" id="{field}-error" role="alert">([^<]*)</p>', page)
    if field == "share_identity":
        assert message in page
    else:
        assert error, page
        assert message in error.group(1)
        assert f'aria-describedby="{field}-error"' in page or f'{field}-error"' in page
    for value in ("Ashulia, লাইন ৭", "গত মাসে"):
        assert value in page
    if typed["statement"]:
        assert STATEMENT in page
    assert ctx.session.scalar(select(Case.id)) is None


def test_errors_are_translated(app, mechanism):
    page = _post(app.test_client(), {"statement": ""}, lang="nl").get_data(as_text=True)
    assert "Vertel ons wat er is gebeurd." in page


def test_a_post_without_the_csrf_token_is_refused(app, ctx, mechanism):
    response = app.test_client().post(
        "/complaint", data={"mechanism": "WEB", "statement": STATEMENT}
    )
    assert response.status_code == 400
    assert ctx.session.scalar(select(Case.id)) is None


@pytest.mark.parametrize(
    "statement",
    [
        "Tiê\u0300n lương",  # decomposed Vietnamese: stored composed
        "\u202eevil\u202c and \u200f marks",  # bidi controls are kept, not interpreted
        "😀👩🏽‍🏭 ما دفعوا الأجور",
        "x" * 19_000,
    ],
)
def test_every_code_point_survives(app, ctx, mechanism, statement):
    response = _post(app.test_client(), {"statement": statement})
    assert response.status_code == 200
    case = ctx.session.scalars(select(Case)).one()
    assert ctx.vault.open(case.id, "statement", case.statement_enc) == unicodedata.normalize(
        "NFC", statement
    )


def test_filing_is_rate_limited_per_client(app, ctx, mechanism):
    client = app.test_client()
    statuses = [_post(client, {"statement": ""}).status_code for _ in range(21)]
    assert statuses[:20] == [422] * 20
    assert statuses[20] == 429


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    statement=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        min_size=1,
        max_size=400,
    ).filter(lambda value: value.strip())
)
def test_any_unicode_survives_the_form_unchanged(app, ctx, mechanism, statement):
    """Bidi controls, emoji, combining marks, any script: NFC-normalised, otherwise kept."""
    limiter.reset()
    before = set(ctx.session.scalars(select(Case.id)))
    response = _post(app.test_client(), {"statement": statement})
    assert response.status_code == 200, response.get_data(as_text=True)[-500:]
    (case_id,) = set(ctx.session.scalars(select(Case.id))) - before
    case = ctx.session.get(Case, case_id)
    expected = unicodedata.normalize("NFC", statement).strip()
    assert ctx.vault.open(case.id, "statement", case.statement_enc) == expected
