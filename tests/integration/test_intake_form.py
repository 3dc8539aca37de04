"""The web complaint form: filing without JavaScript, a receipt code shown once, errors
next to their fields with nothing lost, and no identifying value stored in clear."""

from __future__ import annotations

import html
import io
import re
import unicodedata

import pytest
from babel.support import Translations
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from grievance import LOCALES
from grievance.crypto.secrets import normalise_receipt_code
from grievance.extensions import db
from grievance.extensions import intake_limiter as limiter
from grievance.models import Anonymity, Case, Complainant, Stage
from grievance.services.filing import find_by_receipt
from tests.factories import make_mechanism
from tests.texts_rules import kept

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
    return client.post(f"/complaint?lang={lang}", follow_redirects=True, data=form)


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
        "/complaint", follow_redirects=True, data={"mechanism": "WEB", "statement": STATEMENT}
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
        st.characters(blacklist_categories=("Cs", "Cc"), whitelist_characters="\t\n\r"),
        min_size=1,
        max_size=400,
    ).filter(lambda value: kept(value) is not None)
)
def test_any_unicode_survives_the_form_unchanged(app, ctx, mechanism, statement):
    """Bidi controls, emoji, combining marks, any script: NFC-normalised, otherwise kept
    (what is refused, control characters and nothing visible: `test_input_hygiene.py`)."""
    limiter.reset()
    before = set(ctx.session.scalars(select(Case.id)))
    response = _post(app.test_client(), {"statement": statement})
    assert response.status_code == 200, response.get_data(as_text=True)[-500:]
    (case_id,) = set(ctx.session.scalars(select(Case.id))) - before
    case = ctx.session.get(Case, case_id)
    expected = unicodedata.normalize("NFC", statement).strip()
    assert ctx.vault.open(case.id, "statement", case.statement_enc) == expected


# -- a stale form (CSRF) loses nothing ----------------------------------------------------------

TYPED = {
    "statement": STATEMENT,
    "location": "Ashulia, লাইন ৭",
    "occurred": "গত মাসে",
    "companies": "Shapla Knit & <Co>",
    "country": "BD",
    "themes": ["living_wage", "working_hours"],
    "urgent": "yes",
    "anonymity": "confidential",
    "name": NAME,
    "contact": "sms",
    "phone": PHONE,
}


def _expired_post(app, lang: str = "en", **extra: object):
    """The form filled in a browser whose intake cookie is gone: its token is stale."""
    page = app.test_client().get("/complaint").get_data(as_text=True)
    stale = _token(page)
    client = app.test_client()  # no cookie: a new browser session
    form = {"csrf_token": stale, "mechanism": "WEB", "kind": "affected", **TYPED, **extra}
    return client, stale, client.post(f"/complaint?lang={lang}", follow_redirects=True, data=form)


def test_a_stale_form_comes_back_with_everything_written_and_a_fresh_token(app, ctx, mechanism):
    client, stale, response = _expired_post(app)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your complaint was not sent yet" in page
    assert "attach your files again" in page
    assert STATEMENT in page
    for value in ("Ashulia, লাইন ৭", "গত মাসে", NAME, PHONE):
        assert f'value="{value}"' in page
    assert 'value="Shapla Knit &amp; &lt;Co&gt;"' in page  # escaped, as always
    assert '<option selected value="BD">' in page
    for checked in ("living_wage", "working_hours", "confidential", "sms"):
        assert re.search(rf'<input checked[^>]*value="{checked}"', page), checked
    assert re.search(r'<input checked[^>]*name="urgent"[^>]*value="yes"', page)
    assert ctx.session.scalar(select(Case.id)) is None  # nothing filed
    fresh = _token(page)
    assert fresh != stale
    # sent again as it came back, with the fresh token: filed
    again = client.post(
        "/complaint?lang=en",
        follow_redirects=True,
        data={"csrf_token": fresh, "mechanism": "WEB", "kind": "affected", **TYPED},
    )
    assert again.status_code == 200, again.get_data(as_text=True)
    case = ctx.session.scalars(select(Case)).one()
    assert ctx.vault.open(case.id, "statement", case.statement_enc) == STATEMENT


def test_a_stale_form_says_so_in_the_readers_language(app, ctx, mechanism):
    _client, _stale, response = _expired_post(app, lang="bn")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<html lang="bn" dir="ltr">' in page
    assert "Your complaint was not sent yet" not in page
    assert _translations("bn").gettext("Your complaint was not sent yet") in page
    assert STATEMENT in page


def test_files_of_a_stale_form_are_not_read(app, ctx, mechanism):
    from grievance.models import PendingUpload

    pdf = FileStorage(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), filename="payslip.pdf")
    _client, _stale, response = _expired_post(app, files=[pdf])
    assert response.status_code == 400
    assert "payslip.pdf" not in response.get_data(as_text=True)
    assert ctx.session.scalar(select(PendingUpload.id)) is None


# -- WTForms' own messages come from our catalogs ----------------------------------------------


def _translations(lang: str) -> Translations:
    return Translations.load(str(LOCALES), [lang])


def _error_of(page: str, field: str) -> str:
    found = re.search(rf'<p class="error" id="{field}-error" role="alert">([^<]*)</p>', page)
    assert found, page
    return html.unescape(found.group(1))


@pytest.mark.parametrize("lang", ["bn", "nl"])
def test_wtforms_messages_are_translated(app, mechanism, lang):
    translations = _translations(lang)
    typed = {
        "statement": STATEMENT,
        "kind": "pigeon",  # not one of the choices
        "country": "XX",
        "themes": ["nonsense"],
        "urgent": "",  # no answer where one is needed
        "location": "x" * 501,
        "phone": "9" * 41,
    }
    page = _post(app.test_client(), typed, lang=lang).get_data(as_text=True)
    not_a_choice = translations.gettext("Not a valid choice.")
    too_long = translations.gettext("Please keep it under %(max)d characters.")
    one_theme = translations.ngettext(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
        1,
    )
    expected = {
        "kind": not_a_choice,
        "country": not_a_choice,
        "themes": one_theme % {"value": "nonsense"},
        "urgent": translations.gettext("Please choose one answer."),
        "location": too_long % {"max": 500},
        "phone": too_long % {"max": 40},
    }
    for field, message in expected.items():
        assert _error_of(page, field) == message, field
    for english in (
        "Not a valid choice",
        "is not a valid choice",
        "This field is required",
        "Field cannot be longer",
        "Please keep it under",
        "Please choose one answer",
    ):
        assert english not in page
